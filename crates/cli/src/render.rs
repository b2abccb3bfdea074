//! How the library's results read on a terminal: reports, runs, tests, lists, details.

use super::*;

pub(crate) fn render_run(r: &RunReport, style: &Style) -> String {
    let mut out = String::new();
    if r.ok {
        out.push_str(&format!(
            "{} {}@{} {} ({:.0} ms)\n",
            style.paint("32", "✔"),
            r.capability,
            r.version,
            r.action,
            r.duration_ms
        ));
        let pretty =
            serde_json::to_string_pretty(r.output.as_ref().unwrap_or(&serde_json::Value::Null))
                .unwrap_or_default();
        out.push_str(&pretty);
        out.push('\n');
    } else if let Some(e) = &r.error {
        let shield = if r.security_violation {
            " (blocked by the network guard)"
        } else {
            ""
        };
        out.push_str(&format!(
            "{} error[{}]{shield}: {}\n",
            style.paint("31", "✘"),
            e.kind,
            e.message
        ));
    }
    if r.sandbox_unconfined {
        out.push_str(&format!(
            "{} the sandbox's confinement check is off (sandbox.allow_unconfined): code may run without Landlock or seccomp\n",
            style.paint("33", "⚠"),
        ));
    }
    for c in &r.calls {
        out.push_str(&format!(
            "  {} {} → {} ({:.0} ms, {} B out, {} B in){}\n",
            c.method,
            c.url,
            c.status
                .map(|s| s.to_string())
                .unwrap_or_else(|| "-".into()),
            c.duration_ms,
            c.bytes_out,
            c.bytes_in,
            c.error
                .as_ref()
                .map(|e| format!(": {e}"))
                .unwrap_or_default()
        ));
    }
    out
}

pub(crate) fn render_tests(r: &TestReport, style: &Style) -> String {
    let mut out = String::new();
    if r.cases.is_empty() {
        out.push_str(&format!(
            "{}@{} has no examples or test cases\n",
            r.capability, r.version
        ));
    }
    for c in &r.cases {
        let mark = if c.passed {
            style.paint("32", "✔ pass")
        } else {
            style.paint("31", "✘ FAIL")
        };
        out.push_str(&format!("{mark} {} ({})\n", c.name, c.action));
        if let Some(e) = &c.run.error {
            out.push_str(&format!("    error[{}]: {}\n", e.kind, e.message));
        }
        for m in &c.mismatches {
            let actual = m
                .actual
                .as_ref()
                .map(|a| a.to_string())
                .unwrap_or_else(|| "(missing)".into());
            out.push_str(&format!(
                "    {}: expected {}, got {}\n",
                m.path, m.expected, actual
            ));
        }
        if let Some(a) = &c.assertion {
            out.push_str(&format!("    {a}\n"));
        }
    }
    out.push_str(&format!("{} passed, {} failed\n", r.passed, r.failed));
    out
}

pub(crate) fn render_runs(rows: &[ExecutionView]) -> String {
    if rows.is_empty() {
        return "no runs yet\n".into();
    }
    let mut out = format!(
        "{:<6} {:<24} {:<20} {:<18} {:<6} {:<7} {:>8}  {}\n",
        "ID", "WHEN", "CAPABILITY", "ACTION", "FROM", "STATUS", "MS", "ERROR"
    );
    for r in rows {
        out.push_str(&format!(
            "{:<6} {:<24} {:<20} {:<18} {:<6} {:<7} {:>8.0}  {}{}\n",
            r.id,
            r.started_at,
            r.capability,
            r.action.clone().unwrap_or_default(),
            r.origin,
            r.status,
            r.duration_ms.unwrap_or(0.0),
            r.error_kind.clone().unwrap_or_default(),
            if r.security_violation { " 🛡" } else { "" }
        ));
    }
    out
}

pub(crate) fn render_finding(d: &Diagnostic, style: &Style) -> String {
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

pub(crate) fn render_report(r: &ValidationReport, style: &Style) -> String {
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

pub(crate) fn render_list(items: &[CapabilitySummary], query: Option<&str>) -> String {
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

pub(crate) fn render_detail(
    d: &capsmith_core::api::dto::CapabilityDetail,
    style: &Style,
) -> String {
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
