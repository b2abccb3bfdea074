-- JSON Schemas the user keeps by name (`capsmith schema add NAME FILE`), for workflows whose
-- `validate.schema` step names a schema its manifest does not define (the design's invoice
-- workflow names `invoice_schema`). A manifest's own `schemas` win over the library's.
CREATE TABLE schema_library (
    name        TEXT PRIMARY KEY,
    schema      TEXT NOT NULL,                   -- JSON
    source      TEXT,                            -- the file it was read from
    added_at    TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE TRIGGER generation_schemas_insert AFTER INSERT ON schema_library BEGIN
    UPDATE meta SET value = value + 1 WHERE key = 'generation';
END;
CREATE TRIGGER generation_schemas_update AFTER UPDATE ON schema_library BEGIN
    UPDATE meta SET value = value + 1 WHERE key = 'generation';
END;
CREATE TRIGGER generation_schemas_delete AFTER DELETE ON schema_library BEGIN
    UPDATE meta SET value = value + 1 WHERE key = 'generation';
END;
