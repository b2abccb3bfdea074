//! The marketplace from the command line: `login`, `logout`, `sync`, `search`, `install`,
//! `update`, `rollback`, `uninstall`, `publish`, `docs`, and `market` (status, show, review,
//! yank). Install and update show the consent screen and ask, unless `--yes`.

use std::io::{IsTerminal, Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use capsmith_core::api::market::{InstallPlan, MarketProgress, MarketQuery};
use capsmith_core::CoreError;
use clap::Subcommand;

use super::{fail, open, print_json, Style};

#[derive(Subcommand)]
pub enum MarketCmd {
    /// Where the cache stands: marketplace, account, last sync, updates.
    Status {
        #[arg(long)]
        json: bool,
    },
    /// A capability's marketplace page (from the cache when offline).
    Show {
        id: String,
        #[arg(long)]
        json: bool,
    },
    /// Write or edit your review.
    Review {
        id: String,
        /// 1 to 5.
        #[arg(long)]
        stars: i64,
        #[arg(long, default_value = "")]
        text: String,
    },
    /// Yank a version you published: refused on fresh installs, kept where installed.
    Yank {
        /// `ID@VERSION`.
        spec: String,
        #[arg(long, default_value = "")]
        reason: String,
    },
}

fn no_progress(_: MarketProgress) {}

/// A progress line on stderr when it is a terminal.
fn stderr_progress(p: MarketProgress) {
    if std::io::stderr().is_terminal() {
        let of = if p.total > 0 {
            format!("{}/{}", p.done, p.total)
        } else {
            p.done.to_string()
        };
        eprint!("\r\x1b[2K{}: {} ({of})", p.task, p.stage);
        if p.stage == "done" || p.stage == "published" {
            eprintln!();
        }
    }
}

pub async fn login(home: Option<PathBuf>, url: &str, token: &str) -> ExitCode {
    let app = match open(home).await {
        Ok(a) => a,
        Err(e) => return fail(&e, false),
    };
    let token = if token == "-" {
        let mut s = String::new();
        if std::io::stdin().read_to_string(&mut s).is_err() {
            eprintln!("error: cannot read the token from standard input");
            return ExitCode::from(2);
        }
        s
    } else {
        token.to_string()
    };
    match app.market_login(url, &token).await {
        Ok(a) => {
            println!(
                "signed in to {url} as {}{}",
                a.name,
                if a.admin { " (administrator)" } else { "" }
            );
            ExitCode::SUCCESS
        }
        Err(e) => fail(&e, false),
    }
}

pub async fn logout(home: Option<PathBuf>) -> ExitCode {
    let app = match open(home).await {
        Ok(a) => a,
        Err(e) => return fail(&e, false),
    };
    match app.market_logout().await {
        Ok(()) => {
            println!("signed out; the cache stays for offline browsing");
            ExitCode::SUCCESS
        }
        Err(e) => fail(&e, false),
    }
}

pub async fn sync(home: Option<PathBuf>, full: bool, json: bool) -> ExitCode {
    let app = match open(home).await {
        Ok(a) => a,
        Err(e) => return fail(&e, json),
    };
    match app.market_sync(full, &stderr_progress).await {
        Ok(r) => {
            if json {
                print_json(&r);
            } else if r.unchanged {
                println!("up to date ({} cached, {:.1} ms)", r.cached, r.duration_ms);
            } else {
                println!(
                    "synced {} listing(s), removed {}, in {} page(s), {:.1} ms; {} cached",
                    r.fetched, r.removed, r.pages, r.duration_ms, r.cached
                );
            }
            ExitCode::SUCCESS
        }
        Err(e) => fail(&e, json),
    }
}

fn price(cents: i64) -> String {
    if cents == 0 {
        "Free".into()
    } else {
        format!("${}.{:02}", cents / 100, cents % 100)
    }
}

pub async fn search(home: Option<PathBuf>, q: MarketQuery, json: bool, style: &Style) -> ExitCode {
    let app = match open(home).await {
        Ok(a) => a,
        Err(e) => return fail(&e, json),
    };
    match app.market_search(&q).await {
        Ok(page) => {
            if json {
                print_json(&page);
            } else if page.items.is_empty() {
                println!("no capability in the marketplace cache matches (run `capsmith sync` to refresh it)");
            } else {
                for c in &page.items {
                    let stars = c.card.rating.map_or_else(
                        || "no ratings".into(),
                        |r| format!("★ {r:.1} ({})", c.card.rating_count),
                    );
                    let mark = match (&c.installed, &c.update) {
                        (Some(_), Some(u)) => format!("  update → {u}"),
                        (Some(i), None) => format!("  installed {i}"),
                        _ => String::new(),
                    };
                    println!(
                        "{} {}  {}  by {}{}  {}  {} installs  {}{mark}",
                        c.card.icon.clone().unwrap_or_else(|| "🧩".into()),
                        style.paint("1", &c.card.id),
                        c.card.latest_version.clone().unwrap_or_default(),
                        c.card.publisher,
                        if c.card.publisher_verified {
                            " ✓"
                        } else {
                            ""
                        },
                        stars,
                        c.card.installs,
                        price(c.card.price_cents),
                    );
                    if let Some(d) = &c.card.description {
                        println!("    {d}");
                    }
                }
                println!("{} of {} shown", page.items.len(), page.total);
            }
            ExitCode::SUCCESS
        }
        Err(e) => fail(&e, json),
    }
}

fn render_plan(p: &InstallPlan) -> String {
    let mut s = String::new();
    let what = match &p.current {
        Some(c) => format!("Update {} from {c} to {}", p.id, p.version),
        None => format!("Install {}@{}", p.id, p.version),
    };
    s.push_str(&format!("{what} — {}\n", p.name));
    s.push_str(&format!(
        "  publisher: {}{}  key {} ({})\n",
        p.publisher,
        if p.publisher_verified {
            " ✓ verified"
        } else {
            ""
        },
        p.key_fingerprint,
        p.key_state
    ));
    if let Some(t) = &p.id_taken {
        s.push_str(&format!(
            "  ! the id is taken: {t}\n    (--replace removes that one, its secrets and agent links, first)\n"
        ));
    }
    for c in &p.capabilities {
        s.push_str(&format!("  • may call the capability `{c}`\n"));
    }
    if p.tests_total > 0 {
        s.push_str(&format!(
            "  tests passed at publish: {}/{}\n",
            p.tests_passed, p.tests_total
        ));
    }
    if p.current.is_some() {
        for a in &p.added_permissions {
            s.push_str(&format!(
                "  + NEW permission: {} ({})\n",
                a.description, a.name
            ));
        }
        for a in &p.added_domains {
            s.push_str(&format!("  + NEW domain: {a}\n"));
        }
        for r in &p.removed_permissions {
            s.push_str(&format!("  - no longer: {} ({})\n", r.description, r.name));
        }
        for r in &p.removed_domains {
            s.push_str(&format!("  - no longer connects to: {r}\n"));
        }
        if !p.needs_consent {
            s.push_str("  asks for nothing new\n");
        }
    } else {
        if p.permissions.is_empty() {
            s.push_str("  asks for no permissions\n");
        }
        for a in &p.permissions {
            s.push_str(&format!("  • {} ({})\n", a.description, a.name));
        }
        if !p.domains.is_empty() {
            s.push_str(&format!("  may connect to: {}\n", p.domains.join(", ")));
        }
    }
    for c in &p.configuration {
        s.push_str(&format!(
            "  needs {}{}: {}\n",
            if c.secret { "the secret " } else { "" },
            c.key,
            c.label.clone().unwrap_or_default()
        ));
    }
    if !p.dependencies.is_empty() {
        s.push_str(&format!(
            "  installs along: {}\n",
            p.dependencies.join(", ")
        ));
    }
    s
}

/// What to consent to: the whole plan (`--yes` or a "y" at the prompt), else nothing.
fn ask(p: &InstallPlan, yes: bool) -> Result<Vec<String>, ExitCode> {
    let everything: Vec<String> = p
        .permissions
        .iter()
        .map(|x| x.name.clone())
        .chain(p.domains.iter().cloned())
        .collect();
    if yes || !p.needs_consent {
        return Ok(everything);
    }
    if !std::io::stdin().is_terminal() {
        return Ok(Vec::new());
    }
    eprint!("Allow this? [y/N] ");
    let _ = std::io::stderr().flush();
    let mut line = String::new();
    let _ = std::io::stdin().read_line(&mut line);
    if line.trim().eq_ignore_ascii_case("y") || line.trim().eq_ignore_ascii_case("yes") {
        Ok(everything)
    } else {
        eprintln!("nothing installed");
        Err(ExitCode::from(1))
    }
}

pub async fn install(
    home: Option<PathBuf>,
    spec: &str,
    agent: Option<&str>,
    yes: bool,
    replace: bool,
    json: bool,
) -> ExitCode {
    let app = match open(home).await {
        Ok(a) => a,
        Err(e) => return fail(&e, json),
    };
    let plan = match app.market_install_plan(spec).await {
        Ok(p) => p,
        Err(e) => return fail(&e, json),
    };
    if !json {
        print!("{}", render_plan(&plan));
    }
    let consent = match ask(&plan, yes) {
        Ok(c) => c,
        Err(code) => return code,
    };
    match app
        .market_install(spec, &consent, agent, replace, &stderr_progress)
        .await
    {
        Ok(o) => {
            if json {
                print_json(&o);
            } else {
                println!(
                    "✔ installed {}{}{}",
                    o.installed.join(", "),
                    if o.from_cache {
                        " (nothing downloaded)"
                    } else {
                        ""
                    },
                    o.agent
                        .as_ref()
                        .map(|a| format!("; attached to {a}"))
                        .unwrap_or_default()
                );
            }
            ExitCode::SUCCESS
        }
        Err(e) => fail(&e, json),
    }
}

pub async fn update(home: Option<PathBuf>, id: Option<&str>, yes: bool, json: bool) -> ExitCode {
    let app = match open(home).await {
        Ok(a) => a,
        Err(e) => return fail(&e, json),
    };
    let ids: Vec<String> = match id {
        Some(i) => vec![i.to_string()],
        None => match app.market_updates().await {
            Ok(u) => u.into_iter().map(|u| u.id).collect(),
            Err(e) => return fail(&e, json),
        },
    };
    if ids.is_empty() {
        println!("everything is up to date");
        return ExitCode::SUCCESS;
    }
    let mut outcomes = Vec::new();
    let mut code = ExitCode::SUCCESS;
    for id in ids {
        let plan = match app.market_install_plan(&id).await {
            Ok(p) => p,
            Err(e) => {
                code = fail(&e, json);
                continue;
            }
        };
        if !json {
            print!("{}", render_plan(&plan));
        }
        let consent = match ask(&plan, yes) {
            Ok(c) => c,
            Err(c) => return c,
        };
        match app.market_update(&id, &consent, &no_progress).await {
            Ok(o) => {
                if !json {
                    println!("✔ {} is at {}", o.id, o.version);
                }
                outcomes.push(o);
            }
            Err(e) => {
                code = fail(&e, json);
                if matches!(e, CoreError::ConsentRequired { .. }) && !json {
                    eprintln!(
                        "  {id} stays at {}; run `capsmith update {id} --yes` to allow it",
                        plan.current.clone().unwrap_or_default()
                    );
                }
            }
        }
    }
    if json {
        print_json(&outcomes);
    }
    code
}

pub async fn rollback(home: Option<PathBuf>, id: &str) -> ExitCode {
    let app = match open(home).await {
        Ok(a) => a,
        Err(e) => return fail(&e, false),
    };
    match app.market_rollback(id).await {
        Ok(o) => {
            println!("✔ {} is back at {}", o.id, o.version);
            ExitCode::SUCCESS
        }
        Err(e) => fail(&e, false),
    }
}

pub async fn consent(home: Option<PathBuf>, spec: &str, yes: bool) -> ExitCode {
    let app = match open(home).await {
        Ok(a) => a,
        Err(e) => return fail(&e, false),
    };
    let (id, version) = capsmith_core::api::parse_spec(spec);
    let c = match app.market_run_consent(&id, version.as_deref()).await {
        Ok(c) => c,
        Err(e) => return fail(&e, false),
    };
    if let Some(reason) = &c.revoked {
        eprintln!(
            "✘ {}@{} was revoked by the marketplace: {reason}{}",
            c.id,
            c.version,
            c.newest_good
                .as_ref()
                .map(|v| format!(
                    "\n  {v} is the newest good version: capsmith update {}",
                    c.id
                ))
                .unwrap_or_default()
        );
        return ExitCode::from(1);
    }
    let wanted = c.missing();
    if wanted.is_empty() {
        println!("{}@{} runs within what you consented to", c.id, c.version);
        return ExitCode::SUCCESS;
    }
    println!(
        "{}@{} asks for more than you consented to when you installed it:",
        c.id, c.version
    );
    for p in &c.missing_permissions {
        println!("  + {} ({})", p.description, p.name);
    }
    for d in &c.missing_domains {
        println!("  + connects to {d}");
    }
    for k in &c.missing_capabilities {
        println!("  + calls the capability `{k}`");
    }
    if !yes {
        if !std::io::stdin().is_terminal() {
            eprintln!("nothing allowed (pass --yes to allow it)");
            return ExitCode::from(1);
        }
        eprint!("Allow this? [y/N] ");
        let _ = std::io::stderr().flush();
        let mut line = String::new();
        let _ = std::io::stdin().read_line(&mut line);
        if !matches!(line.trim().to_lowercase().as_str(), "y" | "yes") {
            eprintln!("nothing allowed");
            return ExitCode::from(1);
        }
    }
    match app
        .market_grant_consent(&id, version.as_deref(), &wanted)
        .await
    {
        Ok(c) => {
            println!("✔ allowed; {}@{} runs again", c.id, c.version);
            ExitCode::SUCCESS
        }
        Err(e) => fail(&e, false),
    }
}

pub async fn rotate_key(home: Option<PathBuf>) -> ExitCode {
    let app = match open(home).await {
        Ok(a) => a,
        Err(e) => return fail(&e, false),
    };
    match app.market_rotate_key().await {
        Ok(a) => {
            println!(
                "✔ {} now signs with {}; the old key signed the hand-over",
                a.name,
                a.public_key
                    .as_deref()
                    .map(capsmith_core::package::fingerprint)
                    .unwrap_or_default()
            );
            ExitCode::SUCCESS
        }
        Err(e) => fail(&e, false),
    }
}

pub async fn uninstall(home: Option<PathBuf>, id: &str) -> ExitCode {
    let app = match open(home).await {
        Ok(a) => a,
        Err(e) => return fail(&e, false),
    };
    match app.market_uninstall(id).await {
        Ok(()) => {
            println!("✔ uninstalled {id}: its versions, secrets and agent links are gone");
            ExitCode::SUCCESS
        }
        Err(e) => fail(&e, false),
    }
}

pub async fn publish(
    home: Option<PathBuf>,
    spec: &str,
    visibility: Option<&str>,
    org: Option<&str>,
    price_cents: Option<i64>,
    readme: Option<&std::path::Path>,
    json: bool,
) -> ExitCode {
    let app = match open(home).await {
        Ok(a) => a,
        Err(e) => return fail(&e, json),
    };
    let readme = match readme.map(std::fs::read_to_string).transpose() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot read the README: {e}");
            return ExitCode::from(2);
        }
    };
    match app
        .market_publish_with_readme(spec, visibility, org, price_cents, readme, &stderr_progress)
        .await
    {
        Ok(p) => {
            if json {
                print_json(&p);
            } else {
                println!(
                    "✔ published {}@{} to {} (tests passed {}/{}, key {}){}",
                    p.id,
                    p.version,
                    p.url,
                    p.tests_passed,
                    p.tests_total,
                    p.key_fingerprint,
                    if p.approved {
                        ""
                    } else {
                        "; waiting for an organization admin's approval"
                    }
                );
            }
            ExitCode::SUCCESS
        }
        Err(e) => fail(&e, json),
    }
}

