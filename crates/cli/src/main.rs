//! `capsmith`: everything the desktop app does with the library, scriptable. A thin layer of
//! argument parsing and printing over `capsmith_core::api`.
//!
//! Exit codes: 0 success; 1 a file is invalid or an operation failed; 2 wrong usage or a
//! missing file.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use capsmith_core::api::dto::{ApiError, CapabilitySummary, ValidationReport};
use capsmith_core::api::{self, Capsmith};
use capsmith_core::diagnostics::Diagnostic;
use capsmith_core::CoreError;
use clap::{Parser, Subcommand, ValueEnum};

#[derive(Parser)]
#[command(name = "capsmith", version, about = "Build, validate and manage AI-agent capabilities", long_about = None)]
struct Cli {
    /// Capsmith data directory (default: $CAPSMITH_HOME, else the OS data directory).
    #[arg(long, global = true, value_name = "DIR")]
    home: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Check capability files (YAML, JSON or JS) and report every problem with its location.
    Validate {
        /// Print one JSON report per file instead of text.
        #[arg(long)]
        json: bool,
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
    },
    /// Validate and add capability files to the library (all or nothing).
    Import {
        #[arg(long)]
        json: bool,
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
    },
    /// List the library, or search it.
    List {
        #[arg(long)]
        json: bool,
        /// Full-text search over name, description and tags.
        query: Option<String>,
    },
    /// Show one capability: actions, configuration, permissions.
    Show {
        #[arg(long)]
        json: bool,
        /// `ID` or `ID@VERSION`.
        spec: String,
    },
    /// Print a capability's manifest.
    Export {
        spec: String,
        #[arg(long, value_enum, default_value_t = Format::Yaml)]
        format: Format,
        /// Write to this file instead of standard output.
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
    /// Remove a capability version, or every version.
    Remove { spec: String },
    /// Print the JSON Schema of the manifest format.
    Schema,
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Yaml,
    Json,
}

struct Style {
    color: bool,
}

impl Style {
    fn paint(&self, code: &str, s: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let style = Style {
        color: std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
    };
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start: {e}");
            return ExitCode::from(1);
        }
    };
    rt.block_on(run(cli, &style))
}

fn print_json(v: &impl serde::Serialize) {
    println!("{}", serde_json::to_string_pretty(v).unwrap_or_default());
}

fn fail(e: &CoreError, json: bool) -> ExitCode {
    if json {
        print_json(&ApiError::from(e));
    } else if let CoreError::InvalidManifest(r) = e {
        eprint!("{}", render_report(r, &Style { color: false }));
    } else {
        eprintln!("error[{}]: {e}", e.kind());
    }
    match e {
        CoreError::FileNotFound(_) => ExitCode::from(2),
        _ => ExitCode::from(1),
    }
}

async fn open(home: Option<PathBuf>) -> Result<Capsmith, CoreError> {
    Capsmith::open(api::home_dir(home)?).await
}

async fn run(cli: Cli, style: &Style) -> ExitCode {
    match cli.command {
        Command::Validate { json, files } => {
            let mut any_invalid = false;
            let mut missing = false;
            let mut reports = Vec::new();
            for f in &files {
                match api::validate_file(f) {
                    Ok(r) => {
                        any_invalid |= !r.valid;
                        if !json {
                            print!("{}", render_report(&r, style));
                        }
                        reports.push(r);
                    }
                    Err(e) => {
                        missing = true;
                        eprintln!("error[{}]: {e}", e.kind());
                    }
                }
            }
            if json {
                print_json(&reports);
            }
            if missing {
                ExitCode::from(2)
            } else if any_invalid {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            }
        }
        Command::Import { json, files } => {
            let app = match open(cli.home).await {
                Ok(a) => a,
                Err(e) => return fail(&e, json),
            };
            match app.import_files(&files).await {
                Ok(outcomes) => {
                    if json {
                        print_json(&outcomes);
                    } else {
                        for o in &outcomes {
                            let what = if o.created {
                                "imported"
                            } else {
                                "already present:"
                            };
                            println!("{} {what} {}@{}", style.paint("32", "✔"), o.id, o.version);
                            for w in &o.report.warnings {
                                println!("  {}", render_finding(w, style));
                            }
                        }
                    }
                    ExitCode::SUCCESS
                }
                Err(e) => fail(&e, json),
            }
        }
        Command::List { json, query } => {
            let app = match open(cli.home).await {
                Ok(a) => a,
                Err(e) => return fail(&e, json),
            };
            match app.list(query.as_deref()).await {
                Ok(items) => {
                    if json {
                        print_json(&items);
                    } else {
                        print!("{}", render_list(&items, query.as_deref()));
                    }
                    ExitCode::SUCCESS
                }
                Err(e) => fail(&e, json),
            }
        }
        Command::Show { json, spec } => {
            let app = match open(cli.home).await {
                Ok(a) => a,
                Err(e) => return fail(&e, json),
            };
            let (id, version) = api::parse_spec(&spec);
            match app.detail(&id, version.as_deref()).await {
                Ok(d) => {
                    if json {
                        print_json(&d);
                    } else {
                        print!("{}", render_detail(&d, style));
                    }
                    ExitCode::SUCCESS
                }
                Err(e) => fail(&e, json),
            }
        }
        Command::Export {
            spec,
            format,
            output,
        } => {
            let app = match open(cli.home).await {
                Ok(a) => a,
                Err(e) => return fail(&e, false),
            };
            let (id, version) = api::parse_spec(&spec);
            let fmt = match format {
                Format::Yaml => "yaml",
                Format::Json => "json",
            };
            match app.export(&id, version.as_deref(), fmt).await {
                Ok(text) => match output {
                    Some(path) => match std::fs::write(&path, text) {
                        Ok(()) => ExitCode::SUCCESS,
                        Err(e) => fail(&CoreError::io(path, e), false),
                    },
                    None => {
                        print!("{text}");
                        ExitCode::SUCCESS
                    }
                },
                Err(e) => fail(&e, false),
            }
        }
        Command::Remove { spec } => {
            let app = match open(cli.home).await {
                Ok(a) => a,
                Err(e) => return fail(&e, false),
            };
            let (id, version) = api::parse_spec(&spec);
            match app.remove(&id, version.as_deref()).await {
                Ok(n) => {
                    println!("removed {n} version(s) of {id}");
                    ExitCode::SUCCESS
                }
                Err(e) => fail(&e, false),
            }
        }
        Command::Schema => {
            print!("{}", capsmith_core::manifest::schema::json_schema_string());
            ExitCode::SUCCESS
        }
    }
}

