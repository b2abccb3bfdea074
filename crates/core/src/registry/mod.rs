//! The local registry: one SQLite file (WAL) holding capabilities and their versions, agents,
//! executions and the marketplace cache, with FTS5 search. Writes that belong together run in
//! one transaction, so a failed import leaves the registry exactly as it was.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sha2::{Digest, Sha256};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Row, SqlitePool};

use crate::dto::{CapabilityStatus, CapabilitySummary};
use crate::manifest::model::{Document, Kind};
use crate::manifest::SourceFormat;
use crate::validate::Manifest;
use crate::{CoreError, CoreResult};

/// The columns of a `CapabilitySummary`: a capability's head row joined to its latest version.
macro_rules! summary_select {
    () => {
        "SELECT c.id, c.name, c.icon, c.latest_version, c.kind, c.description, c.category, c.tags, c.author, c.updated_at,
         v.status, (SELECT group_concat(version, char(31)) FROM capability_versions WHERE capability_id = c.id) AS versions
         FROM capabilities c JOIN capability_versions v ON v.capability_id = c.id AND v.version = c.latest_version"
    };
}

pub mod executions;
pub mod market;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// The registry handle; cheap to clone (a connection pool).
#[derive(Clone, Debug)]
pub struct Registry(SqlitePool);

