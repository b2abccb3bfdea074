//! The registry's marketplace tables (migration 8): the offline cache of listings with FTS5
//! search, cached reviews, and install records. Each sync page, each install (with its
//! dependencies) and each rollback is one transaction.

use serde::{Deserialize, Serialize};
use sqlx::Row;

use super::{import_one, newest_first, write_head, Imported, Registry};
use crate::dto::CapabilityStatus;
use crate::dto::MarketQuery;
use crate::manifest::model::Document;
use crate::market::{CategoryCount, Listing, Review};
use crate::validate::Manifest;
use crate::{CoreError, CoreResult};

/// What the user consented to for one installed version: computed from its signed manifest.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Consented {
    pub permissions: Vec<String>,
    pub domains: Vec<String>,
    /// Other capabilities it may call (its declared dependencies).
    #[serde(default)]
    pub capabilities: Vec<String>,
}

/// A capability installed from the marketplace.
#[derive(Debug, Clone, PartialEq)]
pub struct InstallRecord {
    pub capability_id: String,
    pub version: String,
    pub previous_version: Option<String>,
    pub publisher: String,
    pub public_key: String,
    pub sha256: String,
    pub consented: Consented,
    /// The marketplace URL, or `bundled`.
    pub source: String,
    pub installed_at: String,
}

fn record(r: &sqlx::sqlite::SqliteRow) -> InstallRecord {
    InstallRecord {
        capability_id: r.get("capability_id"),
        version: r.get("version"),
        previous_version: r.get("previous_version"),
        publisher: r.get("publisher"),
        public_key: r.get("public_key"),
        sha256: r.get("sha256"),
        consented: serde_json::from_str(r.get::<&str, _>("consented")).unwrap_or_default(),
        source: r.get("source"),
        installed_at: r.get("installed_at"),
    }
}