pub async fn docs(home: Option<PathBuf>, spec: &str, format: &str) -> ExitCode {
    let app = match open(home).await {
        Ok(a) => a,
        Err(e) => return fail(&e, false),
    };
    let (id, version) = capsmith_core::api::parse_spec(spec);
    match app.docs(&id, version.as_deref(), format).await {
        Ok(text) => {
            print!("{text}");
            ExitCode::SUCCESS
        }
        Err(e) => fail(&e, false),
    }
}

pub async fn run(cmd: MarketCmd, home: Option<PathBuf>) -> ExitCode {
    let app = match open(home).await {
        Ok(a) => a,
        Err(e) => return fail(&e, false),
    };
    match cmd {
        MarketCmd::Status { json } => match app.market_status().await {
            Ok(s) => {
                if json {
                    print_json(&s);
                } else {
                    println!(
                        "marketplace: {}",
                        s.url
                            .clone()
                            .unwrap_or_else(|| "none (built-in catalog)".into())
                    );
                    println!(
                        "account:     {}",
                        s.account.clone().unwrap_or_else(|| "not signed in".into())
                    );
                    println!(
                        "cache:       {} listing(s) from {}, last synced {}",
                        s.cached,
                        s.source,
                        s.last_synced_at.clone().unwrap_or_else(|| "never".into())
                    );
                    for u in &s.updates {
                        println!("update:      {} {} → {}", u.id, u.installed, u.latest);
                    }
                }
                ExitCode::SUCCESS
            }
            Err(e) => fail(&e, json),
        },
        MarketCmd::Show { id, json } => match app.market_detail(&id).await {
            Ok(d) => {
                if json {
                    print_json(&d);
                } else {
                    if d.offline {
                        println!("(offline: from the cache)");
                    }
                    print!("{}", d.listing.readme);
                    println!("versions:");
                    for v in &d.listing.versions {
                        println!(
                            "  {}  {}  tests {}/{}{}{}",
                            v.version,
                            v.published_at,
                            v.tests_passed,
                            v.tests_total,
                            v.yanked
                                .as_ref()
                                .map(|r| format!("  YANKED: {r}"))
                                .unwrap_or_default(),
                            if v.approved {
                                ""
                            } else {
                                "  awaiting approval"
                            }
                        );
                    }
                    for r in &d.reviews {
                        println!(
                            "review by {}: {} {}",
                            r.user,
                            "★".repeat(r.stars.clamp(0, 5) as usize),
                            r.text
                        );
                    }
                }
                ExitCode::SUCCESS
            }
            Err(e) => fail(&e, json),
        },
        MarketCmd::Review { id, stars, text } => match app.market_review(&id, stars, &text).await {
            Ok(r) => {
                println!("✔ reviewed {id}: {} stars", r.stars);
                ExitCode::SUCCESS
            }
            Err(e) => fail(&e, false),
        },
        MarketCmd::Yank { spec, reason } => {
            let (id, version) = capsmith_core::api::parse_spec(&spec);
            let Some(version) = version else {
                eprintln!("error: yank needs ID@VERSION");
                return ExitCode::from(2);
            };
            match app.market_yank(&id, &version, &reason).await {
                Ok(()) => {
                    println!("✔ yanked {id}@{version}");
                    ExitCode::SUCCESS
                }
                Err(e) => fail(&e, false),
            }
        }
    }
}
