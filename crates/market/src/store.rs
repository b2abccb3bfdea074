//! What the API does with the database: listings as a reader may see them, search, the change
//! feed, publishing, yanking, approvals, reviews, entitlements and install counts. Every write
//! runs in one transaction and moves the capability up the change feed (`seq`).

use std::collections::HashMap;

use capsmith_format::market::{
    Card, CategoryCount, ConfigKey, DependencyRef, KeyRotation, Listing, PublishOutcome,
    PublishRequest, Review, SearchPage, SyncPage, VersionInfo, VISIBILITIES,
};
use serde::{Deserialize, Serialize};
use sqlx::any::AnyRow;
use sqlx::Row;

use crate::db::{now, Backend, Db};
use crate::error::{MarketError, MarketResult};
use crate::users::User;

mod publish;
mod settings;

pub use publish::publish;
pub use settings::change_listing;
use settings::*;

/// What a version's `info` column holds.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct VersionExtra {
    permissions: Vec<String>,
    domains: Vec<String>,
    configuration: Vec<ConfigKey>,
    dependencies: Vec<DependencyRef>,
    /// What the version says about the capability: the head row shows the newest approved
    /// version's (versions published before this was kept have none).
    #[serde(default)]
    card: Option<VersionCard>,
    /// The capability's price when this version was published: a version published while it
    /// was paid stays paid, whatever the head row says later.
    #[serde(default)]
    price_cents: i64,
}

/// A version's own metadata, as the head row shows it once the version is approved.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct VersionCard {
    name: String,
    description: Option<String>,
    icon: Option<String>,
    category: Option<String>,
    tags: Vec<String>,
    kind: String,
    license: Option<String>,
}

const CARD_COLUMNS: &str = "c.id, c.owner_id, c.org, c.visibility, c.name, c.description, c.icon, \
    c.category, c.tags, c.kind, c.license, c.price_cents, c.installs, c.rating_sum, \
    c.rating_count, c.featured, c.deprecated, c.latest_version, c.seq, c.updated_at, \
    u.name AS publisher, u.verified AS publisher_verified, u.public_key AS publisher_key";

/// The SQL condition "the reader may see capability `c`" (ids are integers from the database,
/// written in as literals).
fn visible(viewer: Option<&User>) -> String {
    visible_in(viewer, "c")
}

/// [`visible`] over the table `t`, which has `visibility`, `owner_id`, `org` and `listed`
/// columns (`capabilities`, or a `removals` row: what a capability was before a change).
fn visible_in(viewer: Option<&User>, t: &str) -> String {
    match viewer {
        Some(u) if u.admin => "1 = 1".to_string(),
        Some(u) => format!(
            "({t}.visibility = 'public' OR {t}.owner_id = {id} OR ({t}.visibility = 'organization' AND \
               {t}.org IN (SELECT org FROM org_members WHERE user_id = {id}))) \
             AND ({t}.listed = 1 OR {t}.owner_id = {id} OR \
               {t}.org IN (SELECT org FROM org_members WHERE user_id = {id} AND role = 'admin'))",
            id = u.id
        ),
        None => format!("{t}.visibility = 'public' AND {t}.listed = 1"),
    }
}

/// May the reader see unapproved versions (and act as the publisher)?
fn privileged(viewer: Option<&User>, owner_id: i64, org: Option<&str>) -> bool {
    viewer.is_some_and(|u| u.admin || u.id == owner_id || org.is_some_and(|o| u.is_org_admin(o)))
}

struct CardRow {
    card: Card,
    owner_id: i64,
    seq: i64,
    publisher_key: Option<String>,
}

fn card_row(r: &AnyRow) -> MarketResult<CardRow> {
    let tags: String = r.try_get("tags")?;
    let rating_sum: i64 = r.try_get("rating_sum")?;
    let rating_count: i64 = r.try_get("rating_count")?;
    let price_cents: i64 = r.try_get("price_cents")?;
    Ok(CardRow {
        owner_id: r.try_get("owner_id")?,
        seq: r.try_get("seq")?,
        publisher_key: r.try_get("publisher_key")?,
        card: Card {
            id: r.try_get("id")?,
            name: r.try_get("name")?,
            description: r.try_get("description")?,
            icon: r.try_get("icon")?,
            category: r.try_get("category")?,
            tags: serde_json::from_str(&tags).unwrap_or_default(),
            kind: r.try_get("kind")?,
            publisher: r.try_get("publisher")?,
            publisher_verified: r.try_get::<i64, _>("publisher_verified")? != 0,
            org: r.try_get("org")?,
            visibility: r.try_get("visibility")?,
            license: r.try_get("license")?,
            price_cents,
            entitled: price_cents == 0,
            installs: r.try_get("installs")?,
            rating: (rating_count > 0).then(|| rating_sum as f64 / rating_count as f64),
            rating_count,
            featured: r.try_get::<i64, _>("featured")? != 0,
            deprecated: r.try_get("deprecated")?,
            latest_version: r.try_get("latest_version")?,
            updated_at: r.try_get("updated_at")?,
        },
    })
}

