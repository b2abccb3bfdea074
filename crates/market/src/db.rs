//! The database behind the server: SQLite (the embedded default, one file in the data folder)
//! or PostgreSQL (`--database postgres://…`, for several stateless servers on one database),
//! through sqlx's `Any` driver. Queries are written once with `$1`-style parameters and
//! translated for SQLite (`?1`); the only dialect-specific query is full-text search.
//! Package archives live in the data folder's `blobs/` with SQLite and in the `blobs` table
//! with PostgreSQL, so no server keeps state of its own.

use std::path::{Path, PathBuf};
use std::str::FromStr;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, Executor};

use crate::error::{MarketError, MarketResult};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

#[derive(Debug, Clone)]
enum Blobs {
    Dir(PathBuf),
    Table,
}

#[derive(Debug, Clone)]
pub struct Db {
    pub pool: AnyPool,
    pub backend: Backend,
    blobs: Blobs,
}

/// The default data folder: `$CAPSMITH_MARKET_DATA`, else `~/.local/share/capsmith-market`.
pub fn default_data_dir() -> PathBuf {
    if let Some(p) = std::env::var_os("CAPSMITH_MARKET_DATA").filter(|p| !p.is_empty()) {
        return PathBuf::from(p);
    }
    dirs::data_dir()
        .unwrap_or_else(|| PathBuf::from("."))
        .join("capsmith-market")
}

fn io(path: &Path, source: std::io::Error) -> MarketError {
    MarketError::Io {
        path: path.display().to_string(),
        source,
    }
}

impl Db {
    /// Opens (creating and migrating) the database: `database` when given, else
    /// `market.sqlite3` in `data`.
    pub async fn open(database: Option<&str>, data: &Path) -> MarketResult<Db> {
        sqlx::any::install_default_drivers();
        let (url, backend) = match database {
            Some(u) if u.starts_with("postgres://") || u.starts_with("postgresql://") => {
                (u.to_string(), Backend::Postgres)
            }
            Some(u) if u.starts_with("sqlite:") => (u.to_string(), Backend::Sqlite),
            Some(u) => {
                return Err(MarketError::BadRequest(format!(
                    "unsupported database URL `{u}`; use postgres://… or sqlite:…"
                )))
            }
            None => {
                std::fs::create_dir_all(data).map_err(|e| io(data, e))?;
                let file = data.join("market.sqlite3");
                (
                    format!("sqlite://{}?mode=rwc", file.display()),
                    Backend::Sqlite,
                )
            }
        };
        let opts = AnyConnectOptions::from_str(&url)?;
        let pool = AnyPoolOptions::new()
            .max_connections(if backend == Backend::Sqlite { 8 } else { 16 })
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        conn.execute(
                            "PRAGMA journal_mode = WAL; PRAGMA busy_timeout = 5000; \
                             PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL;",
                        )
                        .await?;
                    }
                    Ok(())
                })
            })
            .connect_with(opts)
            .await?;
        match backend {
            Backend::Sqlite => {
                sqlx::migrate!("./migrations/sqlite").run(&pool).await?;
                // Statistics for the query planner, refreshed where they are stale (bounded
                // work); PostgreSQL keeps its own.
                sqlx::query("PRAGMA analysis_limit = 1000")
                    .execute(&pool)
                    .await?;
                sqlx::query("PRAGMA optimize = 0x10002")
                    .execute(&pool)
                    .await?;
            }
            Backend::Postgres => sqlx::migrate!("./migrations/postgres").run(&pool).await?,
        }
        let blobs = match backend {
            Backend::Sqlite => {
                let dir = data.join("blobs");
                std::fs::create_dir_all(&dir).map_err(|e| io(&dir, e))?;
                Blobs::Dir(dir)
            }
            Backend::Postgres => Blobs::Table,
        };
        Ok(Db {
            pool,
            backend,
            blobs,
        })
    }

    /// The query for this backend: `$N` parameters become `?N` for SQLite.
    pub fn sql(&self, text: &str) -> sqlx::AssertSqlSafe<String> {
        sqlx::AssertSqlSafe(self.sql_text(text))
    }

    fn sql_text(&self, text: &str) -> String {
        match self.backend {
            Backend::Postgres => text.to_string(),
            Backend::Sqlite => {
                let mut out = String::with_capacity(text.len());
                let mut chars = text.chars().peekable();
                while let Some(c) = chars.next() {
                    if c == '$' && chars.peek().is_some_and(|d| d.is_ascii_digit()) {
                        out.push('?');
                    } else {
                        out.push(c);
                    }
                }
                out
            }
        }
    }

    /// Stores a package archive under its hash (idempotent). With a folder, the file is
    /// written before the version row commits; an orphan archive is harmless.
    pub async fn put_blob(
        &self,
        tx: &mut sqlx::Transaction<'_, sqlx::Any>,
        sha256: &str,
        bytes: &[u8],
    ) -> MarketResult<()> {
        match &self.blobs {
            Blobs::Dir(dir) => {
                let path = dir.join(format!("{sha256}.capkg"));
                if !path.exists() {
                    let tmp = dir.join(format!(".{sha256}.tmp"));
                    std::fs::write(&tmp, bytes).map_err(|e| io(&tmp, e))?;
                    std::fs::rename(&tmp, &path).map_err(|e| io(&path, e))?;
                }
            }
            Blobs::Table => {
                sqlx::query(self.sql(
                    "INSERT INTO blobs (sha256, bytes) VALUES ($1, $2) ON CONFLICT (sha256) DO NOTHING",
                ))
                .bind(sha256)
                .bind(bytes)
                .execute(&mut **tx)
                .await?;
            }
        }
        Ok(())
    }

    pub async fn get_blob(&self, sha256: &str) -> MarketResult<Vec<u8>> {
        match &self.blobs {
            Blobs::Dir(dir) => {
                let path = dir.join(format!("{sha256}.capkg"));
                std::fs::read(&path).map_err(|e| io(&path, e))
            }
            Blobs::Table => {
                let row: (Vec<u8>,) =
                    sqlx::query_as(self.sql("SELECT bytes FROM blobs WHERE sha256 = $1"))
                        .bind(sha256)
                        .fetch_one(&self.pool)
                        .await?;
                Ok(row.0)
            }
        }
    }

    /// The next change number, taken inside the caller's transaction.
    pub async fn next_seq(&self, tx: &mut sqlx::Transaction<'_, sqlx::Any>) -> MarketResult<i64> {
        let (v,): (i64,) = sqlx::query_as(
            "UPDATE counters SET value = value + 1 WHERE name = 'seq' RETURNING value",
        )
        .fetch_one(&mut **tx)
        .await?;
        Ok(v)
    }

    /// Starts a write transaction. Writers go one at a time on both backends: SQLite takes its
    /// write lock at once (`BEGIN IMMEDIATE`), PostgreSQL the change counter's row first
    /// (`FOR UPDATE`), whichever server the writer runs in. So writes cannot deadlock on the
    /// rows they touch in different orders (the load test found an install and a publish doing
    /// that), and change numbers are handed out in commit order: a reader whose cursor passed
    /// change N can never miss a change numbered below N that committed later.
    pub async fn write(&self) -> MarketResult<sqlx::Transaction<'static, sqlx::Any>> {
        Ok(match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => {
                let mut tx = self.pool.begin().await?;
                sqlx::query("SELECT value FROM counters WHERE name = 'seq' FOR UPDATE")
                    .execute(&mut *tx)
                    .await?;
                tx
            }
        })
    }
}

pub fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}
