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
    UNIQUE (name, instance)
);

-- Every origin a lister instance has seen.
CREATE TABLE listed_origins (
    lister_id BIGINT NOT NULL REFERENCES listers (id),
    url TEXT NOT NULL,
    visit_type TEXT NOT NULL,
    first_seen TIMESTAMP NOT NULL,
    last_seen TIMESTAMP NOT NULL,
    last_update TIMESTAMP,
    enabled BOOLEAN NOT NULL DEFAULT TRUE,
    is_fork BOOLEAN,
    extra_loader_arguments TEXT NOT NULL DEFAULT '{}',
    PRIMARY KEY (lister_id, url, visit_type)
);

-- Cache validators of listing pages, for conditional requests.
CREATE TABLE page_validators (
    lister_id BIGINT NOT NULL REFERENCES listers (id),
    url TEXT NOT NULL,
    etag TEXT,
    last_modified TEXT,
    next_url TEXT,
    next_index TEXT,
    updated TIMESTAMP NOT NULL,
    PRIMARY KEY (lister_id, url)
);
