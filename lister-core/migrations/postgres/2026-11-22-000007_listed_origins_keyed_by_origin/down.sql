-- listed_origins keyed by lister first, with an index by origin (see up.sql).
ALTER TABLE listed_origins DROP CONSTRAINT listed_origins_pkey,
    ADD PRIMARY KEY (lister_id, url, visit_type);
-- Finds the listings of an origin (which lister listed it).
CREATE INDEX listed_origins_origin ON listed_origins (url, visit_type);
