DROP TRIGGER listed_origins_delete_visit_stats ON listed_origins;
DROP TRIGGER listed_origins_update_visit_stats ON listed_origins;
DROP TRIGGER listed_origins_insert_visit_stats ON listed_origins;
DROP FUNCTION visit_stats_follow_listing();
DROP FUNCTION visit_stats_follow_inserts();
DROP INDEX listed_origins_origin;
DROP TABLE visit_stats;
