-- Each origin looked up twice again, as migration 000006 left it (see up.sql).
CREATE OR REPLACE FUNCTION visit_stats_follow_inserts() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF (SELECT count(*) FROM inserted) >= 1000 THEN
        BEGIN
            WITH listed AS (
                SELECT url, visit_type, max(last_update) AS last_update,
                    count(*) FILTER (WHERE enabled) AS enabled_listings
                FROM inserted
                GROUP BY url, visit_type
            ), known AS (
                INSERT INTO visit_stats AS v (url, visit_type, last_update, enabled_listings)
                SELECT * FROM listed AS l
                WHERE EXISTS (SELECT FROM visit_stats AS s
                              WHERE s.url = l.url AND s.visit_type = l.visit_type)
                ORDER BY url, visit_type
                ON CONFLICT (url, visit_type) DO UPDATE
                SET last_update = GREATEST(v.last_update, EXCLUDED.last_update),
                    enabled_listings = v.enabled_listings + EXCLUDED.enabled_listings
            )
            INSERT INTO visit_stats (url, visit_type, last_update, enabled_listings)
            SELECT * FROM listed AS l
            WHERE NOT EXISTS (SELECT FROM visit_stats AS s
                              WHERE s.url = l.url AND s.visit_type = l.visit_type)
            ORDER BY url, visit_type;
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
$$;
