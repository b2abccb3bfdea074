//! Checking a capability file: its text read into a manifest (`crate::manifest`) plus every
//! finding of the semantic rules (`rules`, embedded flows analysed by `crate::flow`), each
//! located by line and column. `check_text` / `check_bytes` / `check_file` are the entry
//! points; a [`Manifest`] is what passed (warnings allowed), ready for the registry.

pub mod rules;

use std::path::Path;

use crate::diagnostics::{Diagnostic, Finding, Pos, Severity};
use crate::manifest::doc::{self, Node};
use crate::manifest::model::{
    Action, Capability, CodeLanguage, CodeSpec, ConfigItem, ConfigType, Document, Kind,
};
pub use crate::manifest::SourceFormat;
use crate::manifest::{js, json, source, yaml};
use crate::path::{DocPath, Seg};
pub use rules::Analysis;

/// A manifest that passed validation (warnings allowed), ready for the registry.
#[derive(Debug, Clone)]
pub struct Manifest {
    /// The document, with a `code.module` file inlined into `code.source`.
    pub document: Document,
    pub analysis: Analysis,
    pub format: SourceFormat,
    /// The text as given (for a `.js` file, the module itself).
    pub source: String,
    /// The JavaScript of a code capability.
    pub code: Option<String>,
}

impl Manifest {
    pub fn capability(&self) -> &Capability {
        &self.document.capability
    }
    pub fn kind(&self) -> Kind {
        self.analysis.kind.unwrap_or(Kind::Declarative)
    }
    pub fn version(&self) -> String {
        self.document.capability.version_or_default()
    }
    /// The permissions in force: the declared ones, else the inferred ones.
    pub fn permissions_in_force(&self) -> Vec<String> {
        match &self.document.capability.permissions {
            Some(p) => p.clone(),
            None => self.analysis.inferred_permissions.clone(),
        }
    }
}

/// The outcome of checking one file: the manifest when there is no error, and every finding.
#[derive(Debug, Clone)]
pub struct Checked {
    pub manifest: Option<Manifest>,
    /// Whatever could be read of the capability, even when invalid (for previews).
    pub document: Option<Document>,
    pub analysis: Analysis,
    pub diagnostics: Vec<Diagnostic>,
}

impl Checked {
    pub fn is_valid(&self) -> bool {
        !self
            .diagnostics
            .iter()
            .any(|d| d.severity == Severity::Error)
    }
}

/// Where findings get their line and column.
enum Locator<'a> {
    Tree(&'a Node),
    Js(&'a str),
    None,
}

impl Locator<'_> {
    fn locate(&self, f: &Finding) -> Option<Pos> {
        if f.pos.is_some() {
            return f.pos;
        }
        let path = f.path.as_ref()?;
        match self {
            Locator::Tree(root) => {
                // An unknown or missing field is best shown at its key / its parent.
                if let Some(Seg::Key(k)) = path.0.last() {
                    let parent = DocPath(path.0[..path.0.len() - 1].to_vec());
                    if root.find(path).is_none() {
                        return Some(root.locate(&parent));
                    }
                    if let Some(p) = root.locate_key(&parent, k) {
                        if root.find(path).is_some_and(|n| {
                            matches!(n.value, doc::Value::Map(_) | doc::Value::Seq(_))
                        }) {
                            return Some(p);
                        }
                    }
                }
                Some(root.locate(path))
            }
            Locator::Js(src) => {
                let key = path.0.iter().rev().find_map(|s| match s {
                    Seg::Key(k) if k != "capability" => Some(k.clone()),
                    _ => None,
                })?;
                js::locate_property(src, &key)
            }
            Locator::None => None,
        }
    }
}

fn finish(file: &str, findings: Vec<Finding>, loc: &Locator) -> Vec<Diagnostic> {
    let mut out: Vec<Diagnostic> = findings
        .into_iter()
        .map(|f| {
            let pos = loc.locate(&f);
            Diagnostic {
                severity: f.severity,
                code: f.code.to_string(),
                message: f.message,
                file: file.to_string(),
                path: f.path.map(|p| p.to_string()).filter(|p| !p.is_empty()),
                line: pos.map(|p| p.line),
                column: pos.map(|p| p.column),
                hint: f.hint,
            }
        })
        .collect();
    // Errors first, then by position, so the report reads top to bottom.
    out.sort_by_key(|d| {
        (
            d.severity != Severity::Error,
            d.line.unwrap_or(0),
            d.column.unwrap_or(0),
        )
    });
    out
}

