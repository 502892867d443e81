DROP TABLE listed_origins, page_validators, origin_sightings, quarantined_sightings, visit_stats,
    listing_ranges, listers;
DROP FUNCTION visit_stats_follow_inserts, visit_stats_follow_listing;
