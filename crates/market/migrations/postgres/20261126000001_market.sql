-- The marketplace, PostgreSQL flavour (several servers, one database). Kept column for column in step with
-- ../sqlite/: every integer is 64-bit, booleans are 0/1, times are RFC 3339 text, lists
-- are JSON text, so the same queries read both.
CREATE TABLE users (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    token_hash  TEXT NOT NULL UNIQUE,
    admin       BIGINT NOT NULL DEFAULT 0,
    verified    BIGINT NOT NULL DEFAULT 0,
    public_key  TEXT,
    created_at  TEXT NOT NULL
);

CREATE TABLE orgs (
    name        TEXT PRIMARY KEY
);

CREATE TABLE org_members (
    org         TEXT NOT NULL REFERENCES orgs(name),
    user_id     BIGINT NOT NULL REFERENCES users(id),
    role        TEXT NOT NULL CHECK (role IN ('admin', 'member')),
    PRIMARY KEY (org, user_id)
);

-- Change sequence: every write to a capability takes the next number.
CREATE TABLE counters (
    name        TEXT PRIMARY KEY,
    value       BIGINT NOT NULL
);
INSERT INTO counters (name, value) VALUES ('seq', 0);

CREATE TABLE capabilities (
    id              TEXT PRIMARY KEY,
    owner_id        BIGINT NOT NULL REFERENCES users(id),
    org             TEXT REFERENCES orgs(name),
    visibility      TEXT NOT NULL CHECK (visibility IN ('public', 'organization', 'private')),
    name            TEXT NOT NULL,
    description     TEXT,
    icon            TEXT,
    category        TEXT,
    tags            TEXT NOT NULL DEFAULT '[]',
    kind            TEXT NOT NULL,
    license         TEXT,
    price_cents     BIGINT NOT NULL DEFAULT 0,
    installs        BIGINT NOT NULL DEFAULT 0,
    rating_sum      BIGINT NOT NULL DEFAULT 0,
    rating_count    BIGINT NOT NULL DEFAULT 0,
    -- The average stars times 1000 (0 when unrated): what "top rated" sorts by, indexed.
    rating_score    BIGINT NOT NULL DEFAULT 0,
    featured        BIGINT NOT NULL DEFAULT 0,
    deprecated      TEXT,
    -- The newest approved, not yanked version: what everyone who may see it can install.
    latest_version  TEXT,
    -- 1 once any version is approved: members see it (yanked versions stay listed, marked).
    listed          BIGINT NOT NULL DEFAULT 0,
    seq             BIGINT NOT NULL,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL
);
CREATE INDEX capabilities_seq ON capabilities (seq);
-- Browsing: each sort has an index, alone and within a category, so a page is read in order
-- and the scan stops after it; counting what anyone may see reads the index only.
CREATE INDEX capabilities_installs ON capabilities (installs DESC, id);
CREATE INDEX capabilities_rating ON capabilities (rating_score DESC, rating_count DESC, id);
CREATE INDEX capabilities_updated ON capabilities (updated_at DESC, id);
CREATE INDEX capabilities_category_installs ON capabilities (category, installs DESC, id);
CREATE INDEX capabilities_category_rating ON capabilities (category, rating_score DESC, rating_count DESC, id);
CREATE INDEX capabilities_category_updated ON capabilities (category, updated_at DESC, id);
CREATE INDEX capabilities_public ON capabilities (visibility, listed, category);

CREATE TABLE versions (
    capability_id   TEXT NOT NULL REFERENCES capabilities(id),
    version         TEXT NOT NULL,
    sha256          TEXT NOT NULL,
    signature       TEXT NOT NULL,
    public_key      TEXT NOT NULL,
    size            BIGINT NOT NULL,
    readme          TEXT NOT NULL,
    -- JSON: permissions, domains, configuration, dependencies.
    info            TEXT NOT NULL,
    tests_passed    BIGINT NOT NULL,
    tests_total     BIGINT NOT NULL,
    yanked          TEXT,
    approved        BIGINT NOT NULL,
    published_by    BIGINT NOT NULL REFERENCES users(id),
    published_at    TEXT NOT NULL,
    PRIMARY KEY (capability_id, version)
);

-- Package archives when they live in the database (PostgreSQL: stateless servers).
CREATE TABLE blobs (
    sha256          TEXT PRIMARY KEY,
    bytes           BYTEA NOT NULL
);

CREATE TABLE reviews (
    capability_id   TEXT NOT NULL REFERENCES capabilities(id),
    user_id         BIGINT NOT NULL REFERENCES users(id),
    stars           BIGINT NOT NULL CHECK (stars BETWEEN 1 AND 5),
    text            TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    PRIMARY KEY (capability_id, user_id)
);

CREATE TABLE entitlements (
    capability_id   TEXT NOT NULL REFERENCES capabilities(id),
    user_id         BIGINT NOT NULL REFERENCES users(id),
    granted_by      BIGINT NOT NULL REFERENCES users(id),
    granted_at      TEXT NOT NULL,
    PRIMARY KEY (capability_id, user_id)
);

-- Full-text search: the same fields SQLite's FTS5 table indexes.
ALTER TABLE capabilities ADD COLUMN search tsvector GENERATED ALWAYS AS (
    to_tsvector('simple', coalesce(name, '') || ' ' || coalesce(description, '') || ' ' || coalesce(tags, ''))
) STORED;
CREATE INDEX capabilities_search ON capabilities USING GIN (search);