fn render_finding(d: &Diagnostic, style: &Style) -> String {
    let (icon, color) = match d.severity {
        capsmith_core::diagnostics::Severity::Error => ("❌ error", "31"),
        capsmith_core::diagnostics::Severity::Warning => ("⚠️  warning", "33"),
    };
    let mut s = format!("{}[{}]", style.paint(color, icon), d.code);
    match (d.line, d.column) {
        (Some(l), Some(c)) => s.push_str(&format!(" {}:{l}:{c}", d.file)),
        _ => s.push_str(&format!(" {}", d.file)),
    }
    if let Some(p) = &d.path {
        s.push_str(&format!(" {}", style.paint("36", p)));
    }
    s.push_str(&format!(": {}", d.message));
    if let Some(h) = &d.hint {
        s.push_str(&format!("\n      hint: {h}"));
    }
    s
}

fn render_report(r: &ValidationReport, style: &Style) -> String {
    let mut out = String::new();
    let head = if r.valid {
        style.paint("32", "✅ valid")
    } else {
        style.paint("31", "❌ invalid")
    };
    let what = r
        .capability
        .as_ref()
        .map(|c| {
            format!(
                " — {} {}@{} ({})",
                c.icon.clone().unwrap_or_default(),
                c.id,
                c.version,
                c.kind.as_str()
            )
        })
        .unwrap_or_default();
    out.push_str(&format!(
        "{}: {head}{what} ({} error(s), {} warning(s))\n",
        r.file,
        r.errors.len(),
        r.warnings.len()
    ));
    for d in r.errors.iter().chain(&r.warnings) {
        out.push_str(&format!("  {}\n", render_finding(d, style)));
    }
    out
}

fn render_list(items: &[CapabilitySummary], query: Option<&str>) -> String {
    if items.is_empty() {
        return match query {
            Some(q) => format!("no capability matches \"{q}\"\n"),
            None => "the library is empty: add one with `capsmith import FILE`\n".into(),
        };
    }
    let w = items.iter().map(|c| c.id.len()).max().unwrap_or(2).max(2);
    let mut out = format!(
        "{:<w$}  {:<10}  {:<13}  {:<9}  NAME\n",
        "ID", "VERSION", "KIND", "STATUS"
    );
    for c in items {
        out.push_str(&format!(
            "{:<w$}  {:<10}  {:<13}  {:<9}  {} {}\n",
            c.id,
            c.version,
            c.kind.as_str(),
            c.status.as_str(),
            c.icon.clone().unwrap_or_default(),
            c.name
        ));
    }
    out
}

fn render_detail(d: &capsmith_core::api::dto::CapabilityDetail, style: &Style) -> String {
    let s = &d.summary;
    let mut out = format!(
        "{} {} — {}@{} ({}, {})\n",
        s.icon.clone().unwrap_or_default(),
        style.paint("1", &s.name),
        s.id,
        d.version,
        s.kind.as_str(),
        s.status.as_str()
    );
    if let Some(desc) = &s.description {
        out.push_str(&format!("{desc}\n"));
    }
    if s.versions.len() > 1 {
        out.push_str(&format!("versions: {}\n", s.versions.join(", ")));
    }
    out.push_str("\nactions:\n");
    for a in &d.actions {
        out.push_str(&format!("  {} — {}\n", a.id, a.name));
        for f in &a.inputs {
            out.push_str(&format!(
                "    in  {}: {}{}\n",
                f.name,
                f.ty,
                if f.required { " (required)" } else { "" }
            ));
        }
        for f in &a.outputs {
            out.push_str(&format!("    out {}: {}\n", f.name, f.ty));
        }
    }
    if !d.configuration.is_empty() {
        out.push_str("\nconfiguration:\n");
        for c in &d.configuration {
            let lock = if c.ty == "secret" { " 🔒" } else { "" };
            out.push_str(&format!(
                "  {} ({}{}){}\n",
                c.key,
                c.ty,
                if c.required { ", required" } else { "" },
                lock
            ));
        }
    }
    out.push_str(&format!(
        "\npermissions: {}\n",
        if d.permissions.is_empty() {
            "(none declared)".to_string()
        } else {
            d.permissions.join(", ")
        }
    ));
    if !d.inferred_permissions.is_empty() {
        out.push_str(&format!(
            "inferred:    {}\n",
            d.inferred_permissions.join(", ")
        ));
    }
    if !d.allowed_domains.is_empty() {
        out.push_str(&format!("domains:     {}\n", d.allowed_domains.join(", ")));
    }
    if !d.dependencies.is_empty() {
        let deps: Vec<String> = d
            .dependencies
            .iter()
            .map(|x| format!("{} {}", x.id, x.version))
            .collect();
        out.push_str(&format!("depends on:  {}\n", deps.join(", ")));
    }
    out
}
