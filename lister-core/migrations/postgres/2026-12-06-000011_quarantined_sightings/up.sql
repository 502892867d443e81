-- Sightings the database refused to fold into listed_origins, each with the database's
-- reason: kept for the operator to read, out of the way of every later fold.
CREATE TABLE quarantined_sightings (
    id BIGINT PRIMARY KEY,
    lister_id BIGINT NOT NULL,
    url TEXT NOT NULL,
    visit_type TEXT NOT NULL,
    seen_at TIMESTAMP NOT NULL,
    last_update TIMESTAMP,
    enabled BOOLEAN NOT NULL,
    is_fork BOOLEAN,
    extra_loader_arguments TEXT NOT NULL,
    reason TEXT NOT NULL,
    quarantined_at TIMESTAMP NOT NULL
);
CREATE INDEX quarantined_sightings_lister ON quarantined_sightings (lister_id);
