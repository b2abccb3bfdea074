//! Workflows: triggers (cron, webhook, file), named schemas, steps and their `${}` references
//! to earlier outputs, filters and `when` expressions, retries and the error handler.

use super::*;

/// A 5- or 6-field cron expression that the scheduler can run.
pub(super) fn valid_cron(c: &str) -> bool {
    let n = c.split_whitespace().count();
    (n == 5 || n == 6)
        && croner::parser::CronParser::builder()
            .seconds(croner::parser::Seconds::Optional)
            .build()
            .parse(c)
            .is_ok()
}

/// Fields of the trigger payload, visible in workflow expressions as bare names.
pub(super) fn payload_fields(trigger: &str, cap: &Capability) -> Vec<String> {
    match trigger {
        "manual" => cap.actions.iter().flat_map(|a| a.inputs.names()).collect(),
        other => crate::flow::trigger_payload(other)
            .iter()
            .map(|s| s.to_string())
            .collect(),
    }
}

/// Every named schema compiles as a JSON Schema (no remote `$ref` is ever fetched).
pub(super) fn schemas(cx: &mut Ctx) {
    let cap = cx.cap;
    for (name, schema) in &cap.schemas {
        let path = cx.base.key("schemas").key(name);
        if !schema.is_object() && !schema.is_boolean() {
            cx.err(
                "bad-schema",
                path,
                format!("schema `{name}` must be a JSON Schema object"),
            );
        } else if let Err(e) = jsonschema::validator_for(schema) {
            cx.err(
                "bad-schema",
                path,
                format!("schema `{name}` is not a valid JSON Schema: {e}"),
            );
        }
    }
}

pub(super) fn workflow(cx: &mut Ctx) {
    let cap = cx.cap;
    let Some(wf) = &cap.workflow else { return };
    let p = cx.base.key("workflow");
    let known_triggers = ["manual", "file_upload", "webhook", "schedule"];
    let trig = wf.trigger.as_str();
    if !known_triggers.contains(&trig) {
        let connector_trigger = trig
            .split_once('.')
            .is_some_and(|(c, t)| is_slug(c) && is_ident(t));
        if !connector_trigger {
            cx.err(
                "unknown-trigger",
                p.key("trigger"),
                format!(
                    "trigger `{trig}` is not one of {} nor `<capability>.<trigger>`",
                    known_triggers.join(", ")
                ),
            );
        }
    }
    if trig == "schedule" && wf.schedule.as_deref().is_none_or(|c| !valid_cron(c)) {
        cx.err(
            "bad-cron",
            p.key("schedule"),
            "a scheduled workflow needs `schedule` with a 5- or 6-field cron expression",
        );
    }
    if trig == "file_upload" {
        cx.need("file.read", "the file_upload trigger".into());
    }
    if let Some(filter) = &wf.filter {
        if let Err(mut f) = crate::manifest::js::check_expression(filter) {
            f.path = Some(p.key("filter"));
            f.pos = None;
            cx.out.push(f);
        }
    }
    if wf.steps.is_empty() {
        cx.err(
            "no-steps",
            p.key("steps"),
            "a workflow needs at least one step",
        );
    }
    let payload = payload_fields(trig, cap);
    let mut scope: Vec<String> = vec!["trigger".into(), "input".into(), "config".into()];
    scope.extend(payload);
    scope.extend(cx.config_keys.iter().map(|k| k.to_string()));
    let later: HashMap<String, (usize, String)> = wf
        .steps
        .iter()
        .enumerate()
        .flat_map(|(i, s)| {
            let mut v = vec![(s.id.clone(), (i, s.id.clone()))];
            if let Some(o) = &s.output {
                v.push((o.clone(), (i, s.id.clone())));
            }
            v
        })
        .collect();
    let mut ids: HashMap<&str, usize> = HashMap::new();
    let deps: HashSet<&str> = cap.dependencies.iter().map(|d| d.id.as_str()).collect();
    for (i, s) in wf.steps.iter().enumerate() {
        let sp = p.key("steps").index(i);
        if !is_ident(&s.id) {
            cx.err(
                "bad-step-id",
                sp.key("id"),
                format!("step id `{}` must be letters, digits, `-` or `_`", s.id),
            );
        }
        if let Some(first) = ids.insert(s.id.as_str(), i) {
            cx.err(
                "duplicate-step-id",
                sp.key("id"),
                format!("step id `{}` is already used by steps[{first}]", s.id),
            );
        }
        match s.action.split_once('.') {
            Some((c, a)) if !c.is_empty() && !a.is_empty() => {
                let perm = if s.action == "http.request" {
                    // The method decides: reading or changing something.
                    let read = matches!(
                        s.params.get("method").and_then(Value::as_str),
                        None | Some("GET" | "HEAD")
                    );
                    Some(if read {
                        "network.http.get"
                    } else {
                        "network.http.post"
                    })
                } else {
                    permissions::for_standard_action(&s.action)
                };
                if let Some(perm) = perm {
                    cx.need(perm, format!("step `{}` ({})", s.id, s.action));
                }
                if !permissions::STANDARD_ACTIONS.contains(&s.action.as_str()) && !deps.contains(c)
                {
                    cx.warn(
                        "unknown-step-action",
                        sp.key("action"),
                        format!("`{}` is not a standard action and `{c}` is not listed in `dependencies`", s.action),
                    )
                    .hint = Some(format!("add `- id: {c}` to `dependencies` so it is installed with this workflow"));
                }
            }
            _ => {
                cx.err(
                    "bad-step-action",
                    sp.key("action"),
                    format!(
                        "step action `{}` must be `<capability>.<action>` (e.g. `ai.analyze`)",
                        s.action
                    ),
                );
            }
        }
        // The error handler also sees `error`, the message of the failure it handles.
        let handler = wf
            .error_handling
            .as_ref()
            .and_then(|h| h.on_error.as_deref())
            == Some(s.id.as_str());
        if handler {
            scope.push("error".into());
        }
        let check_value = |cx: &mut Ctx, path: DocPath, v: &Value| {
            workflow_refs(cx, path, v, &scope, &later, i);
        };
        if let Some(input) = &s.input {
            check_value(cx, sp.key("input"), input);
        }
        for (k, v) in &s.params {
            // JavaScript is not a template: its `${…}` belong to template literals.
            if permissions::is_javascript_param(&s.action, k) {
                continue;
            }
            check_value(cx, sp.key(k), v);
        }
        if handler {
            scope.pop();
        }
        if let Some(w) = &s.when {
            if let Err(mut f) = crate::manifest::js::check_expression(w) {
                f.path = Some(sp.key("when"));
                f.pos = None;
                cx.out.push(f);
            }
        }
        for (ai, a) in s.after.iter().enumerate() {
            if !wf.steps[..i].iter().any(|x| &x.id == a) {
                cx.err(
                    "unknown-after",
                    sp.key("after").index(ai),
                    format!("`after` names `{a}`, which is not an earlier step of this workflow"),
                );
            }
        }
        if let Some(o) = &s.output {
            scope.push(o.clone());
        }
        scope.push(s.id.clone());
    }
    for (i, s) in wf.steps.iter().enumerate() {
        if s.action != "validate.schema" {
            continue;
        }
        let sp = p.key("steps").index(i).key("schema");
        match s.params.get("schema") {
            Some(Value::String(name)) if !name.contains("${") => {
                // Like an `on_error` handler, a schema may come from outside the manifest (the
                // user's schema library): a warning now, resolved when the workflow runs.
                if !cap.schemas.contains_key(name) {
                    let known: Vec<&str> = cap.schemas.keys().map(String::as_str).collect();
                    cx.warn(
                        "unknown-schema",
                        sp,
                        format!(
                            "no schema `{name}` in `schemas` (it has: {}); it must be in your schema library when the workflow runs",
                            if known.is_empty() {
                                "none".to_string()
                            } else {
                                known.join(", ")
                            }
                        ),
                    )
                    .hint = Some(format!(
                        "define it under `schemas:`, or add it to the library: capsmith schema add {name} FILE"
                    ));
                }
            }
            Some(v @ Value::Object(_)) => {
                if let Err(e) = jsonschema::validator_for(v) {
                    cx.err("bad-schema", sp, format!("not a valid JSON Schema: {e}"));
                }
            }
            Some(Value::String(_)) => {}
            _ => {
                cx.err(
                    "missing-schema",
                    sp,
                    "validate.schema needs `schema`: a name from `schemas` or a JSON Schema object",
                );
            }
        }
    }
    if let Some(eh) = &wf.error_handling {
        if let Some(target) = &eh.on_error {
            let is_step = wf.steps.iter().any(|s| &s.id == target);
            let is_action = target
                .split_once('.')
                .is_some_and(|(c, a)| !c.is_empty() && !a.is_empty());
            if !is_step && !is_action {
                cx.warn(
                    "unknown-error-handler",
                    p.key("error_handling").key("on_error"),
                    format!("on_error `{target}` names no step of this workflow and no `<capability>.<action>`; it must be an installed capability when the workflow runs"),
                );
            }
        }
        if eh.retry.is_some_and(|r| r > 10) {
            cx.warn(
                "many-retries",
                p.key("error_handling").key("retry"),
                "more than 10 retries; a failing step will take a long time to give up",
            );
        }
    }
}

