DROP TABLE quarantined_sightings;
