-- The schema of lister on SQLite.

-- Lister instances and their saved state (JSON text), with an optimistic-concurrency version.
CREATE TABLE listers (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    instance TEXT NOT NULL,
    state TEXT,
    state_version BIGINT NOT NULL DEFAULT 0,
    created TIMESTAMP NOT NULL,
    updated TIMESTAMP NOT NULL,
    last_listing_finished_at TIMESTAMP,
    pass_started_at TIMESTAMP,
    last_pass_started_at TIMESTAMP,
    UNIQUE (name, instance)
);

-- The ranges of a parallel listing (`lister run --parallel`): the span of cursors from the
-- state to the instance's upper end, cut in order (`seq`). Each range keeps the state its
-- walk resumes at (`position`, JSON like `listers.state`), bumps `version` on every write,
-- and is walked by the process whose lease (`owner`, `lease_until`) is current. The
-- instance's state advances over the finished prefix; the rows go when every range is done.
CREATE TABLE listing_ranges (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    lister_id BIGINT NOT NULL REFERENCES listers (id),
    seq INTEGER NOT NULL,
    start_state TEXT NOT NULL,
    end_state TEXT NOT NULL,
    position TEXT NOT NULL,
    version BIGINT NOT NULL DEFAULT 0,
    owner TEXT,
    lease_until TIMESTAMP,
    done BOOLEAN NOT NULL DEFAULT false,
    UNIQUE (lister_id, seq)
);

-- Listing pages (GETs), for conditional requests: their validators, the cursor they led to,
-- and the origins they held (a JSON array of [url, visit_type] pairs, kept with validators
-- only, for a page of at most 50,000 origins, all its own), whose last_seen a 304 refreshes.
CREATE TABLE page_validators (
    lister_id BIGINT NOT NULL REFERENCES listers (id),
    url TEXT NOT NULL,
    etag TEXT,
    last_modified TEXT,
    next_url TEXT,
    next_index TEXT,
    origins TEXT,
    updated TIMESTAMP NOT NULL,
    PRIMARY KEY (lister_id, url)
);

-- The visit queue: one row per origin to visit, keyed by (url, visit_type) across listers.
-- `last_update` and `enabled_listings` follow `listed_origins` through the triggers below;
-- the other columns belong to the queue (see docs/queue.md). The CHECK is spelled with
-- equalities: SQLite runs `x IN ('a', 'b', 'c')` by building a temporary B-tree of the list
-- at every insert, a third of what a fold spent per origin.
CREATE TABLE visit_stats (
    url TEXT NOT NULL,
    visit_type TEXT NOT NULL,
    last_update TIMESTAMP,
    enabled_listings INTEGER NOT NULL DEFAULT 0,
    last_scheduled TIMESTAMP,
    lease_token TEXT,
    lease_expires_at TIMESTAMP,
    last_visit TIMESTAMP,
    last_visit_status TEXT CHECK (last_visit_status = 'successful' OR last_visit_status = 'failed'
                                   OR last_visit_status = 'not_found'),
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

-- Every origin a lister instance has seen, keyed by origin first and stored in that key's
-- B-tree (WITHOUT ROWID): lookups by origin (the queue's) use a prefix of the key, and a fold
-- inserts in the key's order.
CREATE TABLE listed_origins (
    lister_id BIGINT NOT NULL REFERENCES listers (id),
    url TEXT NOT NULL,
    visit_type TEXT NOT NULL,
    first_seen TIMESTAMP NOT NULL,
    last_seen TIMESTAMP NOT NULL,
    last_update TIMESTAMP,
    enabled BOOLEAN NOT NULL DEFAULT 1,
    is_fork BOOLEAN,
    extra_loader_arguments TEXT NOT NULL DEFAULT '{}',
    PRIMARY KEY (url, visit_type, lister_id)
) WITHOUT ROWID;

-- Keeps visit_stats in step with listed_origins: a row per listed origin, the latest
-- last_update any lister reported, and how many listings are enabled. (A first listing's
-- fold drops and re-creates these triggers, see `queue_rows_after_fold`.)
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

-- Origins as listing pages commit them: appended in the page's transaction (one sequential
-- B-tree, the cheapest write SQLite has), then folded into listed_origins in large sorted
-- batches. No foreign key to listers: SQLite would look the lister up for every sighting, and
-- a table that is the child of a foreign key never gets SQLite's truncate optimization (the
-- store only writes the id of a lister it registered, and listers are never deleted).
CREATE TABLE origin_sightings (
    id INTEGER PRIMARY KEY,
    lister_id BIGINT NOT NULL,
    url TEXT NOT NULL,
    visit_type TEXT NOT NULL,
    seen_at TIMESTAMP NOT NULL,
    last_update TIMESTAMP,
    enabled BOOLEAN NOT NULL,
    is_fork BOOLEAN,
    extra_loader_arguments TEXT NOT NULL
);

-- Sightings the database refused to fold into listed_origins, each with the database's
-- reason: kept for the operator to read, out of the way of every later fold.
CREATE TABLE quarantined_sightings (
    id BIGINT PRIMARY KEY,
    lister_id BIGINT NOT NULL,
    url TEXT NOT NULL,
    visit_type TEXT NOT NULL,
    seen_at TIMESTAMP NOT NULL,
    last_update TIMESTAMP,
    enabled BOOLEAN NOT NULL,
    is_fork BOOLEAN,
    extra_loader_arguments TEXT NOT NULL,
    reason TEXT NOT NULL,
    quarantined_at TIMESTAMP NOT NULL
);
CREATE INDEX quarantined_sightings_lister ON quarantined_sightings (lister_id);
