//! `capsmith config|settings|schema …`: a capability's configuration (secrets to the OS
//! keyring), the app's settings and per-capability host grants, and the user's schema library.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use capsmith_core::api::Capsmith;
use capsmith_core::secrets::Sensitive;
use capsmith_core::CoreError;
use clap::Subcommand;

use crate::{fail, print_json};

#[derive(Subcommand)]
pub(crate) enum ConfigCommand {
    /// Set a value; for a secret give `-` (or nothing) to read it from standard input.
    Set {
        id: String,
        key: String,
        value: Option<String>,
    },
    /// Show one value (secrets show as `[secret]`).
    Get { id: String, key: String },
    /// Remove a value (a secret is deleted from the keyring).
    Unset { id: String, key: String },
    /// Every key, whether it is set, and non-secret values.
    List {
        id: String,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
pub(crate) enum SchemaCommand {
    /// Add (or replace) a named schema from a JSON or YAML file.
    Add { name: String, file: PathBuf },
    /// The schemas in the library.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Remove a named schema.
    Remove { name: String },
}

#[derive(Subcommand)]
pub(crate) enum SettingsCommand {
    /// Set a setting, e.g. `network.timeout_ms 10000`; `-` reads the value from stdin (use it
    /// for `ai.api_key`, which goes to the OS keyring).
    Set { key: String, value: String },
    /// Let one capability reach HOST:PORT although it is on this machine or a private network
    /// (or plain http). Its manifest must still name the host; other capabilities stay refused.
    AllowHost { id: String, host_port: String },
    /// Take back an `allow-host`.
    DisallowHost { id: String, host_port: String },
    /// The HOST:PORT pairs a capability was allowed.
    AllowedHosts { id: String },
    /// Restore a setting's default.
    Unset { key: String },
    /// Show one setting.
    Get { key: String },
    /// Every setting with its value.
    List {
        #[arg(long)]
        json: bool,
    },
}

/// A configuration value from the command line, or (`-` or none) from standard input, so a
/// secret need not appear in the shell's history.
pub(crate) fn read_value(key: &str, value: Option<&str>) -> Result<String, ExitCode> {
    match value {
        Some("-") | None => {
            if std::io::stdin().is_terminal() {
                eprint!("value for {key}: ");
            }
            let mut line = String::new();
            if let Err(e) = std::io::stdin().read_line(&mut line) {
                eprintln!("error: cannot read the value: {e}");
                return Err(ExitCode::from(2));
            }
            Ok(line.trim_end_matches(['\n', '\r']).to_string())
        }
        Some(v) => Ok(v.to_string()),
    }
}

pub(crate) async fn config_command(app: &Capsmith, action: ConfigCommand) -> ExitCode {
    match action {
        ConfigCommand::Set { id, key, value } => {
            let value = match read_value(&key, value.as_deref()) {
                Ok(v) => v,
                Err(code) => return code,
            };
            match app.config_set(&id, &key, Sensitive::new(value)).await {
                Ok(e) => {
                    let where_ = if e.ty == "secret" {
                        " (in the OS keyring)"
                    } else {
                        ""
                    };
                    println!("set {id} {key}{where_}");
                    ExitCode::SUCCESS
                }
                Err(e) => fail(&e, false),
            }
        }
        ConfigCommand::Get { id, key } => match app.config_list(&id).await {
            Ok(list) => match list.into_iter().find(|e| e.key == key) {
                Some(e) if !e.set => {
                    eprintln!("{key} is not set");
                    ExitCode::from(1)
                }
                Some(e) if e.ty == "secret" => {
                    println!("[secret]");
                    ExitCode::SUCCESS
                }
                Some(e) => {
                    match e.value {
                        Some(serde_json::Value::String(s)) => println!("{s}"),
                        Some(v) => println!("{v}"),
                        None => println!(),
                    }
                    ExitCode::SUCCESS
                }
                None => fail(
                    &CoreError::InvalidArgument(format!("`{id}` has no configuration key `{key}`")),
                    false,
                ),
            },
            Err(e) => fail(&e, false),
        },
        ConfigCommand::Unset { id, key } => match app.config_unset(&id, &key).await {
            Ok(true) => {
                println!("unset {id} {key}");
                ExitCode::SUCCESS
            }
            Ok(false) => {
                println!("{key} was not set");
                ExitCode::SUCCESS
            }
            Err(e) => fail(&e, false),
        },
        ConfigCommand::List { id, json } => match app.config_list(&id).await {
            Ok(list) => {
                if json {
                    print_json(&list);
                } else if list.is_empty() {
                    println!("{id} needs no configuration");
                } else {
                    for e in list {
                        let shown = match (&e.ty[..], e.set, &e.value) {
                            ("secret", true, _) => "[secret]".to_string(),
                            (_, false, _) => "(not set)".to_string(),
                            (_, true, Some(serde_json::Value::String(s))) => s.clone(),
                            (_, true, Some(v)) => v.to_string(),
                            _ => String::new(),
                        };
                        let req = if e.required { ", required" } else { "" };
                        println!("{:<24} {:<10} {}", e.key, format!("({}{req})", e.ty), shown);
                    }
                }
                ExitCode::SUCCESS
            }
            Err(e) => fail(&e, json),
        },
    }
}

pub(crate) async fn settings_command(app: &Capsmith, action: SettingsCommand) -> ExitCode {
    let show = |s: &capsmith_core::api::dto::SettingView| {
        let v = match &s.value {
            serde_json::Value::Array(items) => items
                .iter()
                .filter_map(|i| i.as_str())
                .collect::<Vec<_>>()
                .join(","),
            other => other.to_string(),
        };
        format!(
            "{} = {}{}",
            s.key,
            v,
            if s.is_default { "  (default)" } else { "" }
        )
    };
    match action {
        SettingsCommand::Set { key, value } => {
            let value = if value == "-" {
                let mut line = String::new();
                if let Err(e) = std::io::stdin().read_line(&mut line) {
                    eprintln!("error: cannot read the value: {e}");
                    return ExitCode::from(2);
                }
                line.trim_end_matches(['\n', '\r']).to_string()
            } else {
                value
            };
            match app.set_setting(&key, Some(&value)).await {
                Ok(s) => {
                    println!("{}", show(&s));
                    ExitCode::SUCCESS
                }
                Err(e) => fail(&e, false),
            }
        }
        SettingsCommand::AllowHost { id, host_port } => {
            hosts_of(&id, app.allow_host(&id, &host_port).await)
        }
        SettingsCommand::DisallowHost { id, host_port } => {
            hosts_of(&id, app.disallow_host(&id, &host_port).await)
        }
        SettingsCommand::AllowedHosts { id } => hosts_of(&id, app.allowed_hosts(&id).await),
        SettingsCommand::Unset { key } => match app.set_setting(&key, None).await {
            Ok(s) => {
                println!("{}", show(&s));
                ExitCode::SUCCESS
            }
            Err(e) => fail(&e, false),
        },
        SettingsCommand::Get { key } => match app.settings().await {
            Ok(all) => match all.iter().find(|s| s.key == key) {
                Some(s) => {
                    println!("{}", show(s));
                    ExitCode::SUCCESS
                }
                None => fail(
                    &CoreError::InvalidArgument(format!("unknown setting `{key}`")),
                    false,
                ),
            },
            Err(e) => fail(&e, false),
        },
        SettingsCommand::List { json } => match app.settings().await {
            Ok(all) => {
                if json {
                    print_json(&all);
                } else {
                    for s in &all {
                        println!("{}\n    {}", show(s), s.description);
                    }
                }
                ExitCode::SUCCESS
            }
            Err(e) => fail(&e, json),
        },
    }
}

pub(crate) async fn schema_command(app: &Capsmith, action: SchemaCommand) -> ExitCode {
    match action {
        SchemaCommand::Add { name, file } => match app.schema_add(&name, &file).await {
            Ok(s) => {
                println!("schema `{}` added from {}", s.name, file.display());
                ExitCode::SUCCESS
            }
            Err(e) => fail(&e, false),
        },
        SchemaCommand::List { json } => match app.schemas().await {
            Ok(all) if json => {
                print_json(&all);
                ExitCode::SUCCESS
            }
            Ok(all) if all.is_empty() => {
                println!("no schemas yet (add one: capsmith schema add NAME FILE)");
                ExitCode::SUCCESS
            }
            Ok(all) => {
                for s in all {
                    println!(
                        "{}  ({}, {})",
                        s.name,
                        s.source.unwrap_or_default(),
                        s.added_at
                    );
                }
                ExitCode::SUCCESS
            }
            Err(e) => fail(&e, json),
        },
        SchemaCommand::Remove { name } => match app.schema_remove(&name).await {
            Ok(true) => {
                println!("schema `{name}` removed");
                ExitCode::SUCCESS
            }
            Ok(false) => fail(&CoreError::NotFound(format!("schema {name}")), false),
            Err(e) => fail(&e, false),
        },
    }
}

/// Prints what a capability may reach on this machine or network, one `HOST:PORT` a line.
fn hosts_of(id: &str, r: capsmith_core::CoreResult<Vec<String>>) -> ExitCode {
    match r {
        Ok(hosts) if hosts.is_empty() => {
            println!("{id} may reach no host on this machine or a private network");
            ExitCode::SUCCESS
        }
        Ok(hosts) => {
            for h in hosts {
                println!("{h}");
            }
            ExitCode::SUCCESS
        }
        Err(e) => fail(&e, false),
    }
}
