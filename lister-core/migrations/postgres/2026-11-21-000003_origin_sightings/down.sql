DROP TABLE origin_sightings;
