DROP TABLE listed_origins;
DROP TABLE page_validators;
DROP TABLE origin_sightings;
DROP TABLE quarantined_sightings;
DROP TABLE visit_stats;
DROP TABLE listing_ranges;
DROP TABLE listers;
