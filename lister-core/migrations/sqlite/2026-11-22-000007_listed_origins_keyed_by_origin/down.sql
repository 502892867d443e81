-- listed_origins as a rowid table keyed by lister first, with an index by origin (see up.sql).

CREATE TABLE listed_origins_rebuilt (
    lister_id BIGINT NOT NULL REFERENCES listers (id),
    url TEXT NOT NULL,
    visit_type TEXT NOT NULL,
    first_seen TIMESTAMP NOT NULL,
    last_seen TIMESTAMP NOT NULL,
    last_update TIMESTAMP,
    enabled BOOLEAN NOT NULL DEFAULT 1,
    is_fork BOOLEAN,
    extra_loader_arguments TEXT NOT NULL DEFAULT '{}',
    PRIMARY KEY (lister_id, url, visit_type)
);

INSERT INTO listed_origins_rebuilt SELECT * FROM listed_origins ORDER BY lister_id, url, visit_type;
DROP TABLE listed_origins;
ALTER TABLE listed_origins_rebuilt RENAME TO listed_origins;

-- Finds the listings of an origin (which lister listed it).
CREATE INDEX listed_origins_origin ON listed_origins (url, visit_type);

CREATE TRIGGER listed_origins_insert_visit_stats AFTER INSERT ON listed_origins
BEGIN
    INSERT INTO visit_stats (url, visit_type, last_update, enabled_listings)
    VALUES (NEW.url, NEW.visit_type, NEW.last_update, NEW.enabled)
    ON CONFLICT (url, visit_type) DO UPDATE
    SET last_update = coalesce(max(last_update, excluded.last_update), last_update,
                               excluded.last_update),
        enabled_listings = enabled_listings + excluded.enabled_listings;
END;

CREATE TRIGGER listed_origins_update_visit_stats AFTER UPDATE ON listed_origins
WHEN OLD.enabled IS NOT NEW.enabled
  OR OLD.last_update IS NOT NEW.last_update
  OR OLD.url <> NEW.url OR OLD.visit_type <> NEW.visit_type
BEGIN
    UPDATE visit_stats
    SET enabled_listings = enabled_listings - OLD.enabled
    WHERE url = OLD.url AND visit_type = OLD.visit_type;
    INSERT INTO visit_stats (url, visit_type, last_update, enabled_listings)
    VALUES (NEW.url, NEW.visit_type, NEW.last_update, NEW.enabled)
    ON CONFLICT (url, visit_type) DO UPDATE
    SET last_update = coalesce(max(last_update, excluded.last_update), last_update,
                               excluded.last_update),
        enabled_listings = enabled_listings + excluded.enabled_listings;
END;

CREATE TRIGGER listed_origins_delete_visit_stats AFTER DELETE ON listed_origins
BEGIN
    UPDATE visit_stats
    SET enabled_listings = enabled_listings - OLD.enabled
    WHERE url = OLD.url AND visit_type = OLD.visit_type;
END;
