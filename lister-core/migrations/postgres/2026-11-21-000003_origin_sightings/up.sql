-- Origins as listing pages commit them: appended in the page's transaction (a heap and one
-- sequential index, no trigger), then folded into listed_origins in large sorted batches (at
-- the end of a run, every minute during one, and before any read).
CREATE TABLE origin_sightings (
    id BIGSERIAL PRIMARY KEY,
    lister_id BIGINT NOT NULL REFERENCES listers (id),
    url TEXT NOT NULL,
    visit_type TEXT NOT NULL,
    seen_at TIMESTAMP NOT NULL,
    last_update TIMESTAMP,
    enabled BOOLEAN NOT NULL,
    is_fork BOOLEAN,
    extra_loader_arguments TEXT NOT NULL
);