/// A version row: its capability, what readers see of it, its README, who published it.
type VersionRow = (String, VersionInfo, String, i64);

fn version_row(r: &AnyRow) -> MarketResult<VersionRow> {
    let info: String = r.try_get("info")?;
    let extra: VersionExtra = serde_json::from_str(&info).unwrap_or_default();
    Ok((
        r.try_get("capability_id")?,
        VersionInfo {
            version: r.try_get("version")?,
            sha256: r.try_get("sha256")?,
            signature: r.try_get("signature")?,
            public_key: r.try_get("public_key")?,
            size: r.try_get("size")?,
            permissions: extra.permissions,
            domains: extra.domains,
            configuration: extra.configuration,
            dependencies: extra.dependencies,
            tests_passed: r.try_get("tests_passed")?,
            tests_total: r.try_get("tests_total")?,
            yanked: r.try_get("yanked")?,
            revoked: r.try_get("revoked")?,
            approved: r.try_get::<i64, _>("approved")? != 0,
            published_at: r.try_get("published_at")?,
        },
        r.try_get("readme")?,
        r.try_get("published_by")?,
    ))
}

fn semver_key(v: &str) -> semver::Version {
    semver::Version::parse(v).unwrap_or(semver::Version::new(0, 0, 0))
}

/// Ids of paid capabilities among `ids` the user holds an entitlement to.
async fn entitled_ids(db: &Db, viewer: Option<&User>) -> MarketResult<Vec<String>> {
    let Some(u) = viewer else {
        return Ok(Vec::new());
    };
    let rows: Vec<(String,)> =
        sqlx::query_as(db.sql("SELECT capability_id FROM entitlements WHERE user_id = $1"))
            .bind(u.id)
            .fetch_all(&db.pool)
            .await?;
    Ok(rows.into_iter().map(|r| r.0).collect())
}

/// Turns card rows and their version rows into listings as the reader may see them.
async fn listings(
    db: &Db,
    viewer: Option<&User>,
    rows: Vec<CardRow>,
    versions: Vec<VersionRow>,
) -> MarketResult<Vec<Listing>> {
    let entitled = entitled_ids(db, viewer).await?;
    // Whose key hand-overs each listing carries: everyone who signed one of its versions.
    let mut signers: HashMap<String, Vec<i64>> = HashMap::new();
    for (id, _, _, by) in &versions {
        let s = signers.entry(id.clone()).or_default();
        if !s.contains(by) {
            s.push(*by);
        }
    }
    let rotations = key_rotations(db, signers.values().flatten().copied()).await?;
    let mut by_cap: HashMap<String, Vec<(VersionInfo, String)>> = HashMap::new();
    // Unapproved versions the reader did not publish: only those who may approve them see them.
    let mut waiting: HashMap<String, Vec<(VersionInfo, String)>> = HashMap::new();
    for (id, v, readme, by) in versions {
        let to = if v.approved || viewer.is_some_and(|u| u.id == by) {
            &mut by_cap
        } else {
            &mut waiting
        };
        to.entry(id).or_default().push((v, readme));
    }
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let mut card = row.card;
        let card_id = card.id.clone();
        let privileged = privileged(viewer, row.owner_id, card.org.as_deref());
        let mut vs: Vec<(VersionInfo, String)> = by_cap.remove(&card.id).unwrap_or_default();
        if privileged {
            vs.extend(waiting.remove(&card.id).unwrap_or_default());
        }
        vs.sort_by_key(|b| std::cmp::Reverse(semver_key(&b.0.version)));
        let latest = vs
            .iter()
            .find(|(v, _)| v.yanked.is_none() && v.revoked.is_none());
        card.latest_version = latest.map(|(v, _)| v.version.clone());
        let readme = latest
            .or(vs.first())
            .map(|(_, r)| r.clone())
            .unwrap_or_default();
        card.entitled = card.price_cents == 0 || privileged || entitled.contains(&card.id);
        out.push(Listing {
            card,
            publisher_key: row.publisher_key,
            versions: vs.into_iter().map(|(v, _)| v).collect(),
            readme,
            seq: row.seq,
            key_rotations: rotations
                .iter()
                .filter(|(by, _)| signers.get(&card_id).is_some_and(|s| s.contains(by)))
                .map(|(_, r)| r.clone())
                .collect(),
        });
    }
    Ok(out)
}

