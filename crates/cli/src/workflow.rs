//! `capsmith workflow …`: recorded workflow runs and resuming them (issue 6, begun).

use std::path::PathBuf;
use std::process::ExitCode;

use capsmith_core::api::run::Origin;
use capsmith_core::api::workflows::WorkflowRunView;
use capsmith_core::api::{self};
use clap::Subcommand;

use super::{fail, open, parse_input, print_list, report_run, Style};

#[derive(Subcommand)]
pub enum WorkflowCmd {
    /// Run a workflow (`ID[@VERSION]`), recording every step.
    Run {
        spec: String,
        #[arg(long, default_value = "{}")]
        input: String,
        /// The action (default: the first).
        #[arg(long)]
        action: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Start a `file_upload` workflow with a file: it is copied into the uploads folder and
    /// the run gets `{file: {name, type, size, path}}`.
    Upload {
        spec: String,
        file: PathBuf,
        #[arg(long)]
        json: bool,
    },
    /// Serve webhook workflows at http://ADDR/hooks/<id> (each request runs the workflow and
    /// gets its output as the answer) and run scheduled workflows on time, until Ctrl-C.
    Serve {
        /// Only these workflows (default: every webhook and scheduled workflow).
        ids: Vec<String>,
        #[arg(long, default_value = "127.0.0.1:8787")]
        listen: std::net::SocketAddr,
        /// Do not run scheduled workflows.
        #[arg(long)]
        no_schedules: bool,
    },
    /// Print the secret a webhook workflow's callers must send (`Authorization: Bearer …`, or
    /// `X-Capsmith-Signature: sha256=<HMAC-SHA256 of the body>`); made on first use and kept in
    /// the OS keyring.
    Secret { id: String },
    /// Resume an interrupted or failed run from the step that did not complete.
    Resume {
        run_id: i64,
        #[arg(long)]
        json: bool,
    },
    /// Recorded runs, newest first.
    Runs {
        id: Option<String>,
        #[arg(long, default_value_t = 20)]
        limit: u32,
        #[arg(long)]
        json: bool,
    },
}

fn render(r: &WorkflowRunView, style: &Style) -> String {
    let color = match r.status.as_str() {
        "ok" => "32",
        "running" => "33",
        _ => "31",
    };
    let mut s = format!(
        "run {} {}@{} {} {}{}\n",
        r.id,
        r.capability,
        r.version,
        r.action,
        style.paint(color, &r.status),
        r.resumed_from
            .map(|f| format!(" (resumes run {f})"))
            .unwrap_or_default()
    );
    for st in &r.steps {
        s.push_str(&format!(
            "  {:<8} {:<20} {:>8.1} ms",
            st.status, st.step, st.duration_ms
        ));
        if let Some(e) = &st.error {
            s.push_str(&format!("  {e}"));
        }
        s.push('\n');
    }
    if let Some(e) = &r.error {
        s.push_str(&format!("  error: {e}\n"));
    }
    if let Some(o) = &r.output {
        s.push_str(&format!(
            "{}\n",
            serde_json::to_string_pretty(o).unwrap_or_default()
        ));
    }
    s
}

pub async fn run(cmd: WorkflowCmd, home: Option<PathBuf>, style: &Style) -> ExitCode {
    let json = match &cmd {
        WorkflowCmd::Serve { .. } | WorkflowCmd::Secret { .. } => false,
        WorkflowCmd::Run { json, .. }
        | WorkflowCmd::Upload { json, .. }
        | WorkflowCmd::Resume { json, .. }
        | WorkflowCmd::Runs { json, .. } => *json,
    };
    let app = match open(home).await {
        Ok(a) => a,
        Err(e) => return fail(&e, json),
    };
    let done = |r: Result<WorkflowRunView, capsmith_core::CoreError>| match r {
        Ok(v) => report_run(&v, v.status == "ok" || v.status == "filtered", json, || {
            render(&v, style)
        }),
        Err(e) => fail(&e, json),
    };
    match cmd {
        WorkflowCmd::Run {
            spec,
            input,
            action,
            ..
        } => {
            let input = match parse_input(&input) {
                Ok(v) => v,
                Err(code) => return code,
            };
            let (id, version) = api::parse_spec(&spec);
            done(
                app.workflow_run(
                    &id,
                    version.as_deref(),
                    action.as_deref(),
                    &input,
                    Origin::Cli,
                )
                .await,
            )
        }
        WorkflowCmd::Serve {
            ids,
            listen,
            no_schedules,
        } => {
            let listener = match tokio::net::TcpListener::bind(listen).await {
                Ok(l) => l,
                Err(e) => {
                    eprintln!("error: cannot listen on {listen}: {e}");
                    return ExitCode::from(1);
                }
            };
            let addr = listener
                .local_addr()
                .map(|a| a.to_string())
                .unwrap_or_default();
            let hooks = app.triggered_workflows("webhook").await.unwrap_or_default();
            for (id, _) in hooks
                .iter()
                .filter(|(id, _)| ids.is_empty() || ids.contains(id))
            {
                eprintln!("webhook: http://{addr}/hooks/{id}");
            }
            eprintln!("callers send each workflow's secret (capsmith workflow secret ID)");
            eprintln!("listening on {addr} (Ctrl-C stops)");
            let options = capsmith_core::api::triggers::TriggerOptions {
                only: ids,
                schedules: !no_schedules,
            };
            let stop = async {
                let _ = super::stop_signal().await;
            };
            match app.serve_triggers(listener, options, stop).await {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => fail(&e, false),
            }
        }
        WorkflowCmd::Secret { id } => match app.triggered_workflows("webhook").await {
            Ok(hooks) if !hooks.iter().any(|(h, _)| *h == id) => {
                eprintln!("error[not_found]: `{id}` is not a webhook workflow in the library");
                ExitCode::from(1)
            }
            Err(e) => fail(&e, false),
            Ok(_) => match app.webhook_secret(&id).await {
                Ok(s) => {
                    println!("{}", s.expose());
                    ExitCode::SUCCESS
                }
                Err(e) => fail(&e, false),
            },
        },
        WorkflowCmd::Upload { spec, file, .. } => {
            let (id, version) = api::parse_spec(&spec);
            done(
                app.workflow_upload(&id, version.as_deref(), &file, Origin::Cli)
                    .await,
            )
        }
        WorkflowCmd::Resume { run_id, .. } => done(app.workflow_resume(run_id, Origin::Cli).await),
        WorkflowCmd::Runs { id, limit, .. } => {
            match app.workflow_runs(id.as_deref(), limit).await {
                Ok(list) => print_list(&list, json, "no recorded workflow runs", |r| {
                    render(r, style)
                }),
                Err(e) => fail(&e, json),
            }
        }
    }
}
