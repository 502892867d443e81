-- The visit queue: one row per origin to visit, keyed by (url, visit_type) across listers.
-- `last_update` and `enabled_listings` follow `listed_origins` through the triggers below;
-- the other columns belong to the queue (see the README's queue section).
CREATE TABLE visit_stats (
    url TEXT NOT NULL,
    visit_type TEXT NOT NULL,
    last_update TIMESTAMP,
    enabled_listings INTEGER NOT NULL DEFAULT 0,
    last_scheduled TIMESTAMP,
    lease_token TEXT,
    lease_expires_at TIMESTAMP,
    last_visit TIMESTAMP,
    last_visit_status TEXT CHECK (last_visit_status IN ('successful', 'failed', 'not_found')),
    last_successful TIMESTAMP,
    consecutive_failures INTEGER NOT NULL DEFAULT 0,
    consecutive_not_found INTEGER NOT NULL DEFAULT 0,
    recurrence_interval_secs BIGINT,
    next_visit_not_before TIMESTAMP NOT NULL DEFAULT '1970-01-01 00:00:00',
    disabled_at TIMESTAMP,
    PRIMARY KEY (url, visit_type)
);

-- Acks find their row by token.
CREATE UNIQUE INDEX visit_stats_lease_token ON visit_stats (lease_token)
    WHERE lease_token IS NOT NULL;
-- Leases that ran out, oldest first (granted again before anything else).
CREATE INDEX visit_stats_leases ON visit_stats (visit_type, lease_expires_at)
    WHERE lease_expires_at IS NOT NULL;
-- One index per ordering, over the origins that are neither leased nor disabled. SQLite sorts
-- NULL first, so "unknown last update last" is spelled `last_update IS NULL, last_update`.
CREATE INDEX visit_stats_never_visited
    ON visit_stats (visit_type, last_update IS NULL, last_update, url)
    WHERE last_visit IS NULL
      AND lease_expires_at IS NULL AND disabled_at IS NULL AND enabled_listings > 0;
CREATE INDEX visit_stats_oldest_scheduled ON visit_stats (visit_type, last_scheduled, url)
    WHERE lease_expires_at IS NULL AND disabled_at IS NULL AND enabled_listings > 0;
CREATE INDEX visit_stats_lag
    ON visit_stats (visit_type, julianday(last_update) - julianday(last_successful) DESC, url)
    WHERE last_update > last_successful
      AND lease_expires_at IS NULL AND disabled_at IS NULL AND enabled_listings > 0;

-- Finds the listings of an origin (which lister listed it).
CREATE INDEX listed_origins_origin ON listed_origins (url, visit_type);

-- Keeps visit_stats in step with listed_origins: a row per listed origin, the latest
-- last_update any lister reported, and how many listings are enabled.
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

-- Origins listed before this migration.
INSERT INTO visit_stats (url, visit_type, last_update, enabled_listings)
SELECT url, visit_type, max(last_update), sum(enabled)
FROM listed_origins
GROUP BY url, visit_type;