/// The key hand-overs of these users, oldest first, each with its user's id.
async fn key_rotations(
    db: &Db,
    users: impl Iterator<Item = i64>,
) -> MarketResult<Vec<(i64, KeyRotation)>> {
    let mut ids: Vec<i64> = users.collect();
    ids.sort_unstable();
    ids.dedup();
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    // Integers only reach the text of the query.
    let list = ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
    let rows = sqlx::query(db.sql(&format!(
        "SELECT r.user_id, u.name, r.old_key, r.new_key, r.signature, r.at FROM key_rotations r
         JOIN users u ON u.id = r.user_id WHERE r.user_id IN ({list}) ORDER BY r.id"
    )))
    .fetch_all(&db.pool)
    .await?;
    rows.iter()
        .map(|r| {
            Ok((
                r.try_get("user_id")?,
                KeyRotation {
                    user: r.try_get("name")?,
                    old_key: r.try_get("old_key")?,
                    new_key: r.try_get("new_key")?,
                    signature: r.try_get("signature")?,
                    at: r.try_get("at")?,
                },
            ))
        })
        .collect()
}

const VERSION_COLUMNS: &str = "v.capability_id, v.version, v.sha256, v.signature, v.public_key, \
    v.size, v.readme, v.info, v.tests_passed, v.tests_total, v.yanked, v.revoked, v.approved, \
    v.published_at, v.published_by";

/// One capability as the reader may see it.
pub async fn listing(db: &Db, viewer: Option<&User>, id: &str) -> MarketResult<Listing> {
    let row = sqlx::query(db.sql(&format!(
        "SELECT {CARD_COLUMNS} FROM capabilities c JOIN users u ON u.id = c.owner_id
         WHERE c.id = $1 AND {}",
        visible(viewer)
    )))
    .bind(id)
    .fetch_optional(&db.pool)
    .await?
    .ok_or_else(|| MarketError::NotFound(format!("no capability `{id}` in the marketplace")))?;
    let row = card_row(&row)?;
    let versions = sqlx::query(db.sql(&format!(
        "SELECT {VERSION_COLUMNS} FROM versions v WHERE v.capability_id = $1"
    )))
    .bind(id)
    .fetch_all(&db.pool)
    .await?
    .iter()
    .map(version_row)
    .collect::<MarketResult<Vec<_>>>()?;
    Ok(listings(db, viewer, vec![row], versions).await?.remove(0))
}

/// Search and browse parameters.
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
pub struct SearchParams {
    /// Full-text query (words match name, description and tags; prefixes count).
    pub q: Option<String>,
    pub category: Option<String>,
    pub tag: Option<String>,
    /// `free` or `paid`.
    pub price: Option<String>,
    /// `relevance` (default with `q`), `installs` (default), `rating`, `recent`, `name`.
    pub sort: Option<String>,
    /// `true` for featured ones only.
    pub featured: Option<bool>,
    /// 1-based.
    pub page: Option<i64>,
    /// At most 100 (default 24).
    pub per_page: Option<i64>,
}

/// Words of a query, each reduced to letters and digits (nothing reaches the FTS syntax).
fn words(q: &str) -> Vec<String> {
    q.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .take(8)
        .map(|w| w.to_lowercase())
        .collect()
}

/// Most full-text matches SQLite orders by relevance (bm25); more are ordered by installs.
pub const SQLITE_RANKED_MATCHES: i64 = 1000;

