-- Every new origin upserted again, as migration 000004 left it (see up.sql).
CREATE OR REPLACE FUNCTION visit_stats_follow_inserts() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
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