/// Reads and checks a file on disk. Missing/unreadable files are an `Err`; everything about
/// the content is a finding.
pub fn check_file(path: &Path) -> Result<Checked, crate::FormatError> {
    let label = path.display().to_string();
    let bytes = match source::read_capped(path).map_err(|e| crate::FormatError::io(path, e))? {
        Ok(b) => b,
        Err(f) => return Ok(failed(&label, f)),
    };
    let text = match source::decode(&bytes) {
        Ok(t) => t,
        Err(f) => return Ok(failed(&label, f)),
    };
    let format = SourceFormat::detect(&label, &text);
    Ok(check_text(&label, &text, format, path.parent()))
}

/// Checks bytes given directly (an upload from the UI).
pub fn check_bytes(label: &str, bytes: &[u8]) -> Checked {
    match source::decode(bytes) {
        Ok(text) => {
            let format = SourceFormat::detect(label, &text);
            check_text(label, &text, format, None)
        }
        Err(f) => failed(label, f),
    }
}

fn failed(label: &str, f: Finding) -> Checked {
    Checked {
        manifest: None,
        document: None,
        analysis: Analysis::default(),
        diagnostics: finish(label, vec![f], &Locator::None),
    }
}

/// Checks `text` in `format`. `base_dir` resolves `code.module` files; without one, a manifest
/// that references a module file is reported (uploads must inline their code).
pub fn check_text(
    label: &str,
    text: &str,
    format: SourceFormat,
    base_dir: Option<&Path>,
) -> Checked {
    if format == SourceFormat::Js {
        return check_js(label, text);
    }
    let mut findings = Vec::new();
    let parsed = match format {
        SourceFormat::Json => json::parse(text, &mut findings),
        _ => yaml::parse(text, &mut findings),
    };
    let tree = match parsed {
        Ok(t) => t,
        Err(f) => {
            findings.push(f);
            return Checked {
                manifest: None,
                document: None,
                analysis: Analysis::default(),
                diagnostics: finish(label, findings, &Locator::None),
            };
        }
    };
    let loc = Locator::Tree(&tree);
    let json = tree.to_json();
    let mut document: Document = match typed(&json) {
        Ok(d) => d,
        Err(f) => {
            findings.push(f);
            return Checked {
                manifest: None,
                document: None,
                analysis: Analysis::default(),
                diagnostics: finish(label, findings, &loc),
            };
        }
    };

    // A code capability's JavaScript: inline, or a module file beside the manifest.
    let mut js_actions = None;
    let mut code = None;
    let mut extra_diags = Vec::new();
    if let Some(spec) = document.capability.code.clone() {
        let code_path = DocPath::root().key("capability").key("code");
        let module_src = match (&spec.source, &spec.module, base_dir) {
            (Some(src), _, _) => Some((src.clone(), None)),
            (None, Some(m), Some(dir)) => {
                let rel = Path::new(m);
                if rel.is_absolute()
                    || rel
                        .components()
                        .any(|c| matches!(c, std::path::Component::ParentDir))
                {
                    findings.push(Finding::error("bad-module-path", format!("module `{m}` must be a file beside the manifest (no absolute paths or `..`)")).at(code_path.key("module")));
                    None
                } else {
                    let full = dir.join(rel);
                    match source::read_capped(&full) {
                        Ok(Ok(bytes)) => match source::decode(&bytes) {
                            Ok(t) => Some((t, Some(full.display().to_string()))),
                            Err(f) => {
                                extra_diags.extend(finish(
                                    &full.display().to_string(),
                                    vec![f],
                                    &Locator::None,
                                ));
                                None
                            }
                        },
                        Ok(Err(f)) => {
                            extra_diags.extend(finish(
                                &full.display().to_string(),
                                vec![f],
                                &Locator::None,
                            ));
                            None
                        }
                        Err(e) => {
                            findings.push(
                                Finding::error(
                                    "module-not-found",
                                    format!("cannot read module `{m}`: {e}"),
                                )
                                .at(code_path.key("module")),
                            );
                            None
                        }
                    }
                }
            }
            (None, Some(m), None) => {
                findings.push(
                    Finding::error("module-not-inlined", format!("the code lives in `{m}`, which an upload cannot reach"))
                        .at(code_path.key("module"))
                        .hint("upload the .js file itself, or import the manifest from the CLI so the module file is read"),
                );
                None
            }
            _ => None,
        };
        if let Some((src, module_file)) = module_src {
            let js_label = module_file
                .clone()
                .unwrap_or_else(|| format!("{label}#code"));
            match js::inspect(&js_label, &src) {
                Ok(info) => {
                    js_actions = Some(info.actions.clone());
                    code = Some(src.clone());
                    document.capability.code = Some(CodeSpec {
                        language: CodeLanguage::Javascript,
                        source: Some(src),
                        module: None,
                    });
                }
                Err(mut f) => {
                    match module_file {
                        Some(mf) => extra_diags.extend(finish(&mf, vec![f], &Locator::None)),
                        None => {
                            // Map a line of inline source to the manifest's line.
                            let node = tree.find(&code_path.key("source"));
                            if let (Some(node), Some(p)) = (node, f.pos) {
                                if node.block {
                                    // A block scalar's position is its first content line.
                                    let first = node.pos.line as usize;
                                    let indent = text
                                        .lines()
                                        .nth(first - 1)
                                        .map(|l| l.len() - l.trim_start().len())
                                        .unwrap_or(0);
                                    f.pos = Some(Pos {
                                        line: node.pos.line + p.line - 1,
                                        column: p.column + indent as u32,
                                    });
                                } else {
                                    f.message = format!(
                                        "{} (line {}, column {} of the code)",
                                        f.message, p.line, p.column
                                    );
                                    f.pos = None;
                                }
                            }
                            f.path = Some(code_path.key("source"));
                            findings.push(f);
                        }
                    }
                }
            }
        }
    }

    let (analysis, semantic) = rules::check(&document, js_actions.as_deref());
    findings.extend(semantic);
    let mut diagnostics = finish(label, findings, &loc);
    diagnostics.extend(extra_diags);
    diagnostics.sort_by_key(|d| {
        (
            d.severity != Severity::Error,
            d.line.unwrap_or(0),
            d.column.unwrap_or(0),
        )
    });
    let valid = !diagnostics.iter().any(|d| d.severity == Severity::Error);
    Checked {
        manifest: valid.then(|| Manifest {
            document: document.clone(),
            analysis: analysis.clone(),
            format,
            source: text.to_string(),
            code,
        }),
        document: Some(document),
        analysis,
        diagnostics,
    }
}

