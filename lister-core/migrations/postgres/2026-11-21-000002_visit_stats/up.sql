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
-- One index per ordering, over the origins that are neither leased nor disabled. Keys are
-- never NULL (unknown last update last, never scheduled first), so that a grab can resume a
-- scan after a given key.
CREATE INDEX visit_stats_never_visited
    ON visit_stats (visit_type, coalesce(last_update, 'infinity'::timestamp), url)
    WHERE last_visit IS NULL
      AND lease_expires_at IS NULL AND disabled_at IS NULL AND enabled_listings > 0;
CREATE INDEX visit_stats_oldest_scheduled
    ON visit_stats (visit_type, coalesce(last_scheduled, '-infinity'::timestamp), url)
    WHERE lease_expires_at IS NULL AND disabled_at IS NULL AND enabled_listings > 0;
CREATE INDEX visit_stats_lag ON visit_stats (visit_type, (last_update - last_successful) DESC, url)
    WHERE last_update > last_successful
      AND lease_expires_at IS NULL AND disabled_at IS NULL AND enabled_listings > 0;

-- Finds the listings of an origin (which lister listed it).
CREATE INDEX listed_origins_origin ON listed_origins (url, visit_type);

-- Keeps visit_stats in step with listed_origins: a row per listed origin, the latest
-- last_update any lister reported, and how many listings are enabled.
CREATE FUNCTION visit_stats_follow_listing() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        UPDATE visit_stats
        SET enabled_listings = enabled_listings - OLD.enabled::int
        WHERE url = OLD.url AND visit_type = OLD.visit_type;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO visit_stats AS v (url, visit_type, last_update, enabled_listings)
        VALUES (NEW.url, NEW.visit_type, NEW.last_update, NEW.enabled::int)
        ON CONFLICT (url, visit_type) DO UPDATE
        SET last_update = GREATEST(v.last_update, EXCLUDED.last_update),
            enabled_listings = v.enabled_listings + EXCLUDED.enabled_listings;
    END IF;
    RETURN NULL;
END
$$;

-- Inserts are followed once per statement (a page is one statement): one set-based upsert
-- instead of a function call per row.
CREATE FUNCTION visit_stats_follow_inserts() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO visit_stats AS v (url, visit_type, last_update, enabled_listings)
    SELECT url, visit_type, max(last_update), count(*) FILTER (WHERE enabled)
    FROM inserted
    GROUP BY url, visit_type
    ON CONFLICT (url, visit_type) DO UPDATE
    SET last_update = GREATEST(v.last_update, EXCLUDED.last_update),
        enabled_listings = v.enabled_listings + EXCLUDED.enabled_listings;
    RETURN NULL;
END
$$;

CREATE TRIGGER listed_origins_insert_visit_stats AFTER INSERT ON listed_origins
    REFERENCING NEW TABLE AS inserted
    FOR EACH STATEMENT EXECUTE FUNCTION visit_stats_follow_inserts();
CREATE TRIGGER listed_origins_update_visit_stats AFTER UPDATE ON listed_origins
    FOR EACH ROW
    WHEN (OLD.enabled IS DISTINCT FROM NEW.enabled
          OR OLD.last_update IS DISTINCT FROM NEW.last_update
          OR OLD.url <> NEW.url OR OLD.visit_type <> NEW.visit_type)
    EXECUTE FUNCTION visit_stats_follow_listing();
CREATE TRIGGER listed_origins_delete_visit_stats AFTER DELETE ON listed_origins
    FOR EACH ROW EXECUTE FUNCTION visit_stats_follow_listing();

-- Origins listed before this migration.
INSERT INTO visit_stats (url, visit_type, last_update, enabled_listings)
SELECT url, visit_type, max(last_update), count(*) FILTER (WHERE enabled)
FROM listed_origins
GROUP BY url, visit_type;
