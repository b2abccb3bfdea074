//! The library's commands: validate, import, list, show, export, remove, run, test, runs,
//! import an OpenAPI document, status, connect (OAuth2).

use super::*;

/// Runs one of the library's commands (`main::run` sends only those here).
pub(crate) async fn run(cmd: Command, home: Option<PathBuf>, style: &Style) -> ExitCode {
    match cmd {
        Command::Validate { json, files } => {
            // A library that exists may hold the user's sandbox opt-out, which validation
            // (evaluating a module in a worker) honours too; none is made for validating.
            if let Ok(dir) = api::home_dir(home.clone()) {
                if dir.join(api::REGISTRY_FILE).exists() {
                    let _ = Capsmith::open(dir).await;
                }
            }
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
            let app = match open(home).await {
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
            let app = match open(home).await {
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
            let app = match open(home).await {
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
            let app = match open(home).await {
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
            let app = match open(home).await {
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
        Command::Run {
            spec,
            action,
            input,
            json,
        } => {
            let input_text = if input == "-" {
                let mut s = String::new();
                if let Err(e) = std::io::Read::read_to_string(&mut std::io::stdin(), &mut s) {
                    eprintln!("error: cannot read the input from standard input: {e}");
                    return ExitCode::from(2);
                }
                s
            } else {
                input
            };
            let input = match parse_input(&input_text) {
                Ok(v) => v,
                Err(code) => return code,
            };
            let app = match open(home).await {
                Ok(a) => a,
                Err(e) => return fail(&e, json),
            };
            let (id, version) = api::parse_spec(&spec);
            match app
                .run_action(&id, version.as_deref(), &action, &input, Origin::Cli)
                .await
            {
                Ok(r) => report_run(&r, r.ok, json, || render_run(&r, style)),
                Err(e) => fail(&e, json),
            }
        }
        Command::Test { spec, json } => {
            let app = match open(home).await {
                Ok(a) => a,
                Err(e) => return fail(&e, json),
            };
            let (id, version) = api::parse_spec(&spec);
            match app.test(&id, version.as_deref()).await {
                Ok(r) => {
                    if json {
                        print_json(&r);
                    } else {
                        print!("{}", render_tests(&r, style));
                    }
                    if r.failed == 0 {
                        ExitCode::SUCCESS
                    } else {
                        ExitCode::from(1)
                    }
                }
                Err(e) => fail(&e, json),
            }
        }
        Command::Runs { id, limit, json } => {
            let app = match open(home).await {
                Ok(a) => a,
                Err(e) => return fail(&e, json),
            };
            match app.runs(id.as_deref(), limit).await {
                Ok(rows) => {
                    if json {
                        print_json(&rows);
                    } else {
                        print!("{}", render_runs(&rows));
                    }
                    ExitCode::SUCCESS
                }
                Err(e) => fail(&e, json),
            }
        }
        Command::ImportOpenapi {
            spec,
            id,
            output,
            json,
        } => {
            let app = match open(home).await {
                Ok(a) => a,
                Err(e) => return fail(&e, json),
            };
            if let Some(path) = output {
                return match app.openapi_manifest(&spec, id.as_deref()).await {
                    Ok((cap_id, yaml, notes)) => {
                        if let Err(e) = std::fs::write(&path, yaml) {
                            return fail(&CoreError::io(path, e), json);
                        }
                        println!("wrote {cap_id} to {}", path.display());
                        for n in notes {
                            println!("  note: {n}");
                        }
                        ExitCode::SUCCESS
                    }
                    Err(e) => fail(&e, json),
                };
            }
            match app.import_openapi(&spec, id.as_deref()).await {
                Ok(o) => {
                    if json {
                        print_json(&o);
                    } else {
                        println!("{} imported {}@{}", style.paint("32", "✔"), o.id, o.version);
                        for w in &o.report.warnings {
                            println!("  {}", render_finding(w, style));
                        }
                    }
                    ExitCode::SUCCESS
                }
                Err(e) => fail(&e, json),
            }
        }
        Command::Status { spec, status } => {
            let app = match open(home).await {
                Ok(a) => a,
                Err(e) => return fail(&e, false),
            };
            let (id, version) = api::parse_spec(&spec);
            let status = match status.as_deref() {
                Some("draft") => CapabilityStatus::Draft,
                Some("deprecated") => CapabilityStatus::Deprecated,
                _ => CapabilityStatus::Published,
            };
            match app.set_status(&id, version.as_deref(), status).await {
                Ok(_) => {
                    println!(
                        "{} {id}{} is {}",
                        style.paint("32", "✔"),
                        version.map(|v| format!("@{v}")).unwrap_or_default(),
                        status.as_str()
                    );
                    ExitCode::SUCCESS
                }
                Err(e) => fail(&e, false),
            }
        }
        Command::Connect {
            id,
            no_browser,
            wait,
        } => {
            let app = match open(home).await {
                Ok(a) => a,
                Err(e) => return fail(&e, false),
            };
            let open_browser = |url: &url::Url| {
                eprintln!("Open this page to authorize Capsmith:\n  {url}");
                if !no_browser {
                    let _ = std::process::Command::new("xdg-open")
                        .arg(url.as_str())
                        .stdout(std::process::Stdio::null())
                        .stderr(std::process::Stdio::null())
                        .spawn();
                }
            };
            match app
                .oauth_connect(&id, open_browser, std::time::Duration::from_secs(wait))
                .await
            {
                Ok(()) => {
                    println!(
                        "{} connected {id} (tokens are in the OS keyring)",
                        style.paint("32", "✔")
                    );
                    ExitCode::SUCCESS
                }
                Err(e) => fail(&e, false),
            }
        }
        // `main::run` routes every other command to its own module.
        _ => ExitCode::from(2),
    }
}
