-- Origin URLs and visit types in the database's default collation again (see up.sql).
DROP TRIGGER listed_origins_update_visit_stats ON listed_origins;
ALTER TABLE listed_origins ALTER COLUMN url TYPE TEXT COLLATE "default",
    ALTER COLUMN visit_type TYPE TEXT COLLATE "default";
ALTER TABLE visit_stats ALTER COLUMN url TYPE TEXT COLLATE "default",
    ALTER COLUMN visit_type TYPE TEXT COLLATE "default";
ALTER TABLE origin_sightings ALTER COLUMN url TYPE TEXT COLLATE "default",
    ALTER COLUMN visit_type TYPE TEXT COLLATE "default";
ALTER TABLE page_validators ALTER COLUMN url TYPE TEXT COLLATE "default";
CREATE TRIGGER listed_origins_update_visit_stats AFTER UPDATE ON listed_origins
    FOR EACH ROW
    WHEN (OLD.enabled IS DISTINCT FROM NEW.enabled
          OR OLD.last_update IS DISTINCT FROM NEW.last_update
          OR OLD.url <> NEW.url OR OLD.visit_type <> NEW.visit_type)
    EXECUTE FUNCTION visit_stats_follow_listing();
