//! `capsmith stats [ID] [--agent NAME] [--days N]` and `capsmith cost ID`: monitoring and cost.

use std::path::PathBuf;
use std::process::ExitCode;

use capsmith_core::api::stats::{StatsTotals, StatsView};

use super::{fail, open, print_json, Style};

fn ms(v: Option<f64>) -> String {
    v.map_or_else(|| "–".into(), |v| format!("{v:.1} ms"))
}

fn line(t: &StatsTotals) -> String {
    format!(
        "{:>6} runs  {:>6}  p50 {:>10}  p95 {:>10}  {:>5} calls  {:>7} tokens  cost {:.4}",
        t.runs,
        t.success_rate
            .map_or_else(|| "–".into(), |r| format!("{:.1}%", r * 100.0)),
        ms(t.p50_ms),
        ms(t.p95_ms),
        t.network_calls,
        t.tokens,
        t.cost
    )
}

fn render(v: &StatsView, style: &Style) -> String {
    let scope = match (&v.capability, &v.agent) {
        (Some(c), _) => format!("capability {c}"),
        (None, Some(a)) => format!("agent {a}"),
        _ => "everything".into(),
    };
    let mut s = format!(
        "{} over the last {} day(s)\n  {}\n",
        style.paint("1", &scope),
        v.days,
        line(&v.totals)
    );
    if let (Some(b), Some(spent)) = (v.budget, v.spent_this_month) {
        s.push_str(&format!("  budget: {spent:.4} of {b:.4} this month\n"));
    }
    if !v.errors_by_kind.is_empty() {
        s.push_str("errors by kind:\n");
        for (k, n) in &v.errors_by_kind {
            s.push_str(&format!("  {n:>6}  {k}\n"));
        }
    }
    if v.by_capability.len() > 1 || v.capability.is_none() {
        s.push_str("by capability:\n");
        for r in &v.by_capability {
            s.push_str(&format!("  {:<24} {}\n", r.capability, line(&r.totals)));
        }
    }
    let peak = v.daily.iter().map(|d| d.runs).max().unwrap_or(0).max(1);
    s.push_str("runs per day:\n");
    for d in v.daily.iter().filter(|d| d.runs > 0) {
        let bar = "█".repeat(((d.runs * 40) / peak).max(1) as usize);
        s.push_str(&format!(
            "  {}  {:>6} {:>4} err  {bar}\n",
            d.day, d.runs, d.errors
        ));
    }
    if v.totals.runs == 0 {
        s.push_str("  no runs in this window\n");
    }
    s
}

pub async fn stats(
    home: Option<PathBuf>,
    id: Option<String>,
    agent: Option<String>,
    days: u32,
    json: bool,
    style: &Style,
) -> ExitCode {
    let app = match open(home).await {
        Ok(a) => a,
        Err(e) => return fail(&e, json),
    };
    match app.stats(id.as_deref(), agent.as_deref(), days).await {
        Ok(v) => {
            if json {
                print_json(&v);
            } else {
                print!("{}", render(&v, style));
            }
            ExitCode::SUCCESS
        }
        Err(e) => fail(&e, json),
    }
}

pub async fn cost(
    home: Option<PathBuf>,
    id: String,
    per_call: f64,
    per_1k_tokens: f64,
) -> ExitCode {
    let app = match open(home).await {
        Ok(a) => a,
        Err(e) => return fail(&e, false),
    };
    match app.set_cost(&id, per_call, per_1k_tokens).await {
        Ok(c) => {
            println!(
                "{}: {} per run, {} per 1000 AI tokens",
                c.capability, c.per_call, c.per_1k_tokens
            );
            ExitCode::SUCCESS
        }
        Err(e) => fail(&e, false),
    }
}
