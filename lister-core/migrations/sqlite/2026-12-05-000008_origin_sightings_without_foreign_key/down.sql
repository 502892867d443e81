-- origin_sightings with its foreign key to listers again (see up.sql).

CREATE TABLE origin_sightings_rebuilt (
    id INTEGER PRIMARY KEY,
    lister_id BIGINT NOT NULL REFERENCES listers (id),
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
