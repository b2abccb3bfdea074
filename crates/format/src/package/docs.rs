//! The documentation generator: a capability's README made from its manifest (actions with
//! typed inputs and outputs, configuration, permissions in plain words, allowed domains,
//! dependencies, examples). Used when a capability is published without a README, and by
//! `capsmith docs ID --format md|html`.
//!
//! The page is built once as a list of blocks, then written as Markdown or as HTML, so the
//! two formats always say the same thing. Everything taken from the manifest is escaped for
//! the format it is written in.

use crate::manifest::model::{Capability, Document, Example, Fields};
use crate::manifest::permissions;

enum Block {
    Heading(u8, String),
    Para(String),
    List(Vec<String>),
    /// Header row, then rows.
    Table(Vec<String>, Vec<Vec<String>>),
    Code(String, String),
}

/// The output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocFormat {
    Markdown,
    Html,
}

impl DocFormat {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "md" | "markdown" => Some(DocFormat::Markdown),
            "html" => Some(DocFormat::Html),
            _ => None,
        }
    }
}

fn fields_table(f: &Fields) -> Option<Block> {
    let list = f.to_list();
    if list.is_empty() {
        return None;
    }
    Some(Block::Table(
        vec![
            "Name".into(),
            "Type".into(),
            "Required".into(),
            "Description".into(),
        ],
        list.into_iter()
            .map(|f| {
                vec![
                    f.name,
                    f.ty.as_str().to_string(),
                    if f.required { "yes" } else { "no" }.to_string(),
                    f.description.unwrap_or_default(),
                ]
            })
            .collect(),
    ))
}

fn example_block(e: &Example, default_action: &str) -> Vec<Block> {
    let mut out = vec![Block::Para(format!(
        "{} (action `{}`):",
        e.name.clone().unwrap_or_else(|| "Example".into()),
        e.action
            .clone()
            .unwrap_or_else(|| default_action.to_string())
    ))];
    let pretty = |v: &serde_json::Value| serde_json::to_string_pretty(v).unwrap_or_default();
    out.push(Block::Code("json".into(), pretty(&e.input)));
    if let Some(o) = &e.expected_output {
        out.push(Block::Para("Expected output (at least):".into()));
        out.push(Block::Code("json".into(), pretty(o)));
    }
    out
}

