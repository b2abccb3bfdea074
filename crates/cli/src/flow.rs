//! `capsmith flow …`: the builder's operations from the command line: compile a flow document,
//! open a manifest as flows, run one action's flow with a trace per node, print the schema.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use capsmith_core::api::builder::{compile_text, open_document};
use capsmith_core::api::dto::{FlowDiagnostic, FlowRunView, NodeStatus};
use capsmith_core::api::{self};
use capsmith_core::diagnostics::Severity;
use capsmith_core::manifest::SourceFormat;
use capsmith_core::validate;
use capsmith_core::CoreError;
use clap::Subcommand;

use super::{fail, open, parse_input, print_json, report_run, Format, Style};

#[derive(Subcommand)]
pub enum FlowCmd {
    /// Compile a flow document to its manifest (exit 1 when a flow has errors).
    Compile {
        file: PathBuf,
        #[arg(long, value_enum, default_value_t = Format::Yaml)]
        format: Format,
        /// Print `{ok, kind, yaml, diagnostics}` as JSON instead.
        #[arg(long)]
        json: bool,
    },
    /// Print the flow document of a capability (`ID[@VERSION]`) or a manifest file.
    FromManifest { source: String },
    /// Run one action's flow of a flow document, showing what each node did.
    Run {
        file: PathBuf,
        action: String,
        /// The action's input as JSON.
        #[arg(long, default_value = "{}")]
        input: String,
        #[arg(long)]
        json: bool,
    },
    /// Print the JSON Schema of a flow.
    Schema,
}

fn read(file: &Path) -> Result<String, ExitCode> {
    std::fs::read_to_string(file).map_err(|e| {
        eprintln!("error: cannot read {}: {e}", file.display());
        ExitCode::from(2)
    })
}

fn render_diagnostic(d: &FlowDiagnostic, style: &Style) -> String {
    let (icon, color) = match d.severity {
        Severity::Error => ("error", "31"),
        Severity::Warning => ("warning", "33"),
    };
    let mut at = Vec::new();
    if let Some(a) = &d.action {
        at.push(format!("action {a}"));
    }
    if let Some(t) = &d.target {
        at.push(t.replacen(':', " ", 1));
    }
    if let Some(p) = &d.path {
        at.push(p.clone());
    }
    format!(
        "{}[{}] {}: {}",
        style.paint(color, icon),
        d.code,
        style.paint("36", &at.join(", ")),
        d.message
    )
}

fn render_run(r: &FlowRunView, style: &Style) -> String {
    let mut out = String::new();
    for n in &r.nodes {
        let (mark, color) = match n.status {
            NodeStatus::Ok => ("✔", "32"),
            NodeStatus::Error => ("✘", "31"),
            NodeStatus::Skipped => ("·", "2"),
        };
        out.push_str(&format!(
            "{} {:<20} {:>8.1} ms",
            style.paint(color, mark),
            n.node,
            n.duration_ms
        ));
        if let Some(e) = &n.error {
            out.push_str(&format!("  {e}"));
        } else if let Some(o) = &n.output {
            let text = o.to_string();
            let short: String = text.chars().take(80).collect();
            out.push_str(&format!(
                "  {short}{}",
                if text.len() > short.len() { "…" } else { "" }
            ));
        }
        out.push('\n');
    }
    for c in &r.calls {
        out.push_str(&format!(
            "  → {} {} {}\n",
            c.method,
            c.url,
            c.status
                .map(|s| s.to_string())
                .unwrap_or_else(|| "-".into())
        ));
    }
    match (&r.output, &r.error) {
        (Some(o), _) if r.ok => out.push_str(&format!(
            "{}\n",
            serde_json::to_string_pretty(o).unwrap_or_default()
        )),
        (_, Some(e)) => out.push_str(&format!(
            "{}: {}\n",
            style.paint("31", &format!("error[{}]", e.kind)),
            e.message
        )),
        _ => {}
    }
    out
}

pub async fn run(cmd: FlowCmd, home: Option<PathBuf>, style: &Style) -> ExitCode {
    match cmd {
        FlowCmd::Compile { file, format, json } => {
            let text = match read(&file) {
                Ok(t) => t,
                Err(code) => return code,
            };
            let label = file.display().to_string();
            let c = compile_text(&label, &text, SourceFormat::detect(&label, &text));
            if json {
                print_json(&c.view);
            } else {
                for d in &c.view.diagnostics {
                    eprintln!("{}", render_diagnostic(d, style));
                }
                if let Some(m) = &c.manifest {
                    match format {
                        Format::Yaml => print!("{}", c.view.yaml),
                        Format::Json => print!(
                            "{}",
                            capsmith_core::manifest::export::to_string(
                                &m.document,
                                capsmith_core::manifest::export::ExportFormat::Json
                            )
                        ),
                    }
                }
            }
            if c.view.ok {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
        FlowCmd::FromManifest { source } => {
            let path = Path::new(&source);
            let document = if path.exists() {
                match validate::check_file(path) {
                    Ok(c) => match c.document {
                        Some(d) => d,
                        None => {
                            for d in &c.diagnostics {
                                eprintln!("error[{}] {}: {}", d.code, d.file, d.message);
                            }
                            return ExitCode::from(1);
                        }
                    },
                    Err(e) => return fail(&e.into(), false),
                }
            } else {
                let app = match open(home).await {
                    Ok(a) => a,
                    Err(e) => return fail(&e, false),
                };
                let (id, version) = api::parse_spec(&source);
                match app.registry().get(&id, version.as_deref()).await {
                    Ok(s) => s.document,
                    Err(e) => return fail(&e, false),
                }
            };
            match open_document(&document) {
                Ok(d) => {
                    print_json(&d);
                    ExitCode::SUCCESS
                }
                Err(e) => fail(&e, false),
            }
        }
        FlowCmd::Run {
            file,
            action,
            input,
            json,
        } => {
            let text = match read(&file) {
                Ok(t) => t,
                Err(code) => return code,
            };
            let label = file.display().to_string();
            let c = compile_text(&label, &text, SourceFormat::detect(&label, &text));
            let doc = match validate::check_text(
                &label,
                &text,
                SourceFormat::detect(&label, &text),
                None,
            )
            .document
            {
                Some(d) => serde_json::to_value(d).unwrap_or_default(),
                None => {
                    for d in &c.view.diagnostics {
                        eprintln!("{}", render_diagnostic(d, style));
                    }
                    return ExitCode::from(1);
                }
            };
            let input = match parse_input(&input) {
                Ok(v) => v,
                Err(code) => return code,
            };
            let app = match open(home).await {
                Ok(a) => a,
                Err(e) => return fail(&e, json),
            };
            match app.builder_run(&doc, &action, &input).await {
                Ok(r) => report_run(&r, r.ok, json, || render_run(&r, style)),
                Err(e @ CoreError::InvalidArgument(_)) => {
                    eprintln!("error[{}]: {e}", e.kind());
                    ExitCode::from(2)
                }
                Err(e) => fail(&e, json),
            }
        }
        FlowCmd::Schema => {
            print!("{}", capsmith_core::flow::nodes::flow_schema_string());
            ExitCode::SUCCESS
        }
    }
}
