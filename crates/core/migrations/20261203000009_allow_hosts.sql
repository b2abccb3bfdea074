-- Services on the user's own machine or network (private addresses, plain http) that one
-- capability may reach: granted per capability (`capsmith settings allow-host ID HOST:PORT`,
-- or its Configure tab), so a second capability naming the same host stays refused.
CREATE TABLE capability_allow_hosts (
    capability_id TEXT NOT NULL,
    host_port     TEXT NOT NULL,                 -- lowercase `host:port`, IPv6 without brackets
    granted_at    TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    PRIMARY KEY (capability_id, host_port)
);
CREATE TRIGGER generation_allow_hosts_insert AFTER INSERT ON capability_allow_hosts BEGIN
    UPDATE meta SET value = value + 1 WHERE key = 'generation';
END;
CREATE TRIGGER generation_allow_hosts_delete AFTER DELETE ON capability_allow_hosts BEGIN
    UPDATE meta SET value = value + 1 WHERE key = 'generation';
END;
-- The global list granted every capability at once. It cannot be split per capability after
-- the fact, so it ends here; `settings set network.allow_hosts` says what to use instead.
DELETE FROM settings WHERE key = 'network.allow_hosts';
