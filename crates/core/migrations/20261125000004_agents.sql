-- Agents: a capability added because another needs it is marked, so re-resolving starts from
-- what the user asked for and dependencies follow.
ALTER TABLE agent_capabilities ADD COLUMN as_dependency INTEGER NOT NULL DEFAULT 0;