pub async fn search(db: &Db, viewer: Option<&User>, p: &SearchParams) -> MarketResult<SearchPage> {
    let per_page = p.per_page.unwrap_or(24).clamp(1, 100);
    let page = p.page.unwrap_or(1).max(1);
    let mut conds = vec![visible(viewer)];
    let mut binds: Vec<String> = Vec::new();
    let mut n = 0;
    let mut param = |binds: &mut Vec<String>, v: String| {
        n += 1;
        binds.push(v);
        format!("${n}")
    };
    let ws = p.q.as_deref().map(words).unwrap_or_default();
    let mut rank = String::new();
    let mut from = "capabilities c";
    if !ws.is_empty() {
        match db.backend {
            Backend::Sqlite => {
                let m = ws
                    .iter()
                    .map(|w| format!("\"{w}\"*"))
                    .collect::<Vec<_>>()
                    .join(" ");
                // The full-text index drives the query (a few hundred matches), not the other
                // way round (every visible row checked against the matches), and gives bm25.
                let ph = param(&mut binds, m);
                // CROSS JOIN keeps this order: SQLite otherwise may probe the index once per
                // visible row (measured: 73 s for one count at 100,000 capabilities).
                from = "capabilities_fts f CROSS JOIN capabilities c ON c.num = f.rowid";
                conds.push(format!("capabilities_fts MATCH {ph}"));
                rank = "f.rank, ".into();
            }
            Backend::Postgres => {
                let m = ws
                    .iter()
                    .map(|w| format!("{w}:*"))
                    .collect::<Vec<_>>()
                    .join(" & ");
                let ph = param(&mut binds, m);
                conds.push(format!("c.search @@ to_tsquery('simple', {ph})"));
                rank = format!("ts_rank(c.search, to_tsquery('simple', {ph})) DESC, ");
            }
        }
    }
    if let Some(cat) = p.category.as_deref().filter(|c| !c.is_empty()) {
        let ph = param(&mut binds, cat.to_string());
        conds.push(format!("c.category = {ph}"));
    }
    if let Some(tag) = p.tag.as_deref().filter(|c| !c.is_empty()) {
        let ph = param(
            &mut binds,
            format!("%{}%", serde_json::to_string(tag).unwrap_or_default()),
        );
        conds.push(format!("c.tags LIKE {ph}"));
    }
    match p.price.as_deref() {
        Some("free") => conds.push("c.price_cents = 0".into()),
        Some("paid") => conds.push("c.price_cents > 0".into()),
        None | Some("") | Some("all") => {}
        Some(other) => {
            return Err(MarketError::BadRequest(format!(
                "price must be free or paid, not `{other}`"
            )))
        }
    }
    if p.featured == Some(true) {
        conds.push("c.featured = 1".into());
    }
    // With words and no other sort, relevance comes first, popularity breaks ties.
    let relevance =
        !ws.is_empty() && matches!(p.sort.as_deref(), None | Some("") | Some("relevance"));
    let order: String = match p.sort.as_deref() {
        None | Some("") | Some("relevance") | Some("installs") => "c.installs DESC, c.id".into(),
        Some("rating") => "c.rating_score DESC, c.rating_count DESC, c.id".into(),
        Some("recent") => "c.updated_at DESC, c.id".into(),
        Some("name") => "c.name, c.id".into(),
        Some(other) => {
            return Err(MarketError::BadRequest(format!(
                "sort must be relevance, installs, rating, recent or name, not `{other}`"
            )))
        }
    };
    let where_ = conds.join(" AND ");
    let count_sql = db.sql(&format!("SELECT COUNT(*) FROM {from} WHERE {where_}"));
    let mut count = sqlx::query_as::<_, (i64,)>(count_sql);
    for b in &binds {
        count = count.bind(b.as_str());
    }
    let (total,) = count.fetch_one(&db.pool).await?;
    // bm25 is computed for every match: beyond a thousand, SQLite lists the most installed
    // matches first instead (PostgreSQL's ts_rank is cheap enough to keep).
    let order = if relevance && !(db.backend == Backend::Sqlite && total > SQLITE_RANKED_MATCHES) {
        format!("{rank}{order}")
    } else {
        order
    };
    // The page is chosen on ids alone (in index order where an index serves the sort), then
    // its cards are read: sorting thousands of whole rows to keep 24 costs more than the query.
    let ids_sql = db.sql(&format!(
        "SELECT c.id FROM {from} WHERE {where_} ORDER BY {order} LIMIT {per_page} OFFSET {}",
        (page - 1).saturating_mul(per_page)
    ));
    let mut q = sqlx::query_as::<_, (String,)>(ids_sql);
    for b in &binds {
        q = q.bind(b.as_str());
    }
    let ids: Vec<String> = q
        .fetch_all(&db.pool)
        .await?
        .into_iter()
        .map(|r| r.0)
        .collect();
    let mut items: Vec<Card> = Vec::with_capacity(ids.len());
    if !ids.is_empty() {
        let marks: Vec<String> = (1..=ids.len()).map(|i| format!("${i}")).collect();
        let cards_sql = db.sql(&format!(
            "SELECT {CARD_COLUMNS} FROM capabilities c JOIN users u ON u.id = c.owner_id
             WHERE c.id IN ({})",
            marks.join(", ")
        ));
        let mut q = sqlx::query(cards_sql);
        for id in &ids {
            q = q.bind(id.as_str());
        }
        let entitled = entitled_ids(db, viewer).await?;
        let mut by_id: HashMap<String, Card> = HashMap::new();
        for r in q.fetch_all(&db.pool).await? {
            let row = card_row(&r)?;
            let mut card = row.card;
            card.entitled = card.price_cents == 0
                || privileged(viewer, row.owner_id, card.org.as_deref())
                || entitled.contains(&card.id);
            by_id.insert(card.id.clone(), card);
        }
        items.extend(ids.iter().filter_map(|id| by_id.remove(id)));
    }
    Ok(SearchPage {
        items,
        total,
        page,
        per_page,
    })
}

pub async fn categories(db: &Db, viewer: Option<&User>) -> MarketResult<Vec<CategoryCount>> {
    let rows: Vec<(String, i64)> = sqlx::query_as(db.sql(&format!(
        "SELECT c.category, COUNT(*) FROM capabilities c
         WHERE c.category IS NOT NULL AND {} GROUP BY c.category ORDER BY c.category",
        visible(viewer)
    )))
    .fetch_all(&db.pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(name, count)| CategoryCount { name, count })
        .collect())
}