/// The typed document from a JSON value, or a finding that points at the offending path.
fn typed(json: &serde_json::Value) -> Result<Document, Finding> {
    if !json.is_object() || json.get("capability").is_none() {
        let f = Finding::error("missing-capability", "the file has no top-level `capability:` section")
            .hint("a capability file starts with `capability:` and holds id, name, actions and an integration");
        return Err(match json {
            serde_json::Value::Object(_) => f.at(DocPath::root()),
            _ => f,
        });
    }
    serde_path_to_error::deserialize::<_, Document>(json).map_err(|e| {
        let path = DocPath::parse(&e.path().to_string().replace("?", ""));
        let inner = e.inner().to_string();
        let mut f = Finding::error("schema", schema_message(&inner)).at(path.clone());
        if let Some(unknown) = inner
            .strip_prefix("unknown field `")
            .and_then(|r| r.split('`').next())
        {
            // serde reports an unknown field at the map that holds it.
            f.code = "unknown-field";
            if path.0.last() != Some(&Seg::Key(unknown.to_string())) {
                f.path = Some(path.key(unknown));
            }
            let expected: Vec<&str> = inner
                .split("expected ")
                .nth(1)
                .map(|r| r.split('`').skip(1).step_by(2).collect())
                .unwrap_or_default();
            if let Some(best) = expected
                .iter()
                .map(|c| (*c, strsim::jaro_winkler(unknown, c)))
                .filter(|(_, s)| *s >= 0.75)
                .max_by(|a, b| a.1.total_cmp(&b.1))
            {
                f.hint = Some(format!("did you mean `{}`?", best.0));
            }
        }
        if inner.starts_with("missing field") {
            f.code = "missing-field";
        }
        f
    })
}

