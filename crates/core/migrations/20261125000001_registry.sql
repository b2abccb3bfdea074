-- The local registry: the design's tables adapted to one desktop user.
-- Secrets never live here: configuration values of type secret are kept in the OS keyring.

CREATE TABLE capabilities (
    id                TEXT PRIMARY KEY,             -- the slug
    name              TEXT NOT NULL,
    description       TEXT,
    icon              TEXT,
    category          TEXT,
    tags              TEXT NOT NULL DEFAULT '[]',   -- JSON array
    author            TEXT,
    kind              TEXT NOT NULL,
    latest_version    TEXT NOT NULL,
    install_count     INTEGER NOT NULL DEFAULT 0,
    usage_count       INTEGER NOT NULL DEFAULT 0,
    average_execution_ms REAL,
    success_rate      REAL,
    created_at        TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    updated_at        TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

CREATE TABLE capability_versions (
    capability_id     TEXT NOT NULL REFERENCES capabilities(id) ON DELETE CASCADE,
    version           TEXT NOT NULL,
    kind              TEXT NOT NULL,
    definition        TEXT NOT NULL,                -- canonical JSON of the manifest
    source            TEXT NOT NULL,                -- the text as imported
    source_format     TEXT NOT NULL CHECK (source_format IN ('yaml', 'json', 'js')),
    code              TEXT,                         -- JavaScript of code capabilities
    content_hash      TEXT NOT NULL,                -- sha256 of `definition`
    status            TEXT NOT NULL DEFAULT 'published' CHECK (status IN ('draft', 'published', 'deprecated')),
    visibility        TEXT NOT NULL DEFAULT 'private' CHECK (visibility IN ('private', 'organization', 'public')),
    required_permissions TEXT NOT NULL DEFAULT '[]', -- JSON array, declared ∪ inferred
    allowed_domains   TEXT NOT NULL DEFAULT '[]',
    test_cases        TEXT NOT NULL DEFAULT '[]',   -- the manifest's examples
    created_at        TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    published_at      TEXT,
    PRIMARY KEY (capability_id, version)
);

CREATE TABLE capability_dependencies (
    capability_id     TEXT NOT NULL,
    version           TEXT NOT NULL,
    depends_on        TEXT NOT NULL,
    version_constraint TEXT NOT NULL,
    required          INTEGER NOT NULL DEFAULT 1,
    PRIMARY KEY (capability_id, version, depends_on),
    FOREIGN KEY (capability_id, version) REFERENCES capability_versions(capability_id, version) ON DELETE CASCADE
);

CREATE TABLE agents (
    id                TEXT PRIMARY KEY,
    name              TEXT NOT NULL,
    description       TEXT,
    created_at        TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    updated_at        TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

CREATE TABLE agent_capabilities (
    agent_id          TEXT NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
    capability_id     TEXT NOT NULL REFERENCES capabilities(id),
    version           TEXT,                          -- pinned version; NULL follows latest
    config            TEXT NOT NULL DEFAULT '{}',    -- non-secret configuration only
    enabled           INTEGER NOT NULL DEFAULT 1,
    priority          INTEGER NOT NULL DEFAULT 0,
    last_used         TEXT,
    execution_count   INTEGER NOT NULL DEFAULT 0,
    error_count       INTEGER NOT NULL DEFAULT 0,
    created_at        TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    PRIMARY KEY (agent_id, capability_id)
);

-- Every execution and every security-relevant refusal.
CREATE TABLE executions (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    capability_id     TEXT NOT NULL,
    version           TEXT,
    action            TEXT,
    agent_id          TEXT,
    status            TEXT NOT NULL,                 -- ok, error, denied, interrupted
    error_kind        TEXT,
    error_message     TEXT,
    security_violation INTEGER NOT NULL DEFAULT 0,
    input             TEXT,                          -- redacted JSON
    output            TEXT,                          -- redacted JSON
    duration_ms       REAL,
    started_at        TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE INDEX executions_by_capability ON executions(capability_id, started_at);

-- Marketplace listings seen online, kept for offline browsing.
CREATE TABLE marketplace_cache (
    capability_id     TEXT NOT NULL,
    version           TEXT NOT NULL,
    listing           TEXT NOT NULL,                 -- JSON as served
    fetched_at        TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    PRIMARY KEY (capability_id, version)
);

CREATE TABLE meta (
    key               TEXT PRIMARY KEY,
    value             TEXT NOT NULL
);

-- Full-text search over the latest version of each capability.
CREATE VIRTUAL TABLE capabilities_fts USING fts5(
    id UNINDEXED, name, description, tags, tokenize = 'unicode61 remove_diacritics 2'
);