/// The change feed: listings the reader may see that changed after `since`, in change order.
/// A page ends on a whole change number, so equal numbers never straddle two pages.
pub async fn sync(
    db: &Db,
    viewer: Option<&User>,
    since: i64,
    limit: i64,
) -> MarketResult<SyncPage> {
    let limit = limit.clamp(1, 5000);
    let vis = visible(viewer);
    // A page is a range of change numbers: read it through their index. Without statistics
    // SQLite preferred the visibility index and read every capability for each page.
    let by_seq = match db.backend {
        Backend::Sqlite => "capabilities c INDEXED BY capabilities_seq",
        Backend::Postgres => "capabilities c",
    };
    let cutoff: Option<(i64,)> = sqlx::query_as(db.sql(&format!(
        "SELECT c.seq FROM {by_seq} WHERE c.seq > $1 AND {vis}
         ORDER BY c.seq LIMIT 1 OFFSET {}",
        limit - 1
    )))
    .bind(since)
    .fetch_optional(&db.pool)
    .await?;
    // What is left after this page, for progress: counted on the change index alone (an upper
    // bound: a few of those may be hidden from this reader, who then gets an empty last page).
    let (upper, remaining) = match cutoff {
        Some((s,)) => {
            let (after,): (i64,) =
                sqlx::query_as(db.sql("SELECT COUNT(*) FROM capabilities WHERE seq > $1"))
                    .bind(s)
                    .fetch_one(&db.pool)
                    .await?;
            (s, after)
        }
        None => (i64::MAX, 0),
    };
    let rows = sqlx::query(db.sql(&format!(
        "SELECT {CARD_COLUMNS} FROM {by_seq} JOIN users u ON u.id = c.owner_id
         WHERE c.seq > $1 AND c.seq <= $2 AND {vis} ORDER BY c.seq"
    )))
    .bind(since)
    .bind(upper)
    .fetch_all(&db.pool)
    .await?
    .iter()
    .map(card_row)
    .collect::<MarketResult<Vec<_>>>()?;
    let versions = sqlx::query(db.sql(&format!(
        "SELECT {VERSION_COLUMNS} FROM {by_seq} JOIN versions v ON v.capability_id = c.id
         WHERE c.seq > $1 AND c.seq <= $2 AND {vis}"
    )))
    .bind(since)
    .bind(upper)
    .fetch_all(&db.pool)
    .await?
    .iter()
    .map(version_row)
    .collect::<MarketResult<Vec<_>>>()?;
    // Removed: what this reader could see before a change after the cursor and cannot now.
    // Never an id the reader could not see before: a capability they never saw stays unknown.
    let removed: Vec<String> = if since > 0 {
        let before = visible_in(viewer, "r");
        sqlx::query_as::<_, (String,)>(db.sql(&format!(
            "SELECT DISTINCT c.id FROM removals r JOIN capabilities c ON c.id = r.capability_id
             WHERE r.seq > $1 AND r.seq <= $2 AND {before} AND NOT ({vis})"
        )))
        .bind(since)
        .bind(upper)
        .fetch_all(&db.pool)
        .await?
        .into_iter()
        .map(|r| r.0)
        .collect()
    } else {
        Vec::new()
    };
    let items = listings(db, viewer, rows, versions).await?;
    let cursor = match items.last() {
        Some(l) => l.seq.max(since),
        None if upper == i64::MAX => max_seq(db).await?.max(since),
        None => upper,
    };
    Ok(SyncPage {
        cursor,
        items,
        removed,
        more: remaining > 0,
        remaining,
    })
}

/// The newest change number.
pub async fn max_seq(db: &Db) -> MarketResult<i64> {
    let (v,): (i64,) = sqlx::query_as("SELECT value FROM counters WHERE name = 'seq'")
        .fetch_one(&db.pool)
        .await?;
    Ok(v)
}

/// The highest version (optionally only approved, not yanked ones).
async fn newest_version(
    db: &Db,
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    id: &str,
    installable: bool,
) -> MarketResult<Option<String>> {
    let sql = if installable {
        "SELECT version FROM versions WHERE capability_id = $1 AND approved = 1 AND yanked IS NULL AND revoked IS NULL"
    } else {
        "SELECT version FROM versions WHERE capability_id = $1"
    };
    let rows: Vec<(String,)> = sqlx::query_as(db.sql(sql))
        .bind(id)
        .fetch_all(&mut **tx)
        .await?;
    Ok(rows
        .into_iter()
        .map(|r| r.0)
        .max_by(|a, b| semver_key(a).cmp(&semver_key(b))))
}

