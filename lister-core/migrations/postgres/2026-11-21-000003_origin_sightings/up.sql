-- Origins as listing pages commit them: appended in the page's transaction (a heap and one
-- sequential index, no trigger), then folded into listed_origins in large sorted batches (at
-- the end of a run, every minute during one, and before any read).
CREATE TABLE origin_sightings (
    id BIGSERIAL PRIMARY KEY,
    lister_id BIGINT NOT NULL, -- a registered lister (not declared: see below)
    url TEXT NOT NULL,
    visit_type TEXT NOT NULL,
    seen_at TIMESTAMP NOT NULL,
    last_update TIMESTAMP,
    enabled BOOLEAN NOT NULL,
    is_fork BOOLEAN,
    extra_loader_arguments TEXT NOT NULL
);

-- PostgreSQL checks a foreign key with one query per row: an eighth of a fold's time, and as
-- much again when pages are appended. Sightings and listed origins only ever get the id of a lister that a run registered,
-- and listers are never deleted, so the key is kept by construction instead.
ALTER TABLE listed_origins DROP CONSTRAINT listed_origins_lister_id_fkey;
