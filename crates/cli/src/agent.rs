//! `capsmith agent …`: agents and the capabilities they may use (issue 6, begun).

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use capsmith_core::api::agents::AgentView;
use capsmith_core::api::run::Origin;
use capsmith_core::api::{self};
use capsmith_core::secrets::Sensitive;
use capsmith_core::CoreError;
use clap::Subcommand;

use super::{fail, open, parse_input, print_json, print_list, render_run, report_run, Style};

#[derive(Subcommand)]
pub enum AgentCmd {
    /// Create an agent.
    Create {
        name: String,
        #[arg(long)]
        description: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// List agents with their capabilities.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Show one agent: its capabilities and the actions they register.
    Show {
        name: String,
        #[arg(long)]
        json: bool,
    },
    /// Add a capability (`ID[@VERSION]`) and what it depends on; shows the permissions first.
    Add {
        name: String,
        spec: String,
        /// Consent to the permissions shown without asking.
        #[arg(long)]
        yes: bool,
        #[arg(long)]
        json: bool,
    },
    /// Remove a capability from an agent.
    Remove { name: String, capability: String },
    /// Turn a capability on or off for the agent, or change its priority (higher first).
    Set {
        name: String,
        capability: String,
        #[arg(long)]
        enabled: Option<bool>,
        #[arg(long)]
        priority: Option<i64>,
        #[arg(long)]
        json: bool,
    },
    /// The agent's own configuration of one of its capabilities (secrets go to the OS
    /// keyring): list it, set KEY to VALUE (`-` or nothing reads standard input), or --unset.
    Config {
        name: String,
        capability: String,
        key: Option<String>,
        value: Option<String>,
        #[arg(long)]
        unset: bool,
        #[arg(long)]
        json: bool,
    },
    /// Cap what the agent's paid calls may cost per calendar month (`--clear` removes it).
    Budget {
        name: String,
        monthly: Option<f64>,
        #[arg(long)]
        clear: bool,
    },
    /// Run one of the agent's actions (`CAPABILITY.ACTION`).
    Run {
        name: String,
        action: String,
        #[arg(long, default_value = "{}")]
        input: String,
        #[arg(long)]
        json: bool,
    },
}

fn render(a: &AgentView, style: &Style) -> String {
    let mut s = format!("{} ({})\n", style.paint("1", &a.name), a.id);
    if let Some(d) = &a.description {
        s.push_str(&format!("  {d}\n"));
    }
    if a.capabilities.is_empty() {
        s.push_str("  no capabilities yet: `capsmith agent add <agent> <capability>`\n");
    }
    for c in &a.capabilities {
        s.push_str(&format!(
            "  {} {}@{}{}  {}\n",
            if c.enabled { "●" } else { "○" },
            c.capability,
            c.version,
            if c.pinned { " (pinned)" } else { "" },
            c.actions.join(", ")
        ));
    }
    s
}

pub async fn run(cmd: AgentCmd, home: Option<PathBuf>, style: &Style) -> ExitCode {
    let json = matches!(
        &cmd,
        AgentCmd::Create { json: true, .. }
            | AgentCmd::List { json: true }
            | AgentCmd::Show { json: true, .. }
            | AgentCmd::Add { json: true, .. }
            | AgentCmd::Run { json: true, .. }
            | AgentCmd::Set { json: true, .. }
            | AgentCmd::Config { json: true, .. }
    );
    let app = match open(home).await {
        Ok(a) => a,
        Err(e) => return fail(&e, json),
    };
    let shown = |r: Result<AgentView, CoreError>| match r {
        Ok(a) => {
            if json {
                print_json(&a);
            } else {
                print!("{}", render(&a, style));
            }
            ExitCode::SUCCESS
        }
        Err(e) => fail(&e, json),
    };
    match cmd {
        AgentCmd::Create {
            name, description, ..
        } => shown(app.agent_create(&name, description.as_deref()).await),
        AgentCmd::Show { name, .. } => shown(app.agent(&name).await),
        AgentCmd::Set {
            name,
            capability,
            enabled,
            priority,
            ..
        } => shown(
            app.agent_update(&name, &capability, enabled, priority)
                .await,
        ),
        AgentCmd::Config {
            name,
            capability,
            key,
            value,
            unset,
            ..
        } => {
            let result = match (key, unset) {
                (None, _) => app.agent_config(&name, &capability).await,
                (Some(k), true) => app.agent_config_set(&name, &capability, &k, None).await,
                (Some(k), false) => {
                    let v = match crate::settings::read_value(&k, value.as_deref()) {
                        Ok(v) => v,
                        Err(code) => return code,
                    };
                    app.agent_config_set(&name, &capability, &k, Some(Sensitive::new(v)))
                        .await
                }
            };
            match result {
                Ok(entries) if json => {
                    print_json(&entries);
                    ExitCode::SUCCESS
                }
                Ok(entries) => {
                    for e in entries {
                        let shown = match (&e.value, e.ty.as_str(), e.set) {
                            (_, _, false) => "(the capability's)".to_string(),
                            (_, "secret", true) => "[secret, in the OS keyring]".to_string(),
                            (Some(v), _, true) => v.to_string(),
                            (None, _, true) => String::new(),
                        };
                        println!("  {:<24} {shown}", e.key);
                    }
                    ExitCode::SUCCESS
                }
                Err(e) => fail(&e, json),
            }
        }
        AgentCmd::Budget {
            name,
            monthly,
            clear,
        } => {
            if monthly.is_none() && !clear {
                eprintln!("error: give a monthly amount, or --clear");
                return ExitCode::from(2);
            }
            match app
                .set_agent_budget(&name, monthly.filter(|_| !clear))
                .await
            {
                Ok(()) => {
                    match monthly.filter(|_| !clear) {
                        Some(m) => println!("{name}: paid calls stop once this month costs {m}"),
                        None => println!("{name}: no monthly budget"),
                    }
                    ExitCode::SUCCESS
                }
                Err(e) => fail(&e, false),
            }
        }
        AgentCmd::List { .. } => match app.agents().await {
            Ok(list) => print_list(
                &list,
                json,
                "no agents yet: `capsmith agent create <name>`",
                |a| render(a, style),
            ),
            Err(e) => fail(&e, json),
        },
        AgentCmd::Add {
            name, spec, yes, ..
        } => {
            let (id, version) = api::parse_spec(&spec);
            let plan = match app.agent_plan(&name, &id, version.as_deref()).await {
                Ok(p) => p,
                Err(e) => return fail(&e, json),
            };
            if !json {
                println!("Adding {} brings:", plan.capability);
                for (c, v) in &plan.versions {
                    println!("  {c}@{v}");
                }
                println!("and asks for these permissions:");
                for (p, d) in &plan.permissions {
                    println!("  {p:<22} {d}");
                }
            }
            let consent = yes
                || (!json && std::io::stdin().is_terminal() && {
                    eprint!("Allow? [y/N] ");
                    let mut answer = String::new();
                    std::io::stdin().read_line(&mut answer).is_ok()
                        && answer.trim().eq_ignore_ascii_case("y")
                });
            let granted: Vec<String> = if consent {
                plan.permissions.iter().map(|(p, _)| p.clone()).collect()
            } else {
                Vec::new()
            };
            shown(
                app.agent_add(&name, &id, version.as_deref(), &granted)
                    .await,
            )
        }
        AgentCmd::Remove { name, capability } => shown(app.agent_remove(&name, &capability).await),
        AgentCmd::Run {
            name,
            action,
            input,
            json,
        } => {
            let input = match parse_input(&input) {
                Ok(v) => v,
                Err(code) => return code,
            };
            match app.agent_run(&name, &action, &input, Origin::Cli).await {
                Ok(r) => report_run(&r, r.ok, json, || render_run(&r, style)),
                Err(e) => fail(&e, json),
            }
        }
    }
}
