-- listed_origins keyed by origin first, `(url, visit_type, lister_id)`: lookups by origin (the
-- queue's) use a prefix of the primary key, so `listed_origins_origin` goes, and with it one
-- index insert per new origin. A fold inserts in the key's order. Over 5 interleaved runs of
-- 100,000 origins, the server used 6 % less CPU.
ALTER TABLE listed_origins DROP CONSTRAINT listed_origins_pkey,
    ADD PRIMARY KEY (url, visit_type, lister_id);
DROP INDEX listed_origins_origin;