pub(super) fn workflow_refs(
    cx: &mut Ctx,
    path: DocPath,
    v: &Value,
    scope: &[String],
    later: &HashMap<String, (usize, String)>,
    step: usize,
) {
    match v {
        Value::String(s) => match template::refs(s) {
            Err(at) => {
                cx.err(
                    "unterminated-template",
                    path,
                    format!("template at character {at} is never closed"),
                );
            }
            Ok(refs) => {
                for r in refs.iter().filter(|r| r.style == Style::Dollar) {
                    let root = r.root();
                    if scope.iter().any(|s| s == root) {
                        continue;
                    }
                    match later.get(root) {
                        Some((j, id)) if *j >= step => {
                            let when = if *j == step {
                                "this step".to_string()
                            } else {
                                format!("a later step (`{id}`)")
                            };
                            cx.err(
                                "unknown-reference",
                                path.clone(),
                                format!("`${{{}}}` is produced by {when}; a step can only use outputs of earlier steps", r.expr),
                            );
                        }
                        _ => {
                            let f = cx.err(
                                "unknown-reference",
                                path.clone(),
                                format!("`${{{}}}`: no earlier step outputs `{root}`, and it is not the trigger, an input or a configuration key", r.expr),
                            );
                            if let Some(c) = closest(root, scope.iter().map(String::as_str)) {
                                f.hint = Some(format!("did you mean `{c}`?"));
                            }
                        }
                    }
                }
            }
        },
        Value::Array(items) => {
            for (i, x) in items.iter().enumerate() {
                workflow_refs(cx, path.index(i), x, scope, later, step);
            }
        }
        Value::Object(m) => {
            for (k, x) in m {
                workflow_refs(cx, path.key(k), x, scope, later, step);
            }
        }
        _ => {}
    }
}
