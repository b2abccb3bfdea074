//! Group commit for the records of trigger runs whose steps have no side effects (a webhook
//! that transforms and answers): the run, its steps and its audit-log entry are written when
//! the run ends, together with those of every other run that ended meanwhile, in one
//! transaction — a handful of statements per batch instead of several per run. The caller
//! waits for the commit, so a run is on disk before its answer leaves.
//!
//! Runs with side effects never come here: they are journalled step by step as they go
//! (`steps::Journal`), so a crash during one is seen and can be resumed.

use std::sync::OnceLock;

use sqlx::SqlitePool;
use tokio::sync::{mpsc, oneshot};

use crate::{CoreError, CoreResult};

/// Most runs one transaction takes.
const MAX_BATCH: usize = 128;
/// Rows per multi-row INSERT (SQLite allows 32,766 bound values per statement).
const ROWS_PER_INSERT: usize = 64;

pub(crate) use crate::registry::executions::ExecRow;

/// One `workflow_steps` row.
#[derive(Debug, Clone)]
pub(crate) struct StepRow {
    pub step_id: String,
    pub position: i64,
    pub status: String,
    pub input: Option<String>,
    pub output: Option<String>,
    pub error: Option<String>,
    pub duration_ms: f64,
}

/// A finished run, with its steps and its audit-log entry.
#[derive(Debug, Clone)]
pub(crate) struct FinishedRun {
    pub capability_id: String,
    pub version: String,
    pub action: String,
    pub input: String,
    pub status: String,
    pub output: Option<String>,
    pub error: Option<String>,
    pub started_at: String,
    pub steps: Vec<StepRow>,
    pub execution: Option<ExecRow>,
}

type Job = (FinishedRun, oneshot::Sender<Result<i64, String>>);

#[derive(Default, Debug)]
pub(crate) struct Recorder {
    tx: OnceLock<mpsc::UnboundedSender<Job>>,
}

impl Recorder {
    /// Writes the run (batched with others); resolves with its id once committed.
    pub(crate) async fn submit(&self, pool: &SqlitePool, run: FinishedRun) -> CoreResult<i64> {
        let tx = self.tx.get_or_init(|| {
            let (tx, rx) = mpsc::unbounded_channel();
            tokio::spawn(writer(pool.clone(), rx));
            tx
        });
        let (done, wait) = oneshot::channel();
        if let Err(mpsc::error::SendError((run, _))) = tx.send((run, done)) {
            // The writer is gone (its runtime ended): write this one directly.
            return Ok(write_batch(pool, std::slice::from_ref(&run)).await?[0]);
        }
        match wait.await {
            Ok(Ok(id)) => Ok(id),
            Ok(Err(e)) => Err(CoreError::InvalidArgument(format!(
                "the run could not be recorded: {e}"
            ))),
            Err(_) => Err(CoreError::InvalidArgument(
                "the run recorder stopped before recording the run".into(),
            )),
        }
    }
}

async fn writer(pool: SqlitePool, mut rx: mpsc::UnboundedReceiver<Job>) {
    while let Some(first) = rx.recv().await {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let (runs, replies): (Vec<FinishedRun>, Vec<_>) = batch.into_iter().unzip();
        match write_batch(&pool, &runs).await {
            Ok(ids) => {
                for (reply, id) in replies.into_iter().zip(ids) {
                    let _ = reply.send(Ok(id));
                }
            }
            Err(e) => {
                for reply in replies {
                    let _ = reply.send(Err(e.to_string()));
                }
            }
        }
    }
}

fn placeholders(columns: usize, rows: usize) -> String {
    let row = format!("({})", vec!["?"; columns].join(", "));
    vec![row; rows].join(", ")
}

/// Writes runs in one immediate transaction, with ids allocated inside it (no other writer
/// can come in between), so rows of many runs go in a few multi-row statements.
async fn write_batch(pool: &SqlitePool, runs: &[FinishedRun]) -> CoreResult<Vec<i64>> {
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    let first_run: i64 = sqlx::query_scalar("SELECT coalesce(max(id), 0) + 1 FROM workflow_runs")
        .fetch_one(&mut *tx)
        .await?;
    let first_exec = crate::registry::executions::next_id(&mut tx).await?;
    let ids: Vec<i64> = (0..runs.len() as i64).map(|i| first_run + i).collect();

    let execs: Vec<&ExecRow> = runs.iter().filter_map(|r| r.execution.as_ref()).collect();
    crate::registry::executions::insert_batch(&mut tx, first_exec, &execs).await?;

    let pid = std::process::id() as i64;
    for (chunk_no, chunk) in runs.chunks(ROWS_PER_INSERT).enumerate() {
        let sql = format!(
            "INSERT INTO workflow_runs (id, capability_id, version, action, input, status, pid, output, error, started_at, finished_at)
             VALUES {}",
            placeholders(10, chunk.len()).replace("?)", "?, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))")
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for (i, r) in chunk.iter().enumerate() {
            q = q
                .bind(ids[chunk_no * ROWS_PER_INSERT + i])
                .bind(r.capability_id.clone())
                .bind(r.version.clone())
                .bind(r.action.clone())
                .bind(r.input.clone())
                .bind(r.status.clone())
                .bind(pid)
                .bind(r.output.clone())
                .bind(r.error.clone())
                .bind(r.started_at.clone());
        }
        q.execute(&mut *tx).await?;
    }

    let steps: Vec<(i64, &StepRow)> = runs
        .iter()
        .zip(&ids)
        .flat_map(|(r, id)| r.steps.iter().map(move |s| (*id, s)))
        .collect();
    for chunk in steps.chunks(ROWS_PER_INSERT) {
        let sql = format!(
            "INSERT INTO workflow_steps (run_id, step_id, position, status, input, output, error, duration_ms) VALUES {}",
            placeholders(8, chunk.len())
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for (id, s) in chunk {
            q = q
                .bind(*id)
                .bind(s.step_id.clone())
                .bind(s.position)
                .bind(s.status.clone())
                .bind(s.input.clone())
                .bind(s.output.clone())
                .bind(s.error.clone())
                .bind(s.duration_ms);
        }
        q.execute(&mut *tx).await?;
    }
    tx.commit().await?;
    Ok(ids)
}