fn blocks(cap: &Capability, permissions_in_force: &[String], domains: &[String]) -> Vec<Block> {
    let mut b = Vec::new();
    let title = match &cap.icon {
        Some(i) => format!("{i} {}", cap.name),
        None => cap.name.clone(),
    };
    b.push(Block::Heading(1, title));
    if let Some(d) = &cap.description {
        b.push(Block::Para(d.clone()));
    }
    let mut facts = vec![
        format!("Id: `{}`", cap.id),
        format!("Version: {}", cap.version_or_default()),
    ];
    if let Some(k) = cap.inferred_kind() {
        facts.push(format!("Kind: {}", k.as_str()));
    }
    if let Some(a) = &cap.author {
        facts.push(format!("Author: {a}"));
    }
    if let Some(l) = &cap.license {
        facts.push(format!("License: {l}"));
    }
    if let Some(c) = &cap.category {
        facts.push(format!("Category: {c}"));
    }
    if !cap.tags.is_empty() {
        facts.push(format!("Tags: {}", cap.tags.join(", ")));
    }
    b.push(Block::List(facts));

    let actions = cap.offered_actions();
    b.push(Block::Heading(2, "Actions".into()));
    if actions.is_empty() {
        b.push(Block::Para("This capability declares no actions.".into()));
    }
    for a in &actions {
        b.push(Block::Heading(3, format!("{} (`{}`)", a.name, a.id)));
        if let Some(d) = a.description {
            b.push(Block::Para(d.to_string()));
        }
        let (inputs, outputs) = (a.inputs, a.outputs);
        match fields_table(inputs) {
            Some(t) => {
                b.push(Block::Para("Inputs:".into()));
                b.push(t);
            }
            None => b.push(Block::Para("Inputs: none.".into())),
        }
        match fields_table(outputs) {
            Some(t) => {
                b.push(Block::Para("Outputs:".into()));
                b.push(t);
            }
            None => b.push(Block::Para("Outputs: not declared.".into())),
        }
    }

    b.push(Block::Heading(2, "Configuration".into()));
    if cap.configuration.is_empty() {
        b.push(Block::Para("Nothing to configure.".into()));
    } else {
        b.push(Block::Table(
            vec![
                "Key".into(),
                "Type".into(),
                "Required".into(),
                "Description".into(),
            ],
            cap.configuration
                .iter()
                .map(|c| {
                    let what = c
                        .description
                        .clone()
                        .or(c.label.clone())
                        .unwrap_or_default();
                    let what = if c.ty.as_str() == "secret" {
                        format!("{what} (kept in your OS keyring, never in files)")
                            .trim()
                            .to_string()
                    } else {
                        what
                    };
                    vec![
                        c.key.clone(),
                        c.ty.as_str().to_string(),
                        if c.required { "yes" } else { "no" }.to_string(),
                        what,
                    ]
                })
                .collect(),
        ));
    }

    b.push(Block::Heading(2, "Permissions".into()));
    if permissions_in_force.is_empty() {
        b.push(Block::Para("It asks for no permissions.".into()));
    } else {
        b.push(Block::List(
            permissions_in_force
                .iter()
                .map(|p| match permissions::describe(p) {
                    Some(d) => format!("{d} (`{p}`)"),
                    None => format!("`{p}`"),
                })
                .collect(),
        ));
    }
    if !domains.is_empty() {
        b.push(Block::Para("It may connect only to:".into()));
        b.push(Block::List(domains.to_vec()));
    }

    if !cap.dependencies.is_empty() {
        b.push(Block::Heading(2, "Dependencies".into()));
        b.push(Block::List(
            cap.dependencies
                .iter()
                .map(|d| {
                    format!(
                        "`{}` {}{}",
                        d.id,
                        d.version,
                        if d.optional { " (optional)" } else { "" }
                    )
                })
                .collect(),
        ));
    }

    if !cap.examples.is_empty() {
        b.push(Block::Heading(2, "Examples".into()));
        let first = actions.first().map(|a| a.id).unwrap_or("");
        for e in &cap.examples {
            b.extend(example_block(e, first));
        }
    }
    b
}

