-- Running capabilities: non-secret configuration, app settings, and richer audit rows.
-- Secret configuration values are never stored here: they live in the OS keyring.

CREATE TABLE capability_config (
    capability_id     TEXT NOT NULL,
    key               TEXT NOT NULL,
    value             TEXT NOT NULL,                 -- JSON
    updated_at        TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    PRIMARY KEY (capability_id, key)
);

CREATE TABLE settings (
    key               TEXT PRIMARY KEY,
    value             TEXT NOT NULL                  -- JSON
);

ALTER TABLE executions ADD COLUMN origin TEXT NOT NULL DEFAULT 'cli';   -- app, cli, test
ALTER TABLE executions ADD COLUMN network_calls INTEGER NOT NULL DEFAULT 0;
ALTER TABLE executions ADD COLUMN bytes_in INTEGER NOT NULL DEFAULT 0;
ALTER TABLE executions ADD COLUMN bytes_out INTEGER NOT NULL DEFAULT 0;
ALTER TABLE executions ADD COLUMN trace TEXT;                            -- redacted JSON call list
