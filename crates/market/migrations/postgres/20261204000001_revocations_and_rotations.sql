-- A marketplace administrator's revocation of a version (a security problem): the reason.
-- Unlike yanked, a revoked version stops running where it is installed (clients learn it by
-- sync) and is never served as installable.
ALTER TABLE versions ADD COLUMN revoked TEXT;
ALTER TABLE versions ADD COLUMN revoked_by BIGINT REFERENCES users(id);
ALTER TABLE versions ADD COLUMN revoked_at TEXT;

-- A publisher's hand-over from one signing key to the next, signed by the old key
-- (capsmith-key-rotation-v1\n<user>\n<old_key>\n<new_key>). Listings carry the chains of the
-- people who signed their versions, so a client that pinned an older key follows them offline.
CREATE TABLE key_rotations (
    id              BIGSERIAL PRIMARY KEY,
    user_id         BIGINT NOT NULL REFERENCES users(id),
    old_key         TEXT NOT NULL,
    new_key         TEXT NOT NULL,
    signature       TEXT NOT NULL,
    at              TEXT NOT NULL
);
CREATE INDEX key_rotations_user ON key_rotations (user_id, id);