async fn put_consent(
    tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
    id: &str,
    version: &str,
    consented: &Consented,
) -> CoreResult<()> {
    sqlx::query(
        "INSERT INTO market_consents (capability_id, version, consented) VALUES (?1, ?2, ?3)
         ON CONFLICT (capability_id, version) DO UPDATE SET consented = excluded.consented,
           consented_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')",
    )
    .bind(id)
    .bind(version)
    .bind(serde_json::to_string(consented).unwrap_or_default())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Most full-text matches ranked by relevance (bm25); more are ordered by installs.
pub const RANKED_MATCHES: i64 = 1000;

/// Words of a query as an FTS5 prefix match; nothing else reaches the FTS syntax.
fn fts_match(text: &str) -> Option<String> {
    let words: Vec<String> = text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .take(8)
        .map(|w| format!("\"{}\"*", w.to_lowercase()))
        .collect();
    (!words.is_empty()).then(|| words.join(" "))
}

/// Writes a page of listings in three statements, whatever its size: the listings come in as
/// one JSON array that SQLite unpacks (`json_each`), their full-text rows are replaced by rowid.
/// (A statement per listing cost 0.3 s per 1,000.)
async fn put_listings(
    tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
    items: &[Listing],
) -> CoreResult<()> {
    if items.is_empty() {
        return Ok(());
    }
    let page = serde_json::to_string(items).unwrap_or_else(|_| "[]".into());
    sqlx::query(
        "DELETE FROM market_fts WHERE rowid IN
           (SELECT l.n FROM json_each(?1) j JOIN market_listings l ON l.id = j.value ->> '$.id')",
    )
    .bind(&page)
    .execute(&mut **tx)
    .await?;
    sqlx::query(
        "INSERT INTO market_listings (id, seq, name, category, tags, visibility, price_cents,
           installs, rating, rating_count, featured, updated_at)
         SELECT j.value ->> '$.id', j.value ->> '$.seq', j.value ->> '$.name',
           j.value ->> '$.category', j.value -> '$.tags', j.value ->> '$.visibility',
           j.value ->> '$.price_cents', j.value ->> '$.installs',
           COALESCE(j.value ->> '$.rating', 0), j.value ->> '$.rating_count',
           j.value ->> '$.featured', j.value ->> '$.updated_at'
         FROM json_each(?1) j WHERE true
         ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, name = excluded.name,
           category = excluded.category, tags = excluded.tags, visibility = excluded.visibility,
           price_cents = excluded.price_cents, installs = excluded.installs, rating = excluded.rating,
           rating_count = excluded.rating_count, featured = excluded.featured,
           updated_at = excluded.updated_at",
    )
    .bind(&page)
    .execute(&mut **tx)
    .await?;
    sqlx::query(
        "INSERT INTO market_listing_docs (n, listing)
         SELECT l.n, j.value FROM json_each(?1) j JOIN market_listings l ON l.id = j.value ->> '$.id'
         WHERE true ON CONFLICT (n) DO UPDATE SET listing = excluded.listing",
    )
    .bind(&page)
    .execute(&mut **tx)
    .await?;
    sqlx::query(
        "INSERT INTO market_fts (rowid, name, description, tags)
         SELECT l.n, l.name, COALESCE(j.value ->> '$.description', ''),
           (SELECT COALESCE(group_concat(t.value, ' '), '') FROM json_each(l.tags) t)
         FROM json_each(?1) j JOIN market_listings l ON l.id = j.value ->> '$.id'",
    )
    .bind(&page)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

impl Registry {
    /// Writes one sync page: listings in, removed ones out, and the cursor (`meta`) in the same
    /// transaction, so a sync stopped half-way resumes from the last whole page. `reset`
    /// empties the cache first (a full sync, or another marketplace).
    pub async fn market_apply_page(
        &self,
        reset: bool,
        items: &[Listing],
        removed: &[String],
        meta: &[(&str, String)],
    ) -> CoreResult<()> {
        let mut tx = self.pool().begin().await?;
        if reset {
            sqlx::query("DELETE FROM market_listing_docs")
                .execute(&mut *tx)
                .await?;
            sqlx::query("DELETE FROM market_listings")
                .execute(&mut *tx)
                .await?;
            sqlx::query("DELETE FROM market_fts")
                .execute(&mut *tx)
                .await?;
        }
        put_listings(&mut tx, items).await?;
        // Revocations: what each listing says now (a listing that disappears lifts nothing).
        if !items.is_empty() {
            let page = serde_json::to_string(items).unwrap_or_else(|_| "[]".into());
            sqlx::query(
                "DELETE FROM market_revoked WHERE capability_id IN
                   (SELECT j.value ->> '$.id' FROM json_each(?1) j)",
            )
            .bind(&page)
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "INSERT OR REPLACE INTO market_revoked (capability_id, version, reason)
                 SELECT j.value ->> '$.id', v.value ->> '$.version', v.value ->> '$.revoked'
                 FROM json_each(?1) j, json_each(j.value -> '$.versions') v
                 WHERE v.value ->> '$.revoked' IS NOT NULL",
            )
            .bind(&page)
            .execute(&mut *tx)
            .await?;
        }
        for id in removed {
            sqlx::query(
                "DELETE FROM market_fts WHERE rowid = (SELECT n FROM market_listings WHERE id = ?1)",
            )
            .bind(id)
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "DELETE FROM market_listing_docs WHERE n = (SELECT n FROM market_listings WHERE id = ?1)",
            )
            .bind(id)
            .execute(&mut *tx)
            .await?;
            sqlx::query("DELETE FROM market_listings WHERE id = ?1")
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        // The category counts every search page shows, kept current with the cache (counting
        // them on each search cost 7 ms at 100,000 listings).
        sqlx::query(
            "INSERT INTO meta (key, value)
             SELECT 'market.categories', COALESCE(json_group_array(json_object('name', category, 'count', n)), '[]')
             FROM (SELECT category, COUNT(*) AS n FROM market_listings WHERE category IS NOT NULL
                   GROUP BY category ORDER BY category)
             WHERE true
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        )
        .execute(&mut *tx)
        .await?;
        for (k, v) in meta {
            sqlx::query("INSERT INTO meta(key, value) VALUES (?1, ?2) ON CONFLICT(key) DO UPDATE SET value = excluded.value")
                .bind(k)
                .bind(v)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    pub async fn market_cached(&self) -> CoreResult<i64> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM market_listings")
            .fetch_one(self.pool())
            .await?)
    }

    pub async fn market_listing(&self, id: &str) -> CoreResult<Option<Listing>> {
        let text: Option<String> =
            sqlx::query_scalar(
                "SELECT d.listing FROM market_listings l JOIN market_listing_docs d ON d.n = l.n WHERE l.id = ?1",
            )
                .bind(id)
                .fetch_optional(self.pool())
                .await?;
        Ok(text.and_then(|t| serde_json::from_str(&t).ok()))
    }

    /// A page of cached listings and the total that match.
    pub async fn market_search(&self, q: &MarketQuery) -> CoreResult<(Vec<Listing>, i64)> {
        let mut conds: Vec<String> = vec!["1 = 1".into()];
        let mut binds: Vec<String> = Vec::new();
        let text = q.text.as_deref().and_then(fts_match);
        // With words, the listings are those the full-text index matches (the index first: CROSS
        // JOIN keeps SQLite from probing it once per listing); `ranked` adds the bm25 score.
        let (from, ranked) = match &text {
            Some(m) => {
                binds.push(m.clone());
                (
                    "(SELECT rowid AS r, 0 AS score FROM market_fts WHERE market_fts MATCH ?1) f CROSS JOIN market_listings l ON l.n = f.r",
                    "(SELECT rowid AS r, rank AS score FROM market_fts WHERE market_fts MATCH ?1) f CROSS JOIN market_listings l ON l.n = f.r",
                )
            }
            None => ("market_listings l", "market_listings l"),
        };
        if let Some(c) = q.category.as_deref().filter(|c| !c.is_empty()) {
            binds.push(c.to_string());
            conds.push(format!("l.category = ?{}", binds.len()));
        }
        if let Some(t) = q.tag.as_deref().filter(|c| !c.is_empty()) {
            binds.push(format!(
                "%{}%",
                serde_json::to_string(t).unwrap_or_default()
            ));
            conds.push(format!("l.tags LIKE ?{}", binds.len()));
        }
        match q.price.as_deref() {
            Some("free") => conds.push("l.price_cents = 0".into()),
            Some("paid") => conds.push("l.price_cents > 0".into()),
            None | Some("") | Some("all") => {}
            Some(other) => {
                return Err(CoreError::InvalidArgument(format!(
                    "price must be free or paid, not `{other}`"
                )))
            }
        }
        if q.custom == Some(true) {
            conds.push("l.visibility IN ('private', 'organization')".into());
        }
        // With words and no other sort, FTS5's bm25 score comes first, popularity breaks ties.
        let relevance =
            text.is_some() && matches!(q.sort.as_deref(), None | Some("") | Some("relevance"));
        let order = match q.sort.as_deref() {
            None | Some("") | Some("relevance") | Some("installs") => "l.installs DESC, l.id",
            Some("rating") => "l.rating DESC, l.rating_count DESC, l.id",
            Some("recent") => "l.updated_at DESC, l.id",
            Some("name") => "l.name COLLATE NOCASE, l.id",
            Some(other) => {
                return Err(CoreError::InvalidArgument(format!(
                    "sort must be relevance, installs, rating, recent or name, not `{other}`"
                )))
            }
        };
        let per_page = q.per_page.unwrap_or(24).clamp(1, 200);
        let page = q.page.unwrap_or(1).max(1);
        let where_ = conds.join(" AND ");
        // With words and nothing else to filter on, the index alone knows how many match.
        let count_sql = if text.is_some() && conds.len() == 1 {
            "SELECT COUNT(*) FROM market_fts WHERE market_fts MATCH ?1".to_string()
        } else {
            format!("SELECT COUNT(*) FROM {from} WHERE {where_}")
        };
        let mut count = sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(count_sql));
        for b in &binds {
            count = count.bind(b.as_str());
        }
        let total = count.fetch_one(self.pool()).await?;
        // bm25 is computed for every match: up to a thousand they are ranked, beyond that the
        // most installed come first.
        let (from, order) = if relevance && total <= RANKED_MATCHES {
            (ranked, format!("f.score, {order}"))
        } else {
            (from, order.to_string())
        };
        // The page is chosen on narrow rows, then its listings (JSON) are read: sorting thousands
        // of whole listings to keep 24 costs more than the search.
        let list_sql =
            format!(
            "SELECT d.listing FROM (SELECT l.n, {keys} FROM {from} WHERE {where_} ORDER BY {order}
               LIMIT {per_page} OFFSET {}) p JOIN market_listings l ON l.n = p.n
               JOIN market_listing_docs d ON d.n = p.n ORDER BY {outer}",
            (page - 1) * per_page,
            keys = if text.is_some() { "f.score AS score" } else { "0 AS score" },
            outer = order.replace("f.score", "p.score")
        );
        let mut list = sqlx::query_scalar::<_, String>(sqlx::AssertSqlSafe(list_sql));
        for b in &binds {
            list = list.bind(b.as_str());
        }
        let items = list
            .fetch_all(self.pool())
            .await?
            .into_iter()
            .filter_map(|t| serde_json::from_str(&t).ok())
            .collect();
        Ok((items, total))
    }

    /// The categories and their counts, as the last write to the cache left them.
    pub async fn market_categories(&self) -> CoreResult<Vec<CategoryCount>> {
        Ok(self
            .meta("market.categories")
            .await?
            .and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or_default())
    }

    pub async fn market_reviews(&self, id: &str) -> CoreResult<Vec<Review>> {
        let text: Option<String> =
            sqlx::query_scalar("SELECT reviews FROM market_reviews WHERE capability_id = ?1")
                .bind(id)
                .fetch_optional(self.pool())
                .await?;
        Ok(text
            .and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or_default())
    }

    pub async fn market_put_reviews(&self, id: &str, reviews: &[Review]) -> CoreResult<()> {
        sqlx::query(
            "INSERT INTO market_reviews (capability_id, reviews, fetched_at)
             VALUES (?1, ?2, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
             ON CONFLICT (capability_id) DO UPDATE SET reviews = excluded.reviews, fetched_at = excluded.fetched_at",
        )
        .bind(id)
        .bind(serde_json::to_string(reviews).unwrap_or_default())
        .execute(self.pool())
        .await?;
        Ok(())
    }

    pub async fn market_install_record(&self, id: &str) -> CoreResult<Option<InstallRecord>> {
        Ok(
            sqlx::query("SELECT * FROM market_installs WHERE capability_id = ?1")
                .bind(id)
                .fetch_optional(self.pool())
                .await?
                .as_ref()
                .map(record),
        )
    }

    pub async fn market_install_records(&self) -> CoreResult<Vec<InstallRecord>> {
        Ok(
            sqlx::query("SELECT * FROM market_installs ORDER BY capability_id")
                .fetch_all(self.pool())
                .await?
                .iter()
                .map(record)
                .collect(),
        )
    }

    /// Installs verified manifests and their records in one transaction: all or nothing.
    pub async fn market_install_all(
        &self,
        manifests: &[&Manifest],
        records: &[InstallRecord],
    ) -> CoreResult<Vec<Imported>> {
        let mut tx = self.pool().begin().await?;
        let mut out = Vec::new();
        for m in manifests {
            out.push(import_one(&mut tx, m, CapabilityStatus::Published).await?);
        }
        for r in records {
            sqlx::query(
                "INSERT INTO market_installs (capability_id, version, previous_version, publisher,
                   public_key, sha256, consented, source)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
                 ON CONFLICT (capability_id) DO UPDATE SET version = excluded.version,
                   previous_version = excluded.previous_version, publisher = excluded.publisher,
                   public_key = excluded.public_key, sha256 = excluded.sha256,
                   consented = excluded.consented, source = excluded.source,
                   installed_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')",
            )
            .bind(&r.capability_id)
            .bind(&r.version)
            .bind(r.previous_version.as_deref())
            .bind(&r.publisher)
            .bind(&r.public_key)
            .bind(&r.sha256)
            .bind(serde_json::to_string(&r.consented).unwrap_or_default())
            .bind(&r.source)
            .execute(&mut *tx)
            .await?;
            put_consent(&mut tx, &r.capability_id, &r.version, &r.consented).await?;
        }
        tx.commit().await?;
        Ok(out)
    }

    /// What the user consented to for this installed version (`None`: never).
    pub async fn market_consent(&self, id: &str, version: &str) -> CoreResult<Option<Consented>> {
        let row: Option<String> = sqlx::query_scalar(
            "SELECT consented FROM market_consents WHERE capability_id = ?1 AND version = ?2",
        )
        .bind(id)
        .bind(version)
        .fetch_optional(self.pool())
        .await?;
        row.map(|t| {
            serde_json::from_str(&t).map_err(|e| CoreError::CorruptRecord {
                id: id.to_string(),
                version: version.to_string(),
                message: format!("its consent record is damaged: {e}"),
            })
        })
        .transpose()
    }

    /// Records consent for an installed version (replacing what was there).
    pub async fn market_set_consent(
        &self,
        id: &str,
        version: &str,
        consented: &Consented,
    ) -> CoreResult<()> {
        let mut tx = self.pool().begin().await?;
        put_consent(&mut tx, id, version, consented).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The reason a version was revoked, as last synced.
    pub async fn market_revoked(&self, id: &str, version: &str) -> CoreResult<Option<String>> {
        Ok(sqlx::query_scalar(
            "SELECT reason FROM market_revoked WHERE capability_id = ?1 AND version = ?2",
        )
        .bind(id)
        .bind(version)
        .fetch_optional(self.pool())
        .await?)
    }

    /// Goes back to the version an update replaced: agents using the current version move to
    /// the previous one, the current version leaves the library, the record points back. One
    /// transaction.
    pub async fn market_rollback(&self, current: &str, back: &InstallRecord) -> CoreResult<()> {
        let id = &back.capability_id;
        let mut tx = self.pool().begin().await?;
        let def: Option<(String, String)> = sqlx::query_as(
            "SELECT definition, kind FROM capability_versions WHERE capability_id = ?1 AND version = ?2",
        )
        .bind(id)
        .bind(&back.version)
        .fetch_optional(&mut *tx)
        .await?;
        let Some((def, kind)) = def else {
            return Err(CoreError::NotFound(format!(
                "{id}@{} is no longer in the library; install it again instead",
                back.version
            )));
        };
        sqlx::query(
            "UPDATE agent_capabilities SET version = ?1 WHERE capability_id = ?2 AND version = ?3",
        )
        .bind(&back.version)
        .bind(id)
        .bind(current)
        .execute(&mut *tx)
        .await?;
        for sql in [
            "DELETE FROM capability_dependencies WHERE capability_id = ?1 AND version = ?2",
            "DELETE FROM capability_versions WHERE capability_id = ?1 AND version = ?2",
        ] {
            sqlx::query(sql)
                .bind(id)
                .bind(current)
                .execute(&mut *tx)
                .await?;
        }
        let mut left: Vec<String> =
            sqlx::query_scalar("SELECT version FROM capability_versions WHERE capability_id = ?1")
                .bind(id)
                .fetch_all(&mut *tx)
                .await?;
        newest_first(&mut left);
        if left.first() == Some(&back.version) {
            let doc: Document =
                serde_json::from_str(&def).map_err(|e| CoreError::CorruptRecord {
                    id: id.clone(),
                    version: back.version.clone(),
                    message: e.to_string(),
                })?;
            write_head(&mut tx, &doc, &kind, &back.version, false).await?;
        }
        sqlx::query(
            "UPDATE market_installs SET version = ?1, previous_version = NULL, public_key = ?2,
               sha256 = ?3, consented = ?4, installed_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
             WHERE capability_id = ?5",
        )
        .bind(&back.version)
        .bind(&back.public_key)
        .bind(&back.sha256)
        .bind(serde_json::to_string(&back.consented).unwrap_or_default())
        .bind(id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn market_forget_install(&self, id: &str) -> CoreResult<()> {
        let mut tx = self.pool().begin().await?;
        for sql in [
            "DELETE FROM market_installs WHERE capability_id = ?1",
            "DELETE FROM market_consents WHERE capability_id = ?1",
        ] {
            sqlx::query(sql).bind(id).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }
}
