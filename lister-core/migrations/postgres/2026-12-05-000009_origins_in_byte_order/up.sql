-- Origin URLs and visit types compare byte by byte (the "C" collation), whatever the
-- database's locale: the order SQLite uses, so both backends list and grab origins in the
-- same order. Every index on them compares with memcmp instead of the locale's strcoll
-- (which first copies both strings), and sorts use abbreviated keys. In 4 interleaved pairs
-- of 100,000-origin runs (a C.UTF-8 database), the server used 6-10 % less CPU.
-- All four tables change together: a comparison between two different implicit collations
-- fails, and an index cannot serve one.
-- The update trigger's WHEN clause reads both columns, so it is dropped and created again.
DROP TRIGGER listed_origins_update_visit_stats ON listed_origins;
ALTER TABLE listed_origins ALTER COLUMN url TYPE TEXT COLLATE "C",
    ALTER COLUMN visit_type TYPE TEXT COLLATE "C";
ALTER TABLE visit_stats ALTER COLUMN url TYPE TEXT COLLATE "C",
    ALTER COLUMN visit_type TYPE TEXT COLLATE "C";
ALTER TABLE origin_sightings ALTER COLUMN url TYPE TEXT COLLATE "C",
    ALTER COLUMN visit_type TYPE TEXT COLLATE "C";
ALTER TABLE page_validators ALTER COLUMN url TYPE TEXT COLLATE "C";
CREATE TRIGGER listed_origins_update_visit_stats AFTER UPDATE ON listed_origins
    FOR EACH ROW
    WHEN (OLD.enabled IS DISTINCT FROM NEW.enabled
          OR OLD.last_update IS DISTINCT FROM NEW.last_update
          OR OLD.url <> NEW.url OR OLD.visit_type <> NEW.visit_type)
    EXECUTE FUNCTION visit_stats_follow_listing();
