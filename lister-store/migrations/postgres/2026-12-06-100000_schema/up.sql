-- The schema of lister on PostgreSQL. Origin URLs and visit types compare byte by byte (the
-- "C" collation), whatever the database's locale: the order SQLite uses, so both backends
-- list and grab origins in the same order, and every index on them compares with memcmp.

-- Lister instances and their saved state (JSON text), with an optimistic-concurrency version.
CREATE TABLE listers (
    id BIGSERIAL PRIMARY KEY,
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

-- Every origin a lister instance has seen, keyed by origin first: the queue's lookups by
-- origin use a prefix of the key, and a fold inserts in the key's order. Sightings and listed
-- origins only ever get the id of a lister a run registered, and listers are never deleted,
-- so `lister_id` has no foreign key (PostgreSQL checks one with a query per row: an eighth of
-- a fold's time).
CREATE TABLE listed_origins (
    lister_id BIGINT NOT NULL,
    url TEXT NOT NULL COLLATE "C",
    visit_type TEXT NOT NULL COLLATE "C",
    first_seen TIMESTAMP NOT NULL,
    last_seen TIMESTAMP NOT NULL,
    last_update TIMESTAMP,
    enabled BOOLEAN NOT NULL DEFAULT true,
    is_fork BOOLEAN,
    extra_loader_arguments TEXT NOT NULL DEFAULT '{}',
    PRIMARY KEY (url, visit_type, lister_id)
);

-- The ranges of a parallel listing (`lister run --parallel`): the span of cursors from the
-- state to the instance's upper end, cut in order (`seq`). Each range keeps the state its
-- walk resumes at (`position`, JSON like `listers.state`), bumps `version` on every write,
-- and is walked by the process whose lease (`owner`, `lease_until`) is current. The
-- instance's state advances over the finished prefix; the rows go when every range is done.
CREATE TABLE listing_ranges (
    id BIGSERIAL PRIMARY KEY,
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
    url TEXT NOT NULL COLLATE "C",
    etag TEXT,
    last_modified TEXT,
    next_url TEXT,
    next_index TEXT,
    origins TEXT,
    updated TIMESTAMP NOT NULL,
    PRIMARY KEY (lister_id, url)
);

-- Origins as listing pages commit them: appended in the page's transaction (a heap and one
-- sequential index, no trigger), then folded into listed_origins in large sorted batches.
CREATE TABLE origin_sightings (
    id BIGSERIAL PRIMARY KEY,
    lister_id BIGINT NOT NULL,
    url TEXT NOT NULL COLLATE "C",
    visit_type TEXT NOT NULL COLLATE "C",
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

-- The visit queue: one row per origin to visit, keyed by (url, visit_type) across listers.
-- `last_update` and `enabled_listings` follow `listed_origins` through the triggers below;
-- the other columns belong to the queue (see docs/queue.md).
CREATE TABLE visit_stats (
    url TEXT NOT NULL COLLATE "C",
    visit_type TEXT NOT NULL COLLATE "C",
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
    ON visit_stats (visit_type, COALESCE(last_update, 'infinity'::timestamp), url)
    WHERE last_visit IS NULL
      AND lease_expires_at IS NULL AND disabled_at IS NULL AND enabled_listings > 0;

CREATE INDEX visit_stats_oldest_scheduled
    ON visit_stats (visit_type, COALESCE(last_scheduled, '-infinity'::timestamp), url)
    WHERE lease_expires_at IS NULL AND disabled_at IS NULL AND enabled_listings > 0;

CREATE INDEX visit_stats_lag
    ON visit_stats (visit_type, (last_update - last_successful) DESC, url)
    WHERE last_update > last_successful
      AND lease_expires_at IS NULL AND disabled_at IS NULL AND enabled_listings > 0;

-- Keeps visit_stats in step with listed_origins, a row at a time (updates and deletes): a row
-- per listed origin, the latest last_update any lister reported, and how many listings are
-- enabled.
CREATE FUNCTION visit_stats_follow_listing() RETURNS trigger AS $$
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
$$ LANGUAGE plpgsql;

-- Inserts are followed once per statement (a fold is one statement), in key order: random
-- inserts into the URL-keyed indexes made a fold's trigger twice as slow. A large insert puts
-- the origins visit_stats lacks with a plain insert (`ON CONFLICT` inserts each row
-- speculatively: a quarter of the trigger's time) and upserts the others; one statement sees
-- one snapshot, so if another transaction commits one of them meanwhile, the insert fails
-- with a unique violation and every row is upserted instead. Catching the error takes a
-- subtransaction, which PostgreSQL handles badly by the dozen in one transaction, so inserts
-- of fewer than 1,000 rows upsert straight away.
CREATE FUNCTION visit_stats_follow_inserts() RETURNS trigger AS $$
BEGIN
    IF (SELECT count(*) FROM inserted) >= 1000 THEN
        BEGIN
            WITH listed AS (
                SELECT url, visit_type, max(last_update) AS last_update,
                    count(*) FILTER (WHERE enabled) AS enabled_listings
                FROM inserted
                GROUP BY url, visit_type
            ), marked AS (
                SELECT l.*, EXISTS (SELECT FROM visit_stats AS s
                                    WHERE s.url = l.url AND s.visit_type = l.visit_type) AS queued
                FROM (SELECT * FROM listed ORDER BY url, visit_type) AS l
            ), known AS (
                INSERT INTO visit_stats AS v (url, visit_type, last_update, enabled_listings)
                SELECT url, visit_type, last_update, enabled_listings FROM marked WHERE queued
                ON CONFLICT (url, visit_type) DO UPDATE
                SET last_update = GREATEST(v.last_update, EXCLUDED.last_update),
                    enabled_listings = v.enabled_listings + EXCLUDED.enabled_listings
            )
            INSERT INTO visit_stats (url, visit_type, last_update, enabled_listings)
            SELECT url, visit_type, last_update, enabled_listings FROM marked WHERE NOT queued;
            RETURN NULL;
        EXCEPTION WHEN unique_violation THEN
            -- Rolled back to the block's start: upsert every row below.
        END;
    END IF;
    INSERT INTO visit_stats AS v (url, visit_type, last_update, enabled_listings)
    SELECT url, visit_type, max(last_update), count(*) FILTER (WHERE enabled)
    FROM inserted
    GROUP BY url, visit_type
    ORDER BY url, visit_type
    ON CONFLICT (url, visit_type) DO UPDATE
    SET last_update = GREATEST(v.last_update, EXCLUDED.last_update),
        enabled_listings = v.enabled_listings + EXCLUDED.enabled_listings;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;

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
