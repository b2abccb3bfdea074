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
