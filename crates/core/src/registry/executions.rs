//! The audit log (`executions`): every run of an action, written here and nowhere else — one
//! at a time (`insert`), a trigger batch's inside its group commit (`insert_batch`), and the
//! agent a run was for (`set_agent`); read for the Activity view (`list`).

use sqlx::{Row, SqlitePool};

use crate::dto::ExecutionView;
use crate::CoreResult;

/// Rows per multi-row INSERT (SQLite allows 32,766 bound values per statement).
const ROWS_PER_INSERT: usize = 64;

/// One `executions` row (the audit log).
#[derive(Debug, Clone)]
pub(crate) struct ExecRow {
    pub capability_id: String,
    pub version: String,
    pub action: String,
    pub status: String,
    pub error_kind: Option<String>,
    pub error_message: Option<String>,
    pub security_violation: bool,
    pub input: String,
    pub output: Option<String>,
    pub duration_ms: f64,
    pub origin: String,
    pub network_calls: i64,
    pub bytes_in: i64,
    pub bytes_out: i64,
    pub trace: String,
    pub prompt_tokens: i64,
    pub completion_tokens: i64,
}

/// Writes one row; its id.
pub(crate) async fn insert(pool: &SqlitePool, e: &ExecRow) -> CoreResult<i64> {
    Ok(sqlx::query_scalar(
            "INSERT INTO executions (capability_id, version, action, status, error_kind, error_message, security_violation, input, output,
             duration_ms, origin, network_calls, bytes_in, bytes_out, trace, prompt_tokens, completion_tokens, cost)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17,
               coalesce((SELECT per_call + per_1k_tokens * (?16 + ?17) / 1000.0 FROM capability_costs WHERE capability_id = ?1), 0))
             RETURNING id",
        )
        .bind(&e.capability_id)
        .bind(&e.version)
        .bind(&e.action)
        .bind(&e.status)
        .bind(&e.error_kind)
        .bind(&e.error_message)
        .bind(e.security_violation)
        .bind(&e.input)
        .bind(&e.output)
        .bind(e.duration_ms)
        .bind(&e.origin)
        .bind(e.network_calls)
        .bind(e.bytes_in)
        .bind(e.bytes_out)
        .bind(&e.trace)
        .bind(e.prompt_tokens)
        .bind(e.completion_tokens)
        .fetch_one(pool)
        .await?)
}

/// The id the next row gets (inside a write transaction, so no other writer comes between).
pub(crate) async fn next_id(tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>) -> CoreResult<i64> {
    Ok(
        sqlx::query_scalar("SELECT coalesce(max(id), 0) + 1 FROM executions")
            .fetch_one(&mut **tx)
            .await?,
    )
}

/// Writes rows with ids from `first_exec` on, in a few multi-row statements, in the caller's
/// transaction.
pub(crate) async fn insert_batch(
    tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
    first_exec: i64,
    rows: &[&ExecRow],
) -> CoreResult<()> {
    for (chunk_no, chunk) in rows.chunks(ROWS_PER_INSERT).enumerate() {
        // The cost is the capability's price at the time of the run, as for other runs.
        let row = "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, coalesce((SELECT per_call + per_1k_tokens * (? + ?) / 1000.0 FROM capability_costs WHERE capability_id = ?), 0))";
        let sql = format!(
            "INSERT INTO executions (id, capability_id, version, action, status, error_kind, error_message, security_violation,
             input, output, duration_ms, origin, network_calls, bytes_in, bytes_out, trace, prompt_tokens, completion_tokens, cost)
             VALUES {}",
            vec![row; chunk.len()].join(", ")
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for (i, e) in chunk.iter().enumerate() {
            q = q
                .bind(first_exec + (chunk_no * ROWS_PER_INSERT + i) as i64)
                .bind(e.capability_id.clone())
                .bind(e.version.clone())
                .bind(e.action.clone())
                .bind(e.status.clone())
                .bind(e.error_kind.clone())
                .bind(e.error_message.clone())
                .bind(e.security_violation)
                .bind(e.input.clone())
                .bind(e.output.clone())
                .bind(e.duration_ms)
                .bind(e.origin.clone())
                .bind(e.network_calls)
                .bind(e.bytes_in)
                .bind(e.bytes_out)
                .bind(e.trace.clone())
                .bind(e.prompt_tokens)
                .bind(e.completion_tokens)
                .bind(e.prompt_tokens)
                .bind(e.completion_tokens)
                .bind(e.capability_id.clone());
        }
        q.execute(&mut **tx).await?;
    }
    Ok(())
}

/// Records which agent a run was for.
pub(crate) async fn set_agent(pool: &SqlitePool, id: i64, agent: &str) -> CoreResult<()> {
    sqlx::query("UPDATE executions SET agent_id = ? WHERE id = ?")
        .bind(agent)
        .bind(id)
        .execute(pool)
        .await?;
    Ok(())
}

/// The log, newest first (of one capability, or all).
pub(crate) async fn list(
    pool: &SqlitePool,
    id: Option<&str>,
    limit: u32,
) -> CoreResult<Vec<ExecutionView>> {
    let rows = sqlx::query(
            "SELECT id, capability_id, version, action, origin, status, error_kind, error_message, security_violation, network_calls,
             bytes_in, bytes_out, duration_ms, started_at FROM executions WHERE (?1 IS NULL OR capability_id = ?1) ORDER BY id DESC LIMIT ?2",
        )
        .bind(id)
        .bind(limit as i64)
        .fetch_all(pool)
        .await?;
    Ok(rows
        .iter()
        .map(|r| ExecutionView {
            id: r.get("id"),
            capability: r.get("capability_id"),
            version: r.get("version"),
            action: r.get("action"),
            origin: r.get("origin"),
            status: r.get("status"),
            error_kind: r.get("error_kind"),
            error_message: r.get("error_message"),
            security_violation: r.get::<i64, _>("security_violation") != 0,
            network_calls: r.get("network_calls"),
            bytes_in: r.get("bytes_in"),
            bytes_out: r.get("bytes_out"),
            duration_ms: r.get("duration_ms"),
            started_at: r.get("started_at"),
        })
        .collect())
}
