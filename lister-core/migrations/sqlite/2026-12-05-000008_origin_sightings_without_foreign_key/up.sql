-- origin_sightings without its foreign key to listers, as on PostgreSQL. With foreign keys on,
-- SQLite looked up the lister for every sighting a page appended, and deleted a fold's
-- sightings row by row: a table that is the child of a foreign key never gets SQLite's
-- truncate optimization. The store only writes the id of a lister it registered, and listers
-- are never deleted, so the key checked nothing the store could get wrong.
-- The table is rebuilt because SQLite cannot drop a constraint; a killed run's sightings,
-- not folded yet, keep their ids.

CREATE TABLE origin_sightings_rebuilt (
    id INTEGER PRIMARY KEY,
    lister_id BIGINT NOT NULL,
    url TEXT NOT NULL,
    visit_type TEXT NOT NULL,
    seen_at TIMESTAMP NOT NULL,
    last_update TIMESTAMP,
    enabled BOOLEAN NOT NULL,
    is_fork BOOLEAN,
    extra_loader_arguments TEXT NOT NULL
);

INSERT INTO origin_sightings_rebuilt SELECT * FROM origin_sightings ORDER BY id;
DROP TABLE origin_sightings;
ALTER TABLE origin_sightings_rebuilt RENAME TO origin_sightings;