/// One stored version of a capability.
#[derive(Debug, Clone)]
pub struct StoredVersion {
    pub summary: CapabilitySummary,
    pub version: String,
    pub document: Document,
    pub source: String,
    pub source_format: SourceFormat,
    pub required_permissions: Vec<String>,
    pub allowed_domains: Vec<String>,
    pub created_at: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Imported {
    pub id: String,
    pub version: String,
    pub created: bool,
}

fn json_list(s: &str) -> Vec<String> {
    serde_json::from_str(s).unwrap_or_default()
}

fn newest_first(versions: &mut [String]) {
    versions.sort_by(
        |a, b| match (semver::Version::parse(a), semver::Version::parse(b)) {
            (Ok(x), Ok(y)) => y.cmp(&x),
            _ => b.cmp(a),
        },
    );
}

fn is_newer(candidate: &str, than: &str) -> bool {
    match (
        semver::Version::parse(candidate),
        semver::Version::parse(than),
    ) {
        (Ok(a), Ok(b)) => a > b,
        _ => candidate > than,
    }
}

/// Canonical JSON of a document and its hash: equal manifests hash equal whatever their format.
pub fn canonical(doc: &Document) -> (String, String) {
    let json = serde_json::to_string(doc).unwrap_or_default();
    let hash = hex::encode(Sha256::digest(json.as_bytes()));
    (json, hash)
}

/// Turns free text into an FTS5 query: each word a quoted prefix match, all words required.
fn fts_query(q: &str) -> Option<String> {
    let terms: Vec<String> = q
        .split(|c: char| !c.is_alphanumeric())
        .filter(|t| !t.is_empty())
        .map(|t| format!("\"{}\"*", t.replace('"', "")))
        .collect();
    (!terms.is_empty()).then(|| terms.join(" AND "))
}

impl Registry {
    /// Opens (creating if needed) the registry file and brings its schema up to date.
    pub async fn open(path: &Path) -> CoreResult<Self> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| CoreError::io(dir, e))?;
        }
        let opts = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(5));
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(opts)
            .await?;
        MIGRATOR.run(&pool).await?;
        Ok(Registry(pool))
    }

    pub fn pool(&self) -> &SqlitePool {
        &self.0
    }

    pub async fn meta(&self, key: &str) -> CoreResult<Option<String>> {
        Ok(sqlx::query_scalar("SELECT value FROM meta WHERE key = ?")
            .bind(key)
            .fetch_optional(&self.0)
            .await?)
    }

    pub async fn set_meta(&self, key: &str, value: &str) -> CoreResult<()> {
        sqlx::query("INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value")
            .bind(key)
            .bind(value)
            .execute(&self.0)
            .await?;
        Ok(())
    }

    /// Imports manifests in one transaction: all of them, or (on any conflict) none.
    pub async fn import_all(
        &self,
        manifests: &[&Manifest],
        status: CapabilityStatus,
    ) -> CoreResult<Vec<Imported>> {
        let mut tx = self.0.begin().await?;
        let mut out = Vec::new();
        for m in manifests {
            out.push(import_one(&mut tx, m, status).await?);
        }
        tx.commit().await?;
        Ok(out)
    }

    /// Saves a builder's manifest as a draft version: a new version is added; a draft of the
    /// same version is replaced (in one transaction, so a failure leaves the old one); a
    /// published version is never overwritten.
    pub async fn save_draft(&self, m: &Manifest) -> CoreResult<Imported> {
        let c = m.capability();
        let version = m.version();
        let mut tx = self.0.begin().await?;
        let status: Option<String> = sqlx::query_scalar(
            "SELECT status FROM capability_versions WHERE capability_id = ? AND version = ?",
        )
        .bind(&c.id)
        .bind(&version)
        .fetch_optional(&mut *tx)
        .await?;
        match status.as_deref() {
            Some("draft") => {
                if canonical(&m.document).1 == self.content_hash(&c.id, &version).await? {
                    return Ok(Imported {
                        id: c.id.clone(),
                        version,
                        created: false,
                    });
                }
                for sql in [
                    "DELETE FROM capability_dependencies WHERE capability_id = ? AND version = ?",
                    "DELETE FROM capability_versions WHERE capability_id = ? AND version = ?",
                ] {
                    sqlx::query(sql)
                        .bind(&c.id)
                        .bind(&version)
                        .execute(&mut *tx)
                        .await?;
                }
                let latest: Option<String> =
                    sqlx::query_scalar("SELECT latest_version FROM capabilities WHERE id = ?")
                        .bind(&c.id)
                        .fetch_optional(&mut *tx)
                        .await?;
                if latest.as_deref() == Some(version.as_str()) {
                    write_head(&mut tx, &m.document, m.kind().as_str(), &version, false).await?;
                }
            }
            Some(_) => {
                return Err(CoreError::VersionConflict {
                    id: c.id.clone(),
                    version,
                })
            }
            None => {}
        }
        let mut out = import_one(&mut tx, m, CapabilityStatus::Draft).await?;
        out.created = true;
        tx.commit().await?;
        Ok(out)
    }

    async fn content_hash(&self, id: &str, version: &str) -> CoreResult<String> {
        Ok(sqlx::query_scalar(
            "SELECT content_hash FROM capability_versions WHERE capability_id = ? AND version = ?",
        )
        .bind(id)
        .bind(version)
        .fetch_optional(&self.0)
        .await?
        .unwrap_or_default())
    }

    pub async fn list(&self, query: Option<&str>) -> CoreResult<Vec<CapabilitySummary>> {
        let rows = match query.and_then(fts_query) {
            Some(q) => {
                sqlx::query(concat!(
                    summary_select!(),
                    " JOIN capabilities_fts f ON f.id = c.id WHERE capabilities_fts MATCH ? ORDER BY bm25(capabilities_fts), c.name"
                ))
                .bind(q)
                .fetch_all(&self.0)
                .await?
            }
            None => {
                sqlx::query(concat!(summary_select!(), " ORDER BY c.name COLLATE NOCASE"))
                    .fetch_all(&self.0)
                    .await?
            }
        };
        Ok(rows.iter().map(summary_from_row).collect())
    }

    pub async fn summary(&self, id: &str) -> CoreResult<CapabilitySummary> {
        let row = sqlx::query(concat!(summary_select!(), " WHERE c.id = ?"))
            .bind(id)
            .fetch_optional(&self.0)
            .await?
            .ok_or_else(|| CoreError::NotFound(id.to_string()))?;
        Ok(summary_from_row(&row))
    }

    /// One version (the latest when `version` is None).
    pub async fn get(&self, id: &str, version: Option<&str>) -> CoreResult<StoredVersion> {
        // One query: the summary and the version's row together (this runs before every run).
        let row = sqlx::query(
            "SELECT c.id, c.name, c.icon, c.latest_version, c.kind, c.description, c.category, c.tags, c.author, c.updated_at,
             v.status, (SELECT group_concat(version, char(31)) FROM capability_versions WHERE capability_id = c.id) AS versions,
             s.definition, s.source, s.source_format, s.required_permissions, s.allowed_domains, s.created_at, s.status AS version_status
             FROM capabilities c JOIN capability_versions v ON v.capability_id = c.id AND v.version = c.latest_version
             JOIN capability_versions s ON s.capability_id = c.id AND s.version = coalesce(?2, c.latest_version)
             WHERE c.id = ?1",
        )
        .bind(id)
        .bind(version)
        .fetch_optional(&self.0)
        .await?;
        let Some(row) = row else {
            // Tell a missing capability from a missing version.
            let summary = self.summary(id).await?;
            return Err(CoreError::NotFound(format!(
                "{id}@{}",
                version.unwrap_or(&summary.version)
            )));
        };
        let summary = summary_from_row(&row);
        let version = version
            .map(str::to_string)
            .unwrap_or_else(|| summary.version.clone());
        let definition: String = row.get("definition");
        let document: Document =
            serde_json::from_str(&definition).map_err(|e| CoreError::CorruptRecord {
                id: id.to_string(),
                version: version.clone(),
                message: e.to_string(),
            })?;
        let mut summary = summary;
        summary.status = CapabilityStatus::parse(row.get::<String, _>("version_status").as_str());
        Ok(StoredVersion {
            summary,
            version,
            document,
            source: row.get("source"),
            source_format: SourceFormat::parse(row.get::<String, _>("source_format").as_str())
                .unwrap_or(SourceFormat::Yaml),
            required_permissions: json_list(row.get::<String, _>("required_permissions").as_str()),
            allowed_domains: json_list(row.get::<String, _>("allowed_domains").as_str()),
            created_at: row.get("created_at"),
        })
    }

    /// Removes one version, or every version when `version` is None. Returns how many went.
    pub async fn remove(&self, id: &str, version: Option<&str>) -> CoreResult<u64> {
        let mut tx = self.0.begin().await?;
        let exists: Option<String> = sqlx::query_scalar("SELECT id FROM capabilities WHERE id = ?")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?;
        if exists.is_none() {
            return Err(CoreError::NotFound(id.to_string()));
        }
        let agents: Vec<String> = sqlx::query_scalar(
            "SELECT a.name FROM agent_capabilities ac JOIN agents a ON a.id = ac.agent_id
             WHERE ac.capability_id = ? AND (? IS NULL OR ac.version IS NULL OR ac.version = ?)",
        )
        .bind(id)
        .bind(version)
        .bind(version)
        .fetch_all(&mut *tx)
        .await?;
        let removed = match version {
            Some(v) => sqlx::query(
                "DELETE FROM capability_versions WHERE capability_id = ? AND version = ?",
            )
            .bind(id)
            .bind(v)
            .execute(&mut *tx)
            .await?
            .rows_affected(),
            None => sqlx::query("DELETE FROM capability_versions WHERE capability_id = ?")
                .bind(id)
                .execute(&mut *tx)
                .await?
                .rows_affected(),
        };
        if removed == 0 {
            return Err(CoreError::NotFound(format!(
                "{id}@{}",
                version.unwrap_or("*")
            )));
        }
        let mut left: Vec<String> =
            sqlx::query_scalar("SELECT version FROM capability_versions WHERE capability_id = ?")
                .bind(id)
                .fetch_all(&mut *tx)
                .await?;
        if left.is_empty() || !agents.is_empty() {
            if !agents.is_empty() {
                // Dropping a version an agent uses would break it: undo.
                tx.rollback().await?;
                return Err(CoreError::InUse {
                    id: id.to_string(),
                    agents: agents.join(", "),
                });
            }
            sqlx::query("DELETE FROM capabilities WHERE id = ?")
                .bind(id)
                .execute(&mut *tx)
                .await?;
            sqlx::query("DELETE FROM capabilities_fts WHERE id = ?")
                .bind(id)
                .execute(&mut *tx)
                .await?;
        } else {
            newest_first(&mut left);
            let latest = &left[0];
            let def: String = sqlx::query_scalar("SELECT definition FROM capability_versions WHERE capability_id = ? AND version = ?")
                .bind(id)
                .bind(latest)
                .fetch_one(&mut *tx)
                .await?;
            let doc: Document =
                serde_json::from_str(&def).map_err(|e| CoreError::CorruptRecord {
                    id: id.to_string(),
                    version: latest.clone(),
                    message: e.to_string(),
                })?;
            let kind: String = sqlx::query_scalar(
                "SELECT kind FROM capability_versions WHERE capability_id = ? AND version = ?",
            )
            .bind(id)
            .bind(latest)
            .fetch_one(&mut *tx)
            .await?;
            write_head(&mut tx, &doc, &kind, latest, false).await?;
        }
        tx.commit().await?;
        Ok(removed)
    }

    pub async fn count(&self) -> CoreResult<i64> {
        Ok(
            sqlx::query_scalar("SELECT count(*) FROM capability_versions")
                .fetch_one(&self.0)
                .await?,
        )
    }
}