/// Writes a version's metadata into the head row (and, on SQLite, the full-text index).
async fn show_card(
    db: &Db,
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    id: &str,
    card: &VersionCard,
) -> MarketResult<()> {
    let tags = serde_json::to_string(&card.tags).unwrap_or_else(|_| "[]".into());
    sqlx::query(db.sql(
        "UPDATE capabilities SET name = $1, description = $2, icon = $3, category = $4, tags = $5,
           kind = $6, license = $7 WHERE id = $8",
    ))
    .bind(&card.name)
    .bind(card.description.as_deref())
    .bind(card.icon.as_deref())
    .bind(card.category.as_deref())
    .bind(&tags)
    .bind(&card.kind)
    .bind(card.license.as_deref())
    .bind(id)
    .execute(&mut **tx)
    .await?;
    if db.backend == Backend::Sqlite {
        sqlx::query(
            "DELETE FROM capabilities_fts WHERE rowid = (SELECT num FROM capabilities WHERE id = ?1)",
        )
        .bind(id)
        .execute(&mut **tx)
        .await?;
        sqlx::query(
            "INSERT INTO capabilities_fts (rowid, name, description, tags)
             VALUES ((SELECT num FROM capabilities WHERE id = ?1), ?2, ?3, ?4)",
        )
        .bind(id)
        .bind(&card.name)
        .bind(card.description.as_deref().unwrap_or(""))
        .bind(card.tags.join(" "))
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// Moves a capability up the change feed and recomputes its installable latest version.
async fn touch(
    db: &Db,
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    id: &str,
    seq: i64,
) -> MarketResult<()> {
    let latest = newest_version(db, tx, id, true).await?;
    // Its metadata is the newest approved version's (not yanked, if any is not): a version
    // waiting for approval changes nothing others see.
    let approved_versions: Vec<(String, String, Option<String>)> = sqlx::query_as(db.sql(
        "SELECT version, info, yanked FROM versions WHERE capability_id = $1 AND approved = 1",
    ))
    .bind(id)
    .fetch_all(&mut **tx)
    .await?;
    let shown = approved_versions
        .iter()
        .filter(|v| v.2.is_none())
        .max_by(|a, b| semver_key(&a.0).cmp(&semver_key(&b.0)))
        .or_else(|| {
            approved_versions
                .iter()
                .max_by(|a, b| semver_key(&a.0).cmp(&semver_key(&b.0)))
        })
        .and_then(|v| serde_json::from_str::<VersionExtra>(&v.1).ok())
        .and_then(|e| e.card);
    if let Some(card) = shown {
        show_card(db, tx, id, &card).await?;
    }
    let (approved,): (i64,) = sqlx::query_as(
        db.sql("SELECT COUNT(*) FROM versions WHERE capability_id = $1 AND approved = 1"),
    )
    .bind(id)
    .fetch_one(&mut **tx)
    .await?;
    sqlx::query(db.sql(
        "UPDATE capabilities SET latest_version = $1, listed = $2, seq = $3, updated_at = $4 WHERE id = $5",
    ))
    .bind(latest.as_deref())
    .bind((approved > 0) as i64)
    .bind(seq)
    .bind(now())
    .bind(id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Ends a write to a capability: it takes the next change number, its head row is
/// recomputed, and the transaction commits.
async fn commit_change(
    db: &Db,
    mut tx: sqlx::Transaction<'static, sqlx::Any>,
    id: &str,
) -> MarketResult<()> {
    let seq = db.next_seq(&mut tx).await?;
    touch(db, &mut tx, id, seq).await?;
    tx.commit().await?;
    Ok(())
}

/// The owner, org and price of a capability the user may see; `not_found` otherwise.
async fn head(
    db: &Db,
    viewer: Option<&User>,
    id: &str,
) -> MarketResult<(i64, Option<String>, i64)> {
    let row = sqlx::query(db.sql(&format!(
        "SELECT c.owner_id, c.org, c.price_cents FROM capabilities c WHERE c.id = $1 AND {}",
        visible(viewer)
    )))
    .bind(id)
    .fetch_optional(&db.pool)
    .await?
    .ok_or_else(|| MarketError::NotFound(format!("no capability `{id}` in the marketplace")))?;
    Ok((
        row.try_get("owner_id")?,
        row.try_get("org")?,
        row.try_get("price_cents")?,
    ))
}

/// The package archive of a version the reader may download.
pub async fn package(
    db: &Db,
    viewer: Option<&User>,
    id: &str,
    version: &str,
) -> MarketResult<Vec<u8>> {
    let (owner, org, price) = head(db, viewer, id).await?;
    let privileged = privileged(viewer, owner, org.as_deref());
    let row = sqlx::query(db.sql(
        "SELECT sha256, approved, published_by, info, revoked FROM versions WHERE capability_id = $1 AND version = $2",
    ))
    .bind(id)
    .bind(version)
    .fetch_optional(&db.pool)
    .await?
    .ok_or_else(|| MarketError::NotFound(format!("no version {version} of `{id}`")))?;
    // Its own publisher and those who may approve it get an unapproved version; nobody else
    // learns that it exists.
    let by: i64 = row.try_get("published_by")?;
    let own = viewer.is_some_and(|u| u.id == by);
    let approved = row.try_get::<i64, _>("approved").unwrap_or(0) != 0;
    if !(approved || privileged || own) {
        return Err(MarketError::NotFound(format!(
            "no version {version} of `{id}`"
        )));
    }
    // A revoked version is kept for its publisher side to look into, served to nobody else.
    if let Some(reason) = row.try_get::<Option<String>, _>("revoked")? {
        if !(privileged || own) {
            return Err(MarketError::Revoked(format!(
                "{id}@{version} was revoked by the marketplace: {reason}"
            )));
        }
    }
    // Paid now, or paid when this version was published: entitled readers only.
    let version_price = row
        .try_get::<String, _>("info")
        .ok()
        .and_then(|i| serde_json::from_str::<VersionExtra>(&i).ok())
        .map(|e| e.price_cents)
        .unwrap_or(0);
    if (price > 0 || version_price > 0) && !privileged && !own {
        let ok =
            match viewer {
                Some(u) => sqlx::query_as::<_, (i64,)>(db.sql(
                    "SELECT COUNT(*) FROM entitlements WHERE capability_id = $1 AND user_id = $2",
                ))
                .bind(id)
                .bind(u.id)
                .fetch_one(&db.pool)
                .await?
                .0 > 0,
                None => false,
            };
        if !ok {
            return Err(MarketError::PaymentRequired(id.to_string()));
        }
    }
    let sha: String = row.try_get("sha256")?;
    db.get_blob(&sha).await
}

/// Actions only the publisher side may take: the owner, an admin of its organization, or a
/// marketplace administrator.
async fn require_publisher(db: &Db, user: &User, id: &str) -> MarketResult<Option<String>> {
    let (owner, org, _) = head(db, Some(user), id).await?;
    if !privileged(Some(user), owner, org.as_deref()) {
        return Err(MarketError::Forbidden(format!(
            "only the publisher of `{id}` (or an admin of its organization) may do this"
        )));
    }
    Ok(org)
}

pub async fn yank(db: &Db, user: &User, id: &str, version: &str, reason: &str) -> MarketResult<()> {
    require_publisher(db, user, id).await?;
    let mut tx = db.write().await?;
    let n = sqlx::query(
        db.sql("UPDATE versions SET yanked = $1 WHERE capability_id = $2 AND version = $3"),
    )
    .bind(if reason.trim().is_empty() {
        "yanked"
    } else {
        reason.trim()
    })
    .bind(id)
    .bind(version)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if n == 0 {
        return Err(MarketError::NotFound(format!(
            "no version {version} of `{id}`"
        )));
    }
    commit_change(db, tx, id).await?;
    Ok(())
}

/// A marketplace administrator revokes a version (a security problem): clients that installed
/// it stop running it once they sync, and nobody else may download it. `reason: None` lifts
/// a revocation made in error.
pub async fn revoke(
    db: &Db,
    user: &User,
    id: &str,
    version: &str,
    reason: Option<&str>,
) -> MarketResult<()> {
    require_admin(user)?;
    head(db, Some(user), id).await?;
    let reason = reason
        .map(str::trim)
        .map(|r| if r.is_empty() { "revoked" } else { r });
    let mut tx = db.write().await?;
    let n = sqlx::query(db.sql(
        "UPDATE versions SET revoked = $1, revoked_by = $2, revoked_at = $3 WHERE capability_id = $4 AND version = $5",
    ))
    .bind(reason)
    .bind(reason.map(|_| user.id))
    .bind(reason.map(|_| now()))
    .bind(id)
    .bind(version)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if n == 0 {
        return Err(MarketError::NotFound(format!(
            "no version {version} of `{id}`"
        )));
    }
    commit_change(db, tx, id).await?;
    Ok(())
}

pub async fn deprecate(db: &Db, user: &User, id: &str, message: Option<&str>) -> MarketResult<()> {
    require_publisher(db, user, id).await?;
    let mut tx = db.write().await?;
    sqlx::query(db.sql("UPDATE capabilities SET deprecated = $1 WHERE id = $2"))
        .bind(message.map(str::trim).filter(|m| !m.is_empty()))
        .bind(id)
        .execute(&mut *tx)
        .await?;
    commit_change(db, tx, id).await?;
    Ok(())
}

/// An organization admin (or a marketplace administrator) approves a version.
pub async fn approve(db: &Db, user: &User, id: &str, version: &str) -> MarketResult<()> {
    let (_, org, _) = head(db, Some(user), id).await?;
    let may = user.admin || org.as_deref().is_some_and(|o| user.is_org_admin(o));
    if !may {
        return Err(MarketError::Forbidden(format!(
            "only an admin of `{}` may approve its versions",
            org.unwrap_or_else(|| "the organization".into())
        )));
    }
    let mut tx = db.write().await?;
    let n = sqlx::query(
        db.sql("UPDATE versions SET approved = 1 WHERE capability_id = $1 AND version = $2"),
    )
    .bind(id)
    .bind(version)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if n == 0 {
        return Err(MarketError::NotFound(format!(
            "no version {version} of `{id}`"
        )));
    }
    commit_change(db, tx, id).await?;
    Ok(())
}

/// One review per user and capability; writing again edits it.
pub async fn review(
    db: &Db,
    user: &User,
    id: &str,
    stars: i64,
    text: &str,
) -> MarketResult<Review> {
    if !(1..=5).contains(&stars) {
        return Err(MarketError::BadRequest("stars must be 1 to 5".into()));
    }
    if text.len() > 4000 {
        return Err(MarketError::TooLarge(
            "a review is at most 4000 bytes".into(),
        ));
    }
    head(db, Some(user), id).await?;
    let at = now();
    let mut tx = db.write().await?;
    sqlx::query(db.sql(
        "INSERT INTO reviews (capability_id, user_id, stars, text, updated_at) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (capability_id, user_id) DO UPDATE SET stars = excluded.stars, text = excluded.text,
           updated_at = excluded.updated_at",
    ))
    .bind(id)
    .bind(user.id)
    .bind(stars)
    .bind(text.trim())
    .bind(&at)
    .execute(&mut *tx)
    .await?;
    sqlx::query(db.sql(
        "UPDATE capabilities SET
           rating_sum = (SELECT COALESCE(SUM(stars), 0) FROM reviews WHERE capability_id = $1),
           rating_count = (SELECT COUNT(*) FROM reviews WHERE capability_id = $1)
         WHERE id = $1",
    ))
    .bind(id)
    .execute(&mut *tx)
    .await?;
    sqlx::query(db.sql(
        "UPDATE capabilities SET rating_score =
           CASE WHEN rating_count = 0 THEN 0 ELSE rating_sum * 1000 / rating_count END
         WHERE id = $1",
    ))
    .bind(id)
    .execute(&mut *tx)
    .await?;
    commit_change(db, tx, id).await?;
    Ok(Review {
        user: user.name.clone(),
        stars,
        text: text.trim().to_string(),
        updated_at: at,
    })
}

pub async fn reviews(db: &Db, viewer: Option<&User>, id: &str) -> MarketResult<Vec<Review>> {
    head(db, viewer, id).await?;
    let rows = sqlx::query(db.sql(
        "SELECT u.name, r.stars, r.text, r.updated_at FROM reviews r JOIN users u ON u.id = r.user_id
         WHERE r.capability_id = $1 ORDER BY r.updated_at DESC LIMIT 200",
    ))
    .bind(id)
    .fetch_all(&db.pool)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(Review {
                user: r.try_get("name")?,
                stars: r.try_get("stars")?,
                text: r.try_get("text")?,
                updated_at: r.try_get("updated_at")?,
            })
        })
        .collect()
}

/// `not_found` unless the reader may see the capability.
pub async fn require_visible(db: &Db, viewer: Option<&User>, id: &str) -> MarketResult<()> {
    head(db, viewer, id).await.map(|_| ())
}

/// Counts an install (once per call; clients call it after a verified install).
pub async fn count_install(db: &Db, viewer: Option<&User>, id: &str) -> MarketResult<()> {
    head(db, viewer, id).await?;
    let mut tx = db.write().await?;
    sqlx::query(db.sql("UPDATE capabilities SET installs = installs + 1 WHERE id = $1"))
        .bind(id)
        .execute(&mut *tx)
        .await?;
    commit_change(db, tx, id).await?;
    Ok(())
}

fn require_admin(user: &User) -> MarketResult<()> {
    if user.admin {
        Ok(())
    } else {
        Err(MarketError::Forbidden(
            "only a marketplace administrator may do this".into(),
        ))
    }
}

pub async fn set_featured(db: &Db, user: &User, id: &str, featured: bool) -> MarketResult<()> {
    require_admin(user)?;
    head(db, Some(user), id).await?;
    let mut tx = db.write().await?;
    sqlx::query(db.sql("UPDATE capabilities SET featured = $1 WHERE id = $2"))
        .bind(featured as i64)
        .bind(id)
        .execute(&mut *tx)
        .await?;
    commit_change(db, tx, id).await?;
    Ok(())
}

/// An administrator lets a user download a paid capability.
pub async fn grant(db: &Db, admin: &User, id: &str, user_name: &str) -> MarketResult<()> {
    require_admin(admin)?;
    head(db, Some(admin), id).await?;
    let target = crate::users::by_name(db, user_name).await?;
    let mut tx = db.write().await?;
    sqlx::query(db.sql(
        "INSERT INTO entitlements (capability_id, user_id, granted_by, granted_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (capability_id, user_id) DO NOTHING",
    ))
    .bind(id)
    .bind(target.id)
    .bind(admin.id)
    .bind(now())
    .execute(&mut *tx)
    .await?;
    commit_change(db, tx, id).await?;
    Ok(())
}
