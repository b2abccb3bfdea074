-- Explicit changes of what others see of a capability (visibility, organization, price),
-- outside a version: who, when, and each field's old and new value (JSON). Publishing with
-- flags that change them is recorded here too.
CREATE TABLE listing_changes (
    id BIGSERIAL PRIMARY KEY,
    capability_id   TEXT NOT NULL REFERENCES capabilities(id),
    user_id         BIGINT NOT NULL REFERENCES users(id),
    changes         TEXT NOT NULL,
    at              TEXT NOT NULL
);
CREATE INDEX listing_changes_capability ON listing_changes (capability_id, id);

-- What a capability's settings were before a change (the change's number `seq`): the change
-- feed's `removed` names a capability only to readers who could see it before and cannot now,
-- so an id a reader never could see never reaches them.
CREATE TABLE removals (
    capability_id   TEXT NOT NULL REFERENCES capabilities(id),
    seq             BIGINT NOT NULL,
    visibility      TEXT NOT NULL,
    org             TEXT,
    owner_id        BIGINT NOT NULL,
    listed          BIGINT NOT NULL
);
CREATE INDEX removals_seq ON removals (seq);
