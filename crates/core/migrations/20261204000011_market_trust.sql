-- What the user consented to, per installed version (owner: registry::market): the
-- permissions, hosts and other capabilities computed from the signed manifest when it was
-- installed (or granted later from the run-time consent screen). A run of an installed
-- capability whose stored manifest needs more than this is refused (`consent_required`).
CREATE TABLE market_consents (
    capability_id   TEXT NOT NULL,
    version         TEXT NOT NULL,
    consented       TEXT NOT NULL,           -- JSON {permissions, domains, capabilities}
    consented_at    TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    PRIMARY KEY (capability_id, version)
);

-- Installs made before consent was kept per version: what was recorded then, and the
-- capabilities the installed version declared.
INSERT INTO market_consents (capability_id, version, consented)
SELECT i.capability_id, i.version,
       json_set(i.consented, '$.capabilities',
         (SELECT json_group_array(d.depends_on) FROM capability_dependencies d
           WHERE d.capability_id = i.capability_id AND d.version = i.version))
FROM market_installs i;

-- Versions the marketplace revoked (a security problem), as sync delivered them. Kept apart
-- from the listing cache so a cache reset or a listing that disappears does not lift a
-- revocation: only a later listing that shows the version un-revoked does.
CREATE TABLE market_revoked (
    capability_id   TEXT NOT NULL,
    version         TEXT NOT NULL,
    reason          TEXT NOT NULL,
    PRIMARY KEY (capability_id, version)
);
