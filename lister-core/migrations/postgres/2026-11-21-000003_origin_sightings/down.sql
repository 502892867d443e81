DROP TABLE origin_sightings;
ALTER TABLE listed_origins ADD FOREIGN KEY (lister_id) REFERENCES listers (id);