fn schema_message(inner: &str) -> String {
    inner
        .replace("invalid type: ", "wrong type: found ")
        .replace("unknown variant", "unknown value")
}

/// A bare `.js` capability: the module is the manifest.
fn check_js(label: &str, text: &str) -> Checked {
    let loc = Locator::Js(text);
    let info = match js::inspect(label, text) {
        Ok(i) => i,
        Err(f) => {
            return Checked {
                manifest: None,
                document: None,
                analysis: Analysis::default(),
                diagnostics: finish(label, vec![f], &Locator::None),
            }
        }
    };
    let mut findings = Vec::new();
    let id = info.id.clone().unwrap_or_default();
    if info.id.is_none() {
        findings.push(
            Finding::error("missing-field", "the default export has no `id`")
                .at(DocPath::root().key("capability").key("id"))
                .at_pos(Pos { line: 1, column: 1 })
                .hint("add `id: 'my-capability'` to the exported object"),
        );
    }
    let configuration = info
        .config
        .iter()
        .map(|c| ConfigItem {
            key: c.key.clone(),
            label: None,
            ty: match c.ty.as_deref() {
                Some("secret") => ConfigType::Secret,
                Some("number") => ConfigType::Number,
                Some("boolean") => ConfigType::Boolean,
                _ => ConfigType::String,
            },
            required: false,
            help_url: None,
            description: c.description.clone(),
            default: c.default.clone(),
        })
        .collect();
    let document = Document {
        schema: None,
        format_version: None,
        capability: Capability {
            id: id.clone(),
            name: info.name.clone().unwrap_or_else(|| id.clone()),
            icon: info.icon.clone(),
            version: info.version.clone(),
            author: info.author.clone(),
            description: info.description.clone(),
            category: info.category.clone(),
            tags: info.tags.clone(),
            license: None,
            homepage: None,
            kind: Some(Kind::Code),
            actions: info
                .actions
                .iter()
                .map(|a| Action {
                    id: a.clone(),
                    name: None,
                    description: None,
                    inputs: Default::default(),
                    outputs: Default::default(),
                })
                .collect(),
            integration: None,
            api: None,
            endpoints: vec![],
            triggers: vec![],
            workflow: None,
            code: Some(CodeSpec {
                language: CodeLanguage::Javascript,
                source: Some(text.to_string()),
                module: None,
            }),
            flows: vec![],
            configuration,
            examples: vec![],
            tests: vec![],
            permissions: info.permissions.clone(),
            allowed_domains: vec![],
            dependencies: vec![],
            schemas: Default::default(),
            conflicts_with: vec![],
        },
    };
    let (analysis, semantic) = rules::check(&document, Some(&info.actions));
    // Paths into the synthesized document mean little to a JS author; locate permission
    // strings by their literal.
    for mut f in semantic {
        if f.code == "unknown-permission" || f.code == "duplicate-permission" {
            if let Some(Seg::Index(i)) = f.path.as_ref().and_then(|p| p.0.last()) {
                if let Some(perm) = info.permissions.as_ref().and_then(|p| p.get(*i)) {
                    f.pos = js::locate_literal(text, perm);
                }
            }
        }
        findings.push(f);
    }
    let diagnostics = finish(label, findings, &loc);
    let valid = !diagnostics.iter().any(|d| d.severity == Severity::Error);
    Checked {
        manifest: valid.then(|| Manifest {
            document: document.clone(),
            analysis: analysis.clone(),
            format: SourceFormat::Js,
            source: text.to_string(),
            code: Some(text.to_string()),
        }),
        document: Some(document),
        analysis,
        diagnostics,
    }
}
