-- The visual builder: work in progress, autosaved in any state (a flow with errors included).
-- A draft is a flow document (JSON); saving it compiles it into capability_versions.

CREATE TABLE builder_drafts (
    capability_id     TEXT PRIMARY KEY,
    name              TEXT NOT NULL,
    document          TEXT NOT NULL,                 -- the flow document, JSON
    updated_at        TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
