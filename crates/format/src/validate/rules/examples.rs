//! Examples and test cases: their action, inputs against the declared ones, expected output
//! and `assert` expressions.

use super::*;

pub(super) fn examples(cx: &mut Ctx, kind: Option<Kind>) {
    let cap = cx.cap;
    let actions: Vec<(String, Fields, Fields)> = if kind == Some(Kind::ApiConnector) {
        cap.endpoints
            .iter()
            .map(|e| (e.id.clone(), e.inputs.clone(), e.outputs.clone()))
            .collect()
    } else {
        cap.actions
            .iter()
            .map(|a| (a.id.clone(), a.inputs.clone(), a.outputs.clone()))
            .collect()
    };
    let cases = cap
        .examples
        .iter()
        .enumerate()
        .map(|(i, e)| ("examples", i, e));
    let cases = cases.chain(cap.tests.iter().enumerate().map(|(i, e)| ("tests", i, e)));
    for (list, i, ex) in cases {
        let p = cx.base.key(list).index(i);
        if let Some(a) = &ex.assert {
            if let Err(mut f) = crate::manifest::js::check_expression(a) {
                f.path = Some(p.key("assert"));
                f.pos = None;
                cx.out.push(f);
            }
        }
        let target = match &ex.action {
            Some(a) => match actions.iter().find(|(id, _, _)| id == a) {
                Some(t) => t,
                None => {
                    cx.err(
                        "unknown-action",
                        p.key("action"),
                        format!("example names action `{a}`, which is not declared"),
                    );
                    continue;
                }
            },
            None => match actions.first() {
                Some(t) => {
                    if actions.len() > 1 {
                        cx.warn(
                            "example-without-action",
                            p.clone(),
                            format!(
                                "example has no `action`; it applies to the first one, `{}`",
                                t.0
                            ),
                        );
                    }
                    t
                }
                None => continue,
            },
        };
        let inputs = target.1.to_list();
        match &ex.input {
            Value::Object(m) => {
                if !inputs.is_empty() {
                    for k in m.keys() {
                        if !inputs.iter().any(|f| &f.name == k) {
                            cx.err(
                                "unknown-example-input",
                                p.key("input").key(k),
                                format!("example input `{k}` is not an input of `{}`", target.0),
                            );
                        }
                    }
                }
                for f in inputs.iter().filter(|f| f.required) {
                    if !m.contains_key(&f.name) {
                        cx.err(
                            "missing-example-input",
                            p.key("input"),
                            format!("example lacks the required input `{}`", f.name),
                        );
                    }
                }
            }
            _ => {
                cx.err(
                    "bad-example-input",
                    p.key("input"),
                    "example `input` must be an object of input values",
                );
            }
        }
        if let Some(Value::Object(m)) = &ex.expected_output {
            let outs = target.2.names();
            if !outs.is_empty() {
                for k in m.keys() {
                    if !outs.contains(k) {
                        cx.err(
                            "unknown-example-output",
                            p.key("expected_output").key(k),
                            format!("expected output `{k}` is not an output of `{}`", target.0),
                        );
                    }
                }
            }
        }
    }
}
