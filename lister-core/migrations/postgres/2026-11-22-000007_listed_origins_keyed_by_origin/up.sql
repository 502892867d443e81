-- listed_origins keyed by origin first, `(url, visit_type, lister_id)`: lookups by origin (the
-- queue's) use a prefix of the primary key, so `listed_origins_origin` goes, and with it one
-- index insert per new origin. A fold inserts in the key's order. In 5 and then 6 interleaved
-- pairs of 100,000-origin runs, the server used 6 % and 11 % less CPU.
ALTER TABLE listed_origins DROP CONSTRAINT listed_origins_pkey,
    ADD PRIMARY KEY (url, visit_type, lister_id);
DROP INDEX listed_origins_origin;
