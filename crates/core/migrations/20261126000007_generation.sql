-- A counter that moves whenever anything a run reads before it starts changes: capabilities and
-- their versions, their configuration, settings. Processes that cache those (a webhook server)
-- compare it to see another process's change; run statistics do not move it.
INSERT INTO meta (key, value) VALUES ('generation', '0');

CREATE TRIGGER generation_capabilities_insert AFTER INSERT ON capabilities BEGIN
    UPDATE meta SET value = value + 1 WHERE key = 'generation';
END;
CREATE TRIGGER generation_capabilities_update AFTER UPDATE OF name, kind, latest_version, description ON capabilities BEGIN
    UPDATE meta SET value = value + 1 WHERE key = 'generation';
END;
CREATE TRIGGER generation_capabilities_delete AFTER DELETE ON capabilities BEGIN
    UPDATE meta SET value = value + 1 WHERE key = 'generation';
END;
CREATE TRIGGER generation_versions_insert AFTER INSERT ON capability_versions BEGIN
    UPDATE meta SET value = value + 1 WHERE key = 'generation';
END;
CREATE TRIGGER generation_versions_update AFTER UPDATE ON capability_versions BEGIN
    UPDATE meta SET value = value + 1 WHERE key = 'generation';
END;
CREATE TRIGGER generation_versions_delete AFTER DELETE ON capability_versions BEGIN
    UPDATE meta SET value = value + 1 WHERE key = 'generation';
END;
CREATE TRIGGER generation_config_insert AFTER INSERT ON capability_config BEGIN
    UPDATE meta SET value = value + 1 WHERE key = 'generation';
END;
CREATE TRIGGER generation_config_update AFTER UPDATE ON capability_config BEGIN
    UPDATE meta SET value = value + 1 WHERE key = 'generation';
END;
CREATE TRIGGER generation_config_delete AFTER DELETE ON capability_config BEGIN
    UPDATE meta SET value = value + 1 WHERE key = 'generation';
END;
CREATE TRIGGER generation_settings_insert AFTER INSERT ON settings BEGIN
    UPDATE meta SET value = value + 1 WHERE key = 'generation';
END;
CREATE TRIGGER generation_settings_update AFTER UPDATE ON settings BEGIN
    UPDATE meta SET value = value + 1 WHERE key = 'generation';
END;
CREATE TRIGGER generation_settings_delete AFTER DELETE ON settings BEGIN
    UPDATE meta SET value = value + 1 WHERE key = 'generation';
END;