fn md_escape(s: &str) -> String {
    // Inline code spans (`…`) are ours; table cells must not break the row.
    s.replace('|', "\\|").replace('\n', " ")
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// `code` spans written as <code> in HTML, after escaping.
fn html_inline(s: &str) -> String {
    let escaped = html_escape(s);
    let mut out = String::new();
    for (i, part) in escaped.split('`').enumerate() {
        if i % 2 == 1 {
            out.push_str("<code>");
            out.push_str(part);
            out.push_str("</code>");
        } else {
            out.push_str(part);
        }
    }
    out
}

fn render(blocks: &[Block], format: DocFormat) -> String {
    let mut out = String::new();
    match format {
        DocFormat::Markdown => {
            for b in blocks {
                match b {
                    Block::Heading(n, t) => out.push_str(&format!(
                        "{} {}\n\n",
                        "#".repeat(*n as usize),
                        t.replace('\n', " ")
                    )),
                    Block::Para(t) => out.push_str(&format!("{t}\n\n")),
                    Block::List(items) => {
                        for i in items {
                            out.push_str(&format!("- {}\n", i.replace('\n', " ")));
                        }
                        out.push('\n');
                    }
                    Block::Table(head, rows) => {
                        out.push_str(&format!("| {} |\n", head.join(" | ")));
                        out.push_str(&format!("|{}\n", "---|".repeat(head.len())));
                        for r in rows {
                            let cells: Vec<String> = r.iter().map(|c| md_escape(c)).collect();
                            out.push_str(&format!("| {} |\n", cells.join(" | ")));
                        }
                        out.push('\n');
                    }
                    Block::Code(lang, text) => out.push_str(&format!(
                        "```{lang}\n{}\n```\n\n",
                        text.replace("```", "` ` `")
                    )),
                }
            }
        }
        DocFormat::Html => {
            out.push_str("<!doctype html>\n<html><head><meta charset=\"utf-8\">");
            if let Some(Block::Heading(_, t)) = blocks.first() {
                out.push_str(&format!("<title>{}</title>", html_escape(t)));
            }
            out.push_str("</head><body>\n");
            for b in blocks {
                match b {
                    Block::Heading(n, t) => {
                        out.push_str(&format!("<h{n}>{}</h{n}>\n", html_inline(t)))
                    }
                    Block::Para(t) => out.push_str(&format!("<p>{}</p>\n", html_inline(t))),
                    Block::List(items) => {
                        out.push_str("<ul>\n");
                        for i in items {
                            out.push_str(&format!("<li>{}</li>\n", html_inline(i)));
                        }
                        out.push_str("</ul>\n");
                    }
                    Block::Table(head, rows) => {
                        out.push_str("<table>\n<tr>");
                        for h in head {
                            out.push_str(&format!("<th>{}</th>", html_escape(h)));
                        }
                        out.push_str("</tr>\n");
                        for r in rows {
                            out.push_str("<tr>");
                            for c in r {
                                out.push_str(&format!("<td>{}</td>", html_escape(c)));
                            }
                            out.push_str("</tr>\n");
                        }
                        out.push_str("</table>\n");
                    }
                    Block::Code(lang, text) => out.push_str(&format!(
                        "<pre><code class=\"language-{}\">{}</code></pre>\n",
                        html_escape(lang),
                        html_escape(text)
                    )),
                }
            }
            out.push_str("</body></html>\n");
        }
    }
    out
}

/// The README of a capability. `permissions_in_force` and `domains` are what the registry
/// computed (declared permissions, else the inferred ones).
pub fn generate(
    doc: &Document,
    permissions_in_force: &[String],
    domains: &[String],
    format: DocFormat,
) -> String {
    render(
        &blocks(&doc.capability, permissions_in_force, domains),
        format,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(yaml: &str) -> Document {
        let c =
            crate::validate::check_text("t.yaml", yaml, crate::manifest::SourceFormat::Yaml, None);
        assert!(c.is_valid(), "{:?}", c.diagnostics);
        c.document.unwrap()
    }

    const CAP: &str = r#"
capability:
  id: weather
  name: "Weather <b>now</b>"
  version: 1.2.0
  description: "Current | weather"
  permissions: [network.http.get]
  actions:
    - id: current
      name: Current weather
      inputs: { city: { type: string, required: true, description: "City | name" } }
      outputs: { temperature: { type: number } }
  configuration:
    - key: API_KEY
      type: secret
      required: true
      label: API key
  integration:
    type: api
    method: GET
    endpoint: https://api.example.com/weather?q={{city}}
    headers: { X-Key: "${API_KEY}" }
    response_mapping: { temperature: main.temp }
  examples:
    - input: { city: Paris }
"#;

    #[test]
    fn markdown_lists_actions_config_and_permissions_in_words() {
        let d = doc(CAP);
        let md = generate(
            &d,
            &["network.http.get".into()],
            &["api.example.com".into()],
            DocFormat::Markdown,
        );
        assert!(md.starts_with("# Weather <b>now</b>\n"), "{md}");
        assert!(md.contains("### Current weather (`current`)"), "{md}");
        assert!(
            md.contains("| city | string | yes | City \\| name |"),
            "{md}"
        );
        assert!(md.contains("| temperature | number | no |  |"), "{md}");
        assert!(
            md.contains("| API_KEY | secret | yes | API key (kept in your OS keyring"),
            "{md}"
        );
        assert!(
            md.contains("- Make HTTP GET requests (`network.http.get`)"),
            "{md}"
        );
        assert!(md.contains("- api.example.com"), "{md}");
        assert!(md.contains("\"city\": \"Paris\""), "{md}");
    }

    #[test]
    fn html_escapes_what_the_manifest_says() {
        let d = doc(CAP);
        let html = generate(&d, &["network.http.get".into()], &[], DocFormat::Html);
        assert!(
            html.contains("<h1>Weather &lt;b&gt;now&lt;/b&gt;</h1>"),
            "{html}"
        );
        assert!(!html.contains("<b>now</b>"));
        assert!(html.contains("<td>City | name</td>"), "{html}");
        assert!(
            html.contains("<li>Make HTTP GET requests (<code>network.http.get</code>)</li>"),
            "{html}"
        );
    }
}