fn summary_from_row(row: &sqlx::sqlite::SqliteRow) -> CapabilitySummary {
    let mut versions: Vec<String> = row
        .get::<Option<String>, _>("versions")
        .unwrap_or_default()
        .split('\u{1f}')
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect();
    newest_first(&mut versions);
    CapabilitySummary {
        id: row.get("id"),
        name: row.get("name"),
        icon: row.get("icon"),
        version: row.get("latest_version"),
        kind: Kind::parse(row.get::<String, _>("kind").as_str()).unwrap_or(Kind::Declarative),
        status: CapabilityStatus::parse(row.get::<String, _>("status").as_str()),
        description: row.get("description"),
        category: row.get("category"),
        tags: json_list(row.get::<String, _>("tags").as_str()),
        author: row.get("author"),
        versions,
        updated_at: row.get("updated_at"),
    }
}

/// Writes the capability's head row (metadata of its latest version) and its search entry.
async fn write_head(
    tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
    doc: &Document,
    kind: &str,
    version: &str,
    insert: bool,
) -> CoreResult<()> {
    let c = &doc.capability;
    let tags = serde_json::to_string(&c.tags).unwrap_or_else(|_| "[]".into());
    let sql = if insert {
        "INSERT INTO capabilities (name, description, icon, category, tags, author, kind, latest_version, id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
    } else {
        "UPDATE capabilities SET name = ?, description = ?, icon = ?, category = ?, tags = ?, author = ?, kind = ?, latest_version = ?,
         updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE id = ?"
    };
    sqlx::query(sql)
        .bind(&c.name)
        .bind(&c.description)
        .bind(&c.icon)
        .bind(&c.category)
        .bind(&tags)
        .bind(&c.author)
        .bind(kind)
        .bind(version)
        .bind(&c.id)
        .execute(&mut **tx)
        .await?;
    sqlx::query("DELETE FROM capabilities_fts WHERE id = ?")
        .bind(&c.id)
        .execute(&mut **tx)
        .await?;
    sqlx::query("INSERT INTO capabilities_fts (id, name, description, tags) VALUES (?, ?, ?, ?)")
        .bind(&c.id)
        .bind(&c.name)
        .bind(c.description.clone().unwrap_or_default())
        .bind(c.tags.join(" "))
        .execute(&mut **tx)
        .await?;
    Ok(())
}

