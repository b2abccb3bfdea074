//! Transport types: what the CLI's `--json`, the desktop UI and (later) the marketplace server
//! see. TypeScript copies are generated into `ui/src/generated/` by a test (`bindings`).

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::diagnostics::Diagnostic;
use crate::manifest::model::{Capability, Document, Fields, Kind};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct CapabilityPreview {
    pub id: String,
    pub name: String,
    pub icon: Option<String>,
    pub version: String,
    pub kind: Kind,
    pub description: Option<String>,
}

/// The report `capsmith validate` prints and the app shows before saving.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct ValidationReport {
    pub file: String,
    pub valid: bool,
    pub errors: Vec<Diagnostic>,
    pub warnings: Vec<Diagnostic>,
    pub capability: Option<CapabilityPreview>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct ImportOutcome {
    pub id: String,
    pub version: String,
    /// False when the same id@version with identical content was already there.
    pub created: bool,
    pub report: ValidationReport,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "lowercase")]
pub enum CapabilityStatus {
    Draft,
    Published,
    Deprecated,
}

impl CapabilityStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            CapabilityStatus::Draft => "draft",
            CapabilityStatus::Published => "published",
            CapabilityStatus::Deprecated => "deprecated",
        }
    }
    pub fn parse(s: &str) -> Self {
        match s {
            "draft" => CapabilityStatus::Draft,
            "published" => CapabilityStatus::Published,
            "deprecated" => CapabilityStatus::Deprecated,
            _ => CapabilityStatus::Draft,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct CapabilitySummary {
    pub id: String,
    pub name: String,
    pub icon: Option<String>,
    pub version: String,
    pub kind: Kind,
    pub status: CapabilityStatus,
    pub description: Option<String>,
    pub category: Option<String>,
    pub tags: Vec<String>,
    pub author: Option<String>,
    /// Every stored version, newest first.
    pub versions: Vec<String>,
    pub updated_at: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct FieldView {
    pub name: String,
    #[serde(rename = "type")]
    #[ts(rename = "type")]
    pub ty: String,
    pub required: bool,
    pub description: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct ActionView {
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    pub inputs: Vec<FieldView>,
    pub outputs: Vec<FieldView>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct ConfigView {
    pub key: String,
    pub label: Option<String>,
    #[serde(rename = "type")]
    #[ts(rename = "type")]
    pub ty: String,
    pub required: bool,
    pub help_url: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct DependencyView {
    pub id: String,
    pub version: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "lowercase")]
pub enum SourceFormatView {
    Yaml,
    Json,
    Js,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct CapabilityDetail {
    pub summary: CapabilitySummary,
    /// The version shown (the latest unless one was asked for).
    pub version: String,
    pub actions: Vec<ActionView>,
    pub configuration: Vec<ConfigView>,
    pub permissions: Vec<String>,
    /// Permissions the integration needs; shown beside the declared ones.
    pub inferred_permissions: Vec<String>,
    pub allowed_domains: Vec<String>,
    pub dependencies: Vec<DependencyView>,
    pub source: String,
    pub source_format: SourceFormatView,
    pub created_at: String,
    /// A workflow's trigger (`manual`, `file_upload`, `webhook`, `schedule`, …); none for
    /// other kinds.
    pub trigger: Option<String>,
}

/// How an error crosses to the UI and to `--json` output.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct ApiError {
    pub kind: crate::ErrorKind,
    pub message: String,
    pub path: Option<String>,
    pub line: Option<u32>,
    pub column: Option<u32>,
    /// The full report when `kind` is `invalid_manifest`.
    pub report: Option<Box<ValidationReport>>,
}

impl ApiError {
    /// An error of the given kind with nothing to point at.
    pub fn plain(kind: crate::ErrorKind, message: impl Into<String>) -> Self {
        ApiError {
            kind,
            message: message.into(),
            path: None,
            line: None,
            column: None,
            report: None,
        }
    }
}

fn field_views(f: &Fields) -> Vec<FieldView> {
    f.to_list()
        .into_iter()
        .map(|f| FieldView {
            name: f.name,
            ty: f.ty.as_str().to_string(),
            required: f.required,
            description: f.description,
        })
        .collect()
}

/// The actions a capability offers: its endpoints for a connector, else its actions.
pub fn action_views(cap: &Capability) -> Vec<ActionView> {
    cap.offered_actions()
        .into_iter()
        .map(|a| ActionView {
            id: a.id.to_string(),
            name: a.name.to_string(),
            description: a.description.map(str::to_string),
            inputs: field_views(a.inputs),
            outputs: field_views(a.outputs),
        })
        .collect()
}

pub fn config_views(cap: &Capability) -> Vec<ConfigView> {
    cap.configuration
        .iter()
        .map(|c| ConfigView {
            key: c.key.clone(),
            label: c.label.clone(),
            ty: c.ty.as_str().to_string(),
            required: c.required,
            help_url: c.help_url.clone(),
        })
        .collect()
}

pub fn preview(doc: &Document, kind: Option<Kind>) -> CapabilityPreview {
    let c = &doc.capability;
    CapabilityPreview {
        id: c.id.clone(),
        name: c.name.clone(),
        icon: c.icon.clone(),
        version: c.version_or_default(),
        kind: kind.unwrap_or(Kind::Declarative),
        description: c.description.clone(),
    }
}

/// The outcome of running one action.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct RunReport {
    pub execution_id: i64,
    pub capability: String,
    pub version: String,
    pub action: String,
    pub ok: bool,
    #[ts(type = "unknown")]
    pub output: Option<serde_json::Value>,
    pub error: Option<ApiError>,
    pub security_violation: bool,
    pub calls: Vec<crate::engine::http::CallTrace>,
    pub duration_ms: f64,
    /// What sandboxed code logged through `console` (code capabilities).
    pub console: Vec<capsmith_sandbox_protocol::ConsoleLine>,
    /// Memory the code's JavaScript heap used, in bytes (code capabilities).
    pub memory_used: Option<u64>,
    /// The user opted out of the sandbox's confinement check (`sandbox.allow_unconfined`):
    /// code may have run in a worker without Landlock or seccomp.
    pub sandbox_unconfined: bool,
}

/// One configuration key of a capability, as the configure screen shows it. Secret values are
/// never returned: `set` says whether the keyring holds one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct ConfigEntryView {
    pub key: String,
    pub label: Option<String>,
    #[serde(rename = "type")]
    #[ts(rename = "type")]
    pub ty: String,
    pub required: bool,
    pub help_url: Option<String>,
    pub set: bool,
    #[ts(type = "unknown")]
    pub value: Option<serde_json::Value>,
}

/// One row of the audit log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct ExecutionView {
    pub id: i64,
    pub capability: String,
    pub version: Option<String>,
    pub action: Option<String>,
    pub origin: String,
    pub status: String,
    pub error_kind: Option<String>,
    pub error_message: Option<String>,
    pub security_violation: bool,
    pub network_calls: i64,
    pub bytes_in: i64,
    pub bytes_out: i64,
    pub duration_ms: Option<f64>,
    pub started_at: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct Mismatch {
    /// Where in the output (`temperature`, `items[0].name`).
    pub path: String,
    #[ts(type = "unknown")]
    pub expected: serde_json::Value,
    #[ts(type = "unknown")]
    pub actual: Option<serde_json::Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct TestCaseResult {
    pub name: String,
    pub action: String,
    pub passed: bool,
    pub mismatches: Vec<Mismatch>,
    /// Set when an `assert` expression was false or failed to run.
    pub assertion: Option<String>,
    pub run: RunReport,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct TestReport {
    pub capability: String,
    pub version: String,
    pub passed: u32,
    pub failed: u32,
    pub cases: Vec<TestCaseResult>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct SettingView {
    pub key: String,
    pub description: String,
    #[ts(type = "unknown")]
    pub value: serde_json::Value,
    pub is_default: bool,
}

// ---- the visual builder ---------------------------------------------------------------------

/// A finding about a flow document: on a node or edge of one action's flow (`target`
/// `node:<id>` / `edge:<id>`), or on the manifest (`path`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct FlowDiagnostic {
    pub severity: crate::diagnostics::Severity,
    pub code: String,
    pub message: String,
    /// The action whose flow it concerns.
    pub action: Option<String>,
    pub target: Option<String>,
    pub path: Option<String>,
}

/// A flow document compiled: the manifest as YAML (empty when a flow has errors) and every
/// finding.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct CompileView {
    pub ok: bool,
    pub kind: Option<Kind>,
    pub yaml: String,
    pub diagnostics: Vec<FlowDiagnostic>,
}

/// "Save draft": the saved capability when the document compiled without errors.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct SaveView {
    pub summary: Option<CapabilitySummary>,
    pub compile: CompileView,
}

/// An autosaved flow document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct DraftView {
    pub id: String,
    pub name: String,
    pub updated_at: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "lowercase")]
pub enum NodeStatus {
    Ok,
    Error,
    Skipped,
}

/// What one node did in a live test run (redacted).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct NodeTrace {
    pub node: String,
    pub status: NodeStatus,
    #[ts(type = "unknown")]
    pub input: Option<serde_json::Value>,
    #[ts(type = "unknown")]
    pub output: Option<serde_json::Value>,
    pub error: Option<String>,
    pub duration_ms: f64,
}

/// A live test run of one action's flow.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct FlowRunView {
    pub ok: bool,
    #[ts(type = "unknown")]
    pub output: Option<serde_json::Value>,
    pub error: Option<ApiError>,
    pub nodes: Vec<NodeTrace>,
    pub calls: Vec<crate::engine::http::CallTrace>,
    pub console: Vec<capsmith_sandbox_protocol::ConsoleLine>,
    pub duration_ms: f64,
}

/// A search over the cache.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, TS)]
pub struct MarketQuery {
    pub text: Option<String>,
    pub category: Option<String>,
    pub tag: Option<String>,
    /// `free` or `paid`.
    pub price: Option<String>,
    /// `relevance` (default with text), `installs` (default), `rating`, `recent`, `name`.
    pub sort: Option<String>,
    /// Only the private and organization capabilities ("Your Custom Capabilities").
    pub custom: Option<bool>,
    /// 1-based.
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}
