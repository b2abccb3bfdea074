//! Recorded workflow runs (issue 6, begun): every step's status, input, output and error is
//! written as the run goes, so a run cut short by a crash or a quit shows as interrupted, and
//! `workflow_resume` carries on from the step that did not finish without repeating the steps
//! that did (their results are restored from the record).

use std::collections::HashMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sqlx::Row;
use ts_rs::TS;

use super::dto::NodeStatus;
use super::run::Origin;
use super::steps::{Journal, JOURNAL};
use super::Capsmith;
use crate::manifest::model::Kind;
use crate::{CoreError, CoreResult};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct WorkflowStepView {
    pub step: String,
    /// `running` (cut short), `ok`, `error` or `skipped`.
    pub status: String,
    #[ts(type = "unknown")]
    pub output: Option<Value>,
    pub error: Option<String>,
    pub duration_ms: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct WorkflowRunView {
    pub id: i64,
    pub capability: String,
    pub version: String,
    pub action: String,
    /// `running`, `ok`, `error`, `interrupted`, or `filtered` (the trigger did not pass the
    /// workflow's filter; no step ran).
    pub status: String,
    #[ts(type = "unknown")]
    pub output: Option<Value>,
    pub error: Option<String>,
    pub resumed_from: Option<i64>,
    pub started_at: String,
    pub steps: Vec<WorkflowStepView>,
}

/// Whether the process `pid` is still alive (a run it owns may still be going).
fn alive(pid: i64) -> bool {
    let Ok(pid) = i32::try_from(pid) else {
        return false;
    };
    // Signal 0 checks existence; EPERM means it exists but belongs to someone else.
    unsafe { libc::kill(pid, 0) == 0 || *libc::__errno_location() == libc::EPERM }
}

impl Capsmith {
    /// Runs marked `running` whose process is gone were cut short: they become `interrupted`.
    pub async fn mark_interrupted_runs(&self) -> CoreResult<u64> {
        let rows = sqlx::query("SELECT id, pid FROM workflow_runs WHERE status = 'running'")
            .fetch_all(self.registry().pool())
            .await?;
        let mut n = 0;
        for r in rows {
            if !alive(r.get("pid")) {
                sqlx::query("UPDATE workflow_runs SET status = 'interrupted' WHERE id = ?")
                    .bind(r.get::<i64, _>("id"))
                    .execute(self.registry().pool())
                    .await?;
                n += 1;
            }
        }
        Ok(n)
    }

    /// Runs a workflow (or flow) capability's action and records it step by step.
    pub async fn workflow_run(
        &self,
        id: &str,
        version: Option<&str>,
        action: Option<&str>,
        input: &Value,
        origin: Origin,
    ) -> CoreResult<WorkflowRunView> {
        let stored = self.registry().get(id, version).await?;
        self.workflow_run_stored(&stored, action, input, origin)
            .await
    }

    /// `workflow_run` on a version already read from the registry.
    pub(crate) async fn workflow_run_stored(
        &self,
        stored: &crate::registry::StoredVersion,
        action: Option<&str>,
        input: &Value,
        origin: Origin,
    ) -> CoreResult<WorkflowRunView> {
        let id = stored.summary.id.as_str();
        let cap = &stored.document.capability;
        if !matches!(cap.inferred_kind(), Some(Kind::Workflow | Kind::Flow)) {
            return Err(CoreError::InvalidArgument(format!(
                "`{id}` is not a workflow; run it with `capsmith run`"
            )));
        }
        let action = match action {
            Some(a) => a.to_string(),
            None => cap
                .actions
                .first()
                .map(|a| a.id.clone())
                .or_else(|| cap.flows.first().map(|f| f.action.clone()))
                .unwrap_or_else(|| crate::flow::WORKFLOW_ACTION.to_string()),
        };
        self.recorded(stored, &action, input, HashMap::new(), None, origin)
            .await
    }

    /// A `file_upload` trigger: copies the file into the uploads folder and runs the workflow
    /// with `{file: {name, type, mime, size, path, sha256}}`.
    pub async fn workflow_upload(
        &self,
        id: &str,
        version: Option<&str>,
        file: &std::path::Path,
        origin: Origin,
    ) -> CoreResult<WorkflowRunView> {
        let stored = self.registry().get(id, version).await?;
        let trigger = stored
            .document
            .capability
            .workflow
            .as_ref()
            .map(|w| w.trigger.clone())
            .unwrap_or_default();
        if trigger != "file_upload" {
            return Err(CoreError::InvalidArgument(format!(
                "`{id}` is not started by a file upload (its trigger is `{trigger}`)"
            )));
        }
        let meta = self.upload_file(file).await?;
        self.workflow_run(
            id,
            Some(&stored.version),
            None,
            &serde_json::json!({ "file": meta }),
            origin,
        )
        .await
    }

    /// Resumes an interrupted or failed run from its first step that did not complete.
    pub async fn workflow_resume(
        &self,
        run_id: i64,
        origin: Origin,
    ) -> CoreResult<WorkflowRunView> {
        self.mark_interrupted_runs().await?;
        let run = self.workflow_run_view(run_id).await?;
        if run.status != "interrupted" && run.status != "error" {
            return Err(CoreError::InvalidArgument(format!(
                "run {run_id} is {}; only an interrupted or failed run resumes",
                run.status
            )));
        }
        let done: HashMap<String, (NodeStatus, Option<Value>)> = run
            .steps
            .iter()
            .filter_map(|s| match s.status.as_str() {
                "ok" => Some((s.step.clone(), (NodeStatus::Ok, s.output.clone()))),
                "skipped" => Some((s.step.clone(), (NodeStatus::Skipped, None))),
                _ => None,
            })
            .collect();
        let input: Value =
            sqlx::query_scalar::<_, String>("SELECT input FROM workflow_runs WHERE id = ?")
                .bind(run_id)
                .fetch_one(self.registry().pool())
                .await
                .ok()
                .and_then(|t| serde_json::from_str(&t).ok())
                .unwrap_or(Value::Null);
        let stored = self
            .registry()
            .get(&run.capability, Some(&run.version))
            .await?;
        self.recorded(&stored, &run.action, &input, done, Some(run_id), origin)
            .await
    }

    async fn recorded(
        &self,
        stored: &crate::registry::StoredVersion,
        action: &str,
        input: &Value,
        done: HashMap<String, (NodeStatus, Option<Value>)>,
        resumed_from: Option<i64>,
        origin: Origin,
    ) -> CoreResult<WorkflowRunView> {
        let (id, version) = (stored.summary.id.as_str(), stored.version.as_str());
        // A trigger run whose steps change nothing outside it has nothing to resume: it is
        // recorded in one piece when it ends, group-committed with other runs.
        let group = matches!(origin, Origin::Trigger)
            && resumed_from.is_none()
            && stored
                .document
                .capability
                .workflow
                .as_ref()
                .is_some_and(|w| {
                    w.steps
                        .iter()
                        .all(|s| !super::steps::has_side_effects(&s.action))
                })
            && stored.document.capability.inferred_kind() == Some(Kind::Workflow);
        if group {
            return self.recorded_group(stored, action, input, origin).await;
        }
        let pool = self.registry().pool();
        let (run_id, started_at): (i64, String) = sqlx::query_as(
            "INSERT INTO workflow_runs (capability_id, version, action, input, status, pid, resumed_from)
             VALUES (?, ?, ?, ?, 'running', ?, ?) RETURNING id, started_at",
        )
        .bind(id)
        .bind(version)
        .bind(action)
        .bind(input.to_string())
        .bind(std::process::id() as i64)
        .bind(resumed_from)
        .fetch_one(pool)
        .await?;
        let journal = Arc::new(Journal {
            run_id,
            done,
            filtered: Default::default(),
            pending: Default::default(),
            deferred: false,
            steps: Default::default(),
        });
        let report = JOURNAL
            .scope(
                Some(journal.clone()),
                self.run_stored(stored, action, input, origin),
            )
            .await;
        self.flush_steps(&journal).await;
        let filtered = journal.filtered.load(std::sync::atomic::Ordering::SeqCst);
        let (status, output, error) = match &report {
            Ok(r) if r.ok && filtered => ("filtered", None, None),
            Ok(r) if r.ok => ("ok", r.output.as_ref().map(|o| o.to_string()), None),
            Ok(r) => ("error", None, r.error.as_ref().map(|e| e.message.clone())),
            Err(e) => ("error", None, Some(e.to_string())),
        };
        sqlx::query(
            "UPDATE workflow_runs SET status = ?, output = ?, error = ?, finished_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE id = ?",
        )
        .bind(status)
        .bind(&output)
        .bind(&error)
        .bind(run_id)
        .execute(pool)
        .await?;
        report?;
        // The view from what this process just wrote, not read back.
        let mut steps: Vec<(usize, WorkflowStepView)> = journal
            .steps
            .lock()
            .map(|s| s.clone())
            .unwrap_or_default()
            .into_values()
            .collect();
        steps.sort_by_key(|(position, _)| *position);
        Ok(WorkflowRunView {
            id: run_id,
            capability: id.to_string(),
            version: version.to_string(),
            action: action.to_string(),
            status: status.to_string(),
            output: output.and_then(|t| serde_json::from_str(&t).ok()),
            error,
            resumed_from,
            started_at,
            steps: steps.into_iter().map(|(_, s)| s).collect(),
        })
    }

    /// `recorded` for a run without side effects: it runs first, then its run, steps and
    /// audit-log rows go to the group-commit recorder; the view is built from memory.
    async fn recorded_group(
        &self,
        stored: &crate::registry::StoredVersion,
        action: &str,
        input: &Value,
        origin: Origin,
    ) -> CoreResult<WorkflowRunView> {
        use super::recorder::{FinishedRun, StepRow};
        let started_at = chrono::Utc::now()
            .format("%Y-%m-%dT%H:%M:%S%.3fZ")
            .to_string();
        let journal = Arc::new(Journal {
            run_id: 0,
            done: HashMap::new(),
            filtered: Default::default(),
            pending: Default::default(),
            deferred: true,
            steps: Default::default(),
        });
        let execution = Arc::new(std::sync::Mutex::new(None));
        let report = super::run::DEFER_EXECUTION
            .scope(
                Some(execution.clone()),
                JOURNAL.scope(
                    Some(journal.clone()),
                    self.run_stored(stored, action, input, origin),
                ),
            )
            .await?;
        let filtered = journal.filtered.load(std::sync::atomic::Ordering::SeqCst);
        let (status, output, error) = if report.ok && filtered {
            ("filtered", None, None)
        } else if report.ok {
            ("ok", report.output.as_ref().map(|o| o.to_string()), None)
        } else {
            (
                "error",
                None,
                report.error.as_ref().map(|e| e.message.clone()),
            )
        };
        let mut traces: Vec<(usize, crate::api::dto::NodeTrace)> = journal
            .pending
            .lock()
            .map(|mut p| std::mem::take(&mut *p))
            .unwrap_or_default();
        traces.sort_by_key(|(p, _)| *p);
        let steps: Vec<StepRow> = traces
            .iter()
            .map(|(position, t)| StepRow {
                step_id: t.node.clone(),
                position: *position as i64,
                status: match t.status {
                    NodeStatus::Ok => "ok",
                    NodeStatus::Error => "error",
                    NodeStatus::Skipped => "skipped",
                }
                .to_string(),
                input: t.input.as_ref().map(|v| v.to_string()),
                output: t.output.as_ref().map(|v| v.to_string()),
                error: t.error.clone(),
                duration_ms: t.duration_ms,
            })
            .collect();
        let run = FinishedRun {
            capability_id: stored.summary.id.clone(),
            version: stored.version.clone(),
            action: action.to_string(),
            input: input.to_string(),
            status: status.to_string(),
            output: output.clone(),
            error: error.clone(),
            started_at: started_at.clone(),
            steps: steps.clone(),
            execution: execution.lock().ok().and_then(|mut e| e.take()),
        };
        let run_id = self.recorder.submit(self.registry().pool(), run).await?;
        Ok(WorkflowRunView {
            id: run_id,
            capability: stored.summary.id.clone(),
            version: stored.version.clone(),
            action: action.to_string(),
            status: status.to_string(),
            output: output.and_then(|t| serde_json::from_str(&t).ok()),
            error,
            resumed_from: None,
            started_at,
            steps: steps
                .into_iter()
                .map(|s| WorkflowStepView {
                    step: s.step_id,
                    status: s.status,
                    output: s.output.and_then(|t| serde_json::from_str(&t).ok()),
                    error: s.error,
                    duration_ms: s.duration_ms,
                })
                .collect(),
        })
    }

    /// One recorded run with its steps in order.
    pub async fn workflow_run_view(&self, run_id: i64) -> CoreResult<WorkflowRunView> {
        let pool = self.registry().pool();
        let r = sqlx::query("SELECT * FROM workflow_runs WHERE id = ?")
            .bind(run_id)
            .fetch_optional(pool)
            .await?
            .ok_or_else(|| CoreError::NotFound(format!("workflow run {run_id}")))?;
        let steps = sqlx::query("SELECT * FROM workflow_steps WHERE run_id = ? ORDER BY position")
            .bind(run_id)
            .fetch_all(pool)
            .await?
            .iter()
            .map(|s| WorkflowStepView {
                step: s.get("step_id"),
                status: s.get("status"),
                output: s
                    .get::<Option<String>, _>("output")
                    .and_then(|t| serde_json::from_str(&t).ok()),
                error: s.get("error"),
                duration_ms: s.get("duration_ms"),
            })
            .collect();
        Ok(WorkflowRunView {
            id: run_id,
            capability: r.get("capability_id"),
            version: r.get("version"),
            action: r.get("action"),
            status: r.get("status"),
            output: r
                .get::<Option<String>, _>("output")
                .and_then(|t| serde_json::from_str(&t).ok()),
            error: r.get("error"),
            resumed_from: r.get("resumed_from"),
            started_at: r.get("started_at"),
            steps,
        })
    }

    /// Recorded runs, newest first (after marking those whose process is gone).
    pub async fn workflow_runs(
        &self,
        id: Option<&str>,
        limit: u32,
    ) -> CoreResult<Vec<WorkflowRunView>> {
        self.mark_interrupted_runs().await?;
        let ids: Vec<i64> = sqlx::query_scalar(
            "SELECT id FROM workflow_runs WHERE (?1 IS NULL OR capability_id = ?1) ORDER BY id DESC LIMIT ?2",
        )
        .bind(id)
        .bind(limit as i64)
        .fetch_all(self.registry().pool())
        .await?;
        let mut out = Vec::new();
        for i in ids {
            out.push(self.workflow_run_view(i).await?);
        }
        Ok(out)
    }
}