async fn import_one(
    tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
    m: &Manifest,
    status: CapabilityStatus,
) -> CoreResult<Imported> {
    let c = m.capability();
    let version = m.version();
    let (definition, hash) = canonical(&m.document);
    let existing: Option<String> = sqlx::query_scalar(
        "SELECT content_hash FROM capability_versions WHERE capability_id = ? AND version = ?",
    )
    .bind(&c.id)
    .bind(&version)
    .fetch_optional(&mut **tx)
    .await?;
    if let Some(h) = existing {
        return if h == hash {
            Ok(Imported {
                id: c.id.clone(),
                version,
                created: false,
            })
        } else {
            Err(CoreError::VersionConflict {
                id: c.id.clone(),
                version,
            })
        };
    }
    let latest: Option<String> =
        sqlx::query_scalar("SELECT latest_version FROM capabilities WHERE id = ?")
            .bind(&c.id)
            .fetch_optional(&mut **tx)
            .await?;
    let kind = m.kind().as_str();
    match &latest {
        None => write_head(tx, &m.document, kind, &version, true).await?,
        Some(l) if is_newer(&version, l) => {
            write_head(tx, &m.document, kind, &version, false).await?
        }
        Some(_) => {}
    }
    let mut perms: Vec<String> = c.permissions.clone().unwrap_or_default();
    for p in &m.analysis.inferred_permissions {
        if !perms.contains(p) {
            perms.push(p.clone());
        }
    }
    sqlx::query(
        "INSERT INTO capability_versions (capability_id, version, kind, definition, source, source_format, code, content_hash, status,
         required_permissions, allowed_domains, test_cases, published_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, CASE WHEN ? = 'published' THEN strftime('%Y-%m-%dT%H:%M:%fZ', 'now') END)",
    )
    .bind(&c.id)
    .bind(&version)
    .bind(kind)
    .bind(&definition)
    .bind(&m.source)
    .bind(m.format.as_str())
    .bind(&m.code)
    .bind(&hash)
    .bind(status.as_str())
    .bind(serde_json::to_string(&perms).unwrap_or_else(|_| "[]".into()))
    .bind(serde_json::to_string(&m.analysis.allowed_domains).unwrap_or_else(|_| "[]".into()))
    .bind(serde_json::to_string(&c.examples).unwrap_or_else(|_| "[]".into()))
    .bind(status.as_str())
    .execute(&mut **tx)
    .await?;
    for d in &c.dependencies {
        sqlx::query("INSERT INTO capability_dependencies (capability_id, version, depends_on, version_constraint, required) VALUES (?, ?, ?, ?, ?)")
            .bind(&c.id)
            .bind(&version)
            .bind(&d.id)
            .bind(&d.version)
            .bind(!d.optional)
            .execute(&mut **tx)
            .await?;
    }
    Ok(Imported {
        id: c.id.clone(),
        version,
        created: true,
    })
}

impl FromStr for CapabilityStatus {
    type Err = CoreError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "draft" | "published" | "deprecated" => Ok(CapabilityStatus::parse(s)),
            _ => Err(CoreError::InvalidArgument(format!("unknown status `{s}`"))),
        }
    }
}
