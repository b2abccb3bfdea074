-- The marketplace client: the offline cache of listings (what the change feed delivered),
-- cached reviews, and what was installed from the marketplace (the pinned publisher key, the
-- consented permissions and domains, the version it replaced).
DROP TABLE marketplace_cache;

CREATE TABLE market_listings (
    -- The rowid of the listing's full-text entry: FTS5 finds rows by rowid, not by other columns.
    n               INTEGER PRIMARY KEY,
    id              TEXT NOT NULL UNIQUE,
    seq             INTEGER NOT NULL,
    name            TEXT NOT NULL,
    category        TEXT,
    tags            TEXT NOT NULL DEFAULT '[]',
    visibility      TEXT NOT NULL,
    price_cents     INTEGER NOT NULL DEFAULT 0,
    installs        INTEGER NOT NULL DEFAULT 0,
    rating          REAL NOT NULL DEFAULT 0,    -- average stars, 0 when unrated
    rating_count    INTEGER NOT NULL DEFAULT 0,
    featured        INTEGER NOT NULL DEFAULT 0,
    updated_at      TEXT NOT NULL
);
-- Each sort has an index covering its whole order, alone and within a category, so a page is
-- read in order and the scan stops after it.
CREATE INDEX market_listings_installs ON market_listings (installs DESC, id);
CREATE INDEX market_listings_rating ON market_listings (rating DESC, rating_count DESC, id);
CREATE INDEX market_listings_updated ON market_listings (updated_at DESC, id);
CREATE INDEX market_listings_name ON market_listings (name COLLATE NOCASE, id);
CREATE INDEX market_listings_category ON market_listings (category, installs DESC, id);
CREATE INDEX market_listings_price ON market_listings (price_cents);

-- The listings as served (JSON), apart: the rows searched and sorted stay narrow.
CREATE TABLE market_listing_docs (
    n               INTEGER PRIMARY KEY REFERENCES market_listings(n) ON DELETE CASCADE,
    listing         TEXT NOT NULL
);

-- Its rowid is market_listings.n.
CREATE VIRTUAL TABLE market_fts USING fts5(
    name, description, tags, tokenize = 'unicode61 remove_diacritics 2'
);

CREATE TABLE market_reviews (
    capability_id   TEXT PRIMARY KEY,
    reviews         TEXT NOT NULL,           -- JSON array of Review
    fetched_at      TEXT NOT NULL
);

CREATE TABLE market_installs (
    capability_id   TEXT PRIMARY KEY,
    version         TEXT NOT NULL,
    previous_version TEXT,
    publisher       TEXT NOT NULL,
    public_key      TEXT NOT NULL,           -- pinned: a later version signed by another key is refused
    sha256          TEXT NOT NULL,
    consented       TEXT NOT NULL,           -- JSON {permissions: [...], domains: [...]}
    source          TEXT NOT NULL,           -- the marketplace URL, or 'bundled'
    installed_at    TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
