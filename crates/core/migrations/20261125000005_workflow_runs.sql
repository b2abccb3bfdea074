-- Workflow runs, step by step, so a run cut short (a crash, a quit) shows as interrupted and
-- resumes from where it stopped without repeating completed steps.

CREATE TABLE workflow_runs (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    capability_id     TEXT NOT NULL,
    version           TEXT NOT NULL,
    action            TEXT NOT NULL,
    input             TEXT NOT NULL,                 -- JSON (no secrets: those come from the keyring)
    status            TEXT NOT NULL,                 -- running, ok, error, interrupted
    pid               INTEGER NOT NULL,              -- the process running it
    output            TEXT,
    error             TEXT,
    resumed_from      INTEGER,
    started_at        TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    finished_at       TEXT
);

CREATE TABLE workflow_steps (
    run_id            INTEGER NOT NULL REFERENCES workflow_runs(id) ON DELETE CASCADE,
    step_id           TEXT NOT NULL,
    position          INTEGER NOT NULL,
    status            TEXT NOT NULL,                 -- running, ok, error, skipped
    input             TEXT,
    output            TEXT,
    error             TEXT,
    duration_ms       REAL NOT NULL DEFAULT 0,
    PRIMARY KEY (run_id, step_id)
);
