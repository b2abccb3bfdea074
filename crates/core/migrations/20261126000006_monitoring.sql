-- Monitoring and cost: what each run used of paid services and what it cost; what the user says
-- a capability costs; a monthly cap per agent.
ALTER TABLE executions ADD COLUMN prompt_tokens INTEGER NOT NULL DEFAULT 0;
ALTER TABLE executions ADD COLUMN completion_tokens INTEGER NOT NULL DEFAULT 0;
ALTER TABLE executions ADD COLUMN cost REAL NOT NULL DEFAULT 0;
CREATE INDEX executions_by_agent ON executions(agent_id, started_at);
CREATE INDEX executions_by_time ON executions(started_at);

CREATE TABLE capability_costs (
    capability_id     TEXT PRIMARY KEY,
    per_call          REAL NOT NULL DEFAULT 0,       -- charged for every run
    per_1k_tokens     REAL NOT NULL DEFAULT 0        -- charged per 1000 AI tokens the run used
);

ALTER TABLE agents ADD COLUMN monthly_budget REAL;   -- NULL: no cap

-- A capability's running figures follow its executions in the same statement (one round trip
-- less per run); the right-hand sides see the row before the update.
CREATE TRIGGER executions_update_capability AFTER INSERT ON executions BEGIN
    UPDATE capabilities SET
        usage_count = usage_count + 1,
        average_execution_ms = (coalesce(average_execution_ms, 0) * usage_count + coalesce(NEW.duration_ms, 0)) / (usage_count + 1),
        success_rate = (coalesce(success_rate, 0) * usage_count + (NEW.status = 'ok')) / (usage_count + 1)
    WHERE id = NEW.capability_id;
END;
