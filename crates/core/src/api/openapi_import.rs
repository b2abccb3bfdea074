//! Importing an OpenAPI document (a file or an http(s) URL under the network guard) as an
//! API-connector manifest.

use serde_json::Value;

use super::dto::*;
use super::Capsmith;
use crate::engine::EngineError;
use crate::{CoreError, CoreResult};

/// Largest OpenAPI document accepted (real ones reach several megabytes).
const MAX_SPEC_BYTES: u64 = 64 * 1024 * 1024;

impl Capsmith {
    /// Reads an OpenAPI document from a file or an http(s) URL (fetched under the network
    /// guard) and converts it to an API-connector manifest (YAML text) plus notes on what
    /// could not be carried over.
    pub async fn openapi_manifest(
        &self,
        source: &str,
        id: Option<&str>,
    ) -> CoreResult<(String, String, Vec<String>)> {
        let (text, url) = if source.starts_with("http://") || source.starts_with("https://") {
            let url = url::Url::parse(source)
                .map_err(|e| CoreError::InvalidArgument(format!("`{source}` is not a URL: {e}")))?;
            // The URL's host on its port, under the guard: a private address is refused (a
            // spec on this machine is imported from its file instead).
            let mut policy = self.net_policy().await?;
            policy.domains = url
                .host_str()
                .map(|h| crate::engine::guard::scope_entry(h, url.port()))
                .into_iter()
                .collect();
            policy.may_get = true;
            policy.max_response_bytes = policy.max_response_bytes.max(MAX_SPEC_BYTES);
            let mut session = crate::engine::http::Session::new(policy, vec![]);
            let req = crate::engine::http::Prepared {
                method: reqwest::Method::GET,
                url: url.clone(),
                headers: vec![(
                    "Accept".into(),
                    "application/json, application/yaml;q=0.9, */*;q=0.5".into(),
                )],
                body: None,
            };
            let ex = session.send(req).await?;
            if !(200..300).contains(&ex.status) {
                return Err(EngineError::HttpStatus {
                    status: ex.status,
                    excerpt: String::from_utf8_lossy(&ex.body)
                        .chars()
                        .take(200)
                        .collect(),
                }
                .into());
            }
            (
                String::from_utf8(ex.body).map_err(|_| {
                    CoreError::InvalidArgument("the OpenAPI document is not UTF-8 text".into())
                })?,
                Some(url),
            )
        } else {
            let path = std::path::Path::new(source);
            let meta = std::fs::metadata(path).map_err(|e| CoreError::io(path, e))?;
            if meta.len() > MAX_SPEC_BYTES {
                return Err(CoreError::InvalidArgument(format!(
                    "{source} is larger than {} MiB",
                    MAX_SPEC_BYTES >> 20
                )));
            }
            (
                std::fs::read_to_string(path).map_err(|e| CoreError::io(path, e))?,
                None,
            )
        };
        openapi_text_to_manifest(source, &text, id, url.as_ref())
    }

    /// Converts an OpenAPI document given as text (an upload) and imports it.
    pub async fn import_openapi_text(
        &self,
        label: &str,
        text: &str,
        id: Option<&str>,
    ) -> CoreResult<ImportOutcome> {
        let (cap_id, yaml, notes) = openapi_text_to_manifest(label, text, id, None)?;
        self.import_converted(label, &cap_id, &yaml, notes).await
    }

    /// Converts an OpenAPI document and imports the manifest through the usual validation.
    pub async fn import_openapi(
        &self,
        source: &str,
        id: Option<&str>,
    ) -> CoreResult<ImportOutcome> {
        let (cap_id, yaml, notes) = self.openapi_manifest(source, id).await?;
        self.import_converted(source, &cap_id, &yaml, notes).await
    }

    async fn import_converted(
        &self,
        source: &str,
        cap_id: &str,
        yaml: &str,
        notes: Vec<String>,
    ) -> CoreResult<ImportOutcome> {
        let mut out = self
            .import_bytes(&format!("{cap_id}.yaml (from {source})"), yaml.as_bytes())
            .await?;
        for n in notes {
            out.report.warnings.push(crate::diagnostics::Diagnostic {
                severity: crate::diagnostics::Severity::Warning,
                code: "openapi-not-converted".into(),
                message: n,
                file: source.to_string(),
                path: None,
                line: None,
                column: None,
                hint: None,
            });
        }
        Ok(out)
    }
}

/// Parses an OpenAPI document (JSON or YAML) and converts it: (id, manifest YAML, notes).
fn openapi_text_to_manifest(
    source: &str,
    text: &str,
    id: Option<&str>,
    url: Option<&url::Url>,
) -> CoreResult<(String, String, Vec<String>)> {
    let spec: Value = if text.trim_start().starts_with('{') {
        serde_json::from_str(text).map_err(|e| {
            CoreError::InvalidArgument(format!(
                "{source}: invalid JSON at line {}, column {}: {e}",
                e.line(),
                e.column()
            ))
        })?
    } else {
        let mut findings = Vec::new();
        let tree = crate::manifest::yaml::parse_with_limit(text, &mut findings, 20_000_000)
            .map_err(|f| {
                let at = f
                    .pos
                    .map(|p| format!(" at line {}, column {}", p.line, p.column))
                    .unwrap_or_default();
                CoreError::InvalidArgument(format!("{source}: {}{at}", f.message))
            })?;
        tree.to_json()
    };
    let conv = crate::openapi::convert(&spec, id, url)?;
    let doc = conv
        .document
        .expect("convert returns a document on success");
    let yaml =
        crate::manifest::export::to_string(&doc, crate::manifest::export::ExportFormat::Yaml);
    Ok((doc.capability.id.clone(), yaml, conv.notes))
}
