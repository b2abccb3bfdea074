//! The capability manifest format (format version 1), typed. The file format is the design
//! document's YAML/JSON: a top-level `capability:` holding metadata, actions, one integration
//! per kind, configuration, examples, permissions and dependencies. Unknown fields are refused
//! (a typo must not be silently ignored), so a parsed manifest round-trips without loss.

use schemars::JsonSchema;
use serde::{de, Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

/// The format version this build reads and writes.
pub const FORMAT_VERSION: u32 = 1;

/// Ordered maps (headers, params, mappings) keep the author's order; validation checks that
/// their values are strings where the format says so.
type Dict = Map<String, Value>;

/// A capability file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "Capsmith capability manifest")]
pub struct Document {
    /// JSON Schema reference for editors; ignored by Capsmith.
    #[serde(rename = "$schema", default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    /// Manifest format version (default 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format_version: Option<u32>,
    pub capability: Capability,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema, ts_rs::TS)]
#[serde(rename_all = "kebab-case")]
#[ts(rename = "CapabilityKind")]
pub enum Kind {
    /// A single HTTP call with templated inputs and a response mapping (`integration.type: api`).
    Declarative,
    /// A sandboxed JavaScript module.
    Code,
    /// Several endpoints of one API with shared auth, and triggers.
    #[serde(alias = "api")]
    #[ts(rename = "api-connector")]
    ApiConnector,
    /// Steps over other capabilities' actions.
    Workflow,
    /// A visual node graph from the builder.
    Flow,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Declarative => "declarative",
            Kind::Code => "code",
            Kind::ApiConnector => "api-connector",
            Kind::Workflow => "workflow",
            Kind::Flow => "flow",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        serde_json::from_value(Value::String(s.to_string())).ok()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Capability {
    /// Unique slug: lowercase letters, digits and single `-` (e.g. `weather-lookup`).
    pub id: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub icon: Option<String>,
    /// Semantic version (`1.0.0`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub license: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub homepage: Option<String>,
    /// The kind; inferred from the integration when absent (`kind` is accepted as a synonym).
    #[serde(
        rename = "type",
        alias = "kind",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub kind: Option<Kind>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub actions: Vec<Action>,
    /// Declarative kind: the HTTP call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub integration: Option<Integration>,
    /// API-connector kind: base URL and auth shared by the endpoints.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api: Option<ApiSpec>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub endpoints: Vec<Endpoint>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub triggers: Vec<Trigger>,
    /// Workflow kind.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workflow: Option<Workflow>,
    /// Code kind: the JavaScript module.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<CodeSpec>,
    /// Flow kind: one node graph per action, with positions.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub flows: Vec<Flow>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub configuration: Vec<ConfigItem>,
    /// Usage examples; each is also a test case (expected_output matched as a subset).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub examples: Vec<Example>,
    /// More test cases, in the same form as examples.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tests: Vec<Example>,
    /// Permissions the capability asks for (see the permission vocabulary).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub permissions: Option<Vec<String>>,
    /// Extra hosts the capability may reach besides those of its endpoints.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allowed_domains: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dependencies: Vec<Dependency>,
    /// Capabilities (and version ranges) this one cannot share an agent with.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conflicts_with: Vec<Dependency>,
    /// Named JSON Schemas, for `validate.schema` steps (`schema: invoice_schema`).
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub schemas: Map<String, Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Action {
    /// Letters, digits, `-` and `_`, unique within the capability.
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Fields::is_empty")]
    pub inputs: Fields,
    #[serde(default, skip_serializing_if = "Fields::is_empty")]
    pub outputs: Fields,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum FieldType {
    String,
    Number,
    Integer,
    Boolean,
    Object,
    Array,
    File,
    Any,
}

impl FieldType {
    pub fn as_str(self) -> &'static str {
        match self {
            FieldType::String => "string",
            FieldType::Number => "number",
            FieldType::Integer => "integer",
            FieldType::Boolean => "boolean",
            FieldType::Object => "object",
            FieldType::Array => "array",
            FieldType::File => "file",
            FieldType::Any => "any",
        }
    }
}

/// A typed input or output, in list form (`- name: location`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Field {
    pub name: String,
    #[serde(rename = "type", default = "default_field_type")]
    pub ty: FieldType,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub required: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<Value>,
    #[serde(rename = "enum", default, skip_serializing_if = "Option::is_none")]
    pub allowed: Option<Vec<Value>>,
}

/// A typed input or output, in map form (`channel: { type: string }`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FieldSpec {
    #[serde(rename = "type", default = "default_field_type")]
    pub ty: FieldType,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub required: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<Value>,
    #[serde(rename = "enum", default, skip_serializing_if = "Option::is_none")]
    pub allowed: Option<Vec<Value>>,
}

fn default_field_type() -> FieldType {
    FieldType::String
}

/// Inputs or outputs: a list of named fields or a map from name to spec. The written form is
/// kept so export reproduces it.
#[derive(Debug, Clone, PartialEq, JsonSchema)]
#[schemars(untagged)]
pub enum Fields {
    List(Vec<Field>),
    Map(
        #[schemars(with = "std::collections::BTreeMap<String, FieldSpec>")]
        Vec<(String, FieldSpec)>,
    ),
}

impl Default for Fields {
    fn default() -> Self {
        Fields::List(Vec::new())
    }
}

impl Fields {
    pub fn is_empty(&self) -> bool {
        match self {
            Fields::List(v) => v.is_empty(),
            Fields::Map(v) => v.is_empty(),
        }
    }
    /// Every field in list form, whichever form was written.
    pub fn to_list(&self) -> Vec<Field> {
        match self {
            Fields::List(v) => v.clone(),
            Fields::Map(v) => v
                .iter()
                .map(|(name, s)| Field {
                    name: name.clone(),
                    ty: s.ty,
                    required: s.required,
                    description: s.description.clone(),
                    default: s.default.clone(),
                    allowed: s.allowed.clone(),
                })
                .collect(),
        }
    }
    pub fn names(&self) -> Vec<String> {
        self.to_list().into_iter().map(|f| f.name).collect()
    }
}

impl Serialize for Fields {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Fields::List(v) => v.serialize(s),
            Fields::Map(v) => {
                use serde::ser::SerializeMap;
                let mut m = s.serialize_map(Some(v.len()))?;
                for (k, spec) in v {
                    m.serialize_entry(k, spec)?;
                }
                m.end()
            }
        }
    }
}

impl<'de> Deserialize<'de> for Fields {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> de::Visitor<'de> for V {
            type Value = Fields;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a list of fields (`- name: x`) or a map of field name to spec")
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Fields, A::Error> {
                let mut v = Vec::new();
                while let Some(f) = seq.next_element::<Field>()? {
                    v.push(f);
                }
                Ok(Fields::List(v))
            }
            fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<Fields, A::Error> {
                let mut v = Vec::new();
                while let Some((k, spec)) = map.next_entry::<String, FieldSpec>()? {
                    v.push((k, spec));
                }
                Ok(Fields::Map(v))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Fields, E> {
                Ok(Fields::default())
            }
        }
        d.deserialize_any(V)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum IntegrationType {
    /// An HTTP API call.
    Api,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum HttpMethod {
    Get,
    Head,
    Post,
    Put,
    Patch,
    Delete,
}

impl HttpMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            HttpMethod::Get => "GET",
            HttpMethod::Head => "HEAD",
            HttpMethod::Post => "POST",
            HttpMethod::Put => "PUT",
            HttpMethod::Patch => "PATCH",
            HttpMethod::Delete => "DELETE",
        }
    }
    /// GET and HEAD read; every other method changes something and needs `network.http.post`.
    pub fn is_read(self) -> bool {
        matches!(self, HttpMethod::Get | HttpMethod::Head)
    }
}

/// The declarative kind's HTTP call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Integration {
    #[serde(rename = "type")]
    pub ty: IntegrationType,
    /// Absolute http(s) URL; `${input.x}` may appear in the path or query, never in the host.
    pub endpoint: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<HttpMethod>,
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    #[schemars(with = "std::collections::BTreeMap<String, String>")]
    pub headers: Dict,
    /// Query parameters.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub params: Dict,
    /// JSON body (templates allowed in strings).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<Value>,
    /// Output name → path in the response (`data.weather[0].main`).
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    #[schemars(with = "std::collections::BTreeMap<String, String>")]
    pub response_mapping: Dict,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_ms: Option<u64>,
}

impl Integration {
    pub fn method(&self) -> HttpMethod {
        self.method.unwrap_or(HttpMethod::Get)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ApiSpec {
    pub base_url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth: Option<Auth>,
    /// Headers sent with every endpoint.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    #[schemars(with = "std::collections::BTreeMap<String, String>")]
    pub headers: Dict,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum AuthType {
    None,
    ApiKey,
    Bearer,
    Basic,
    Oauth2,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum KeyLocation {
    Header,
    Query,
}

/// How requests authenticate. Which fields apply depends on `type`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Auth {
    #[serde(rename = "type")]
    pub ty: AuthType,
    /// api_key / bearer: the configuration key holding the secret (default `API_KEY`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// api_key: where the key goes.
    #[serde(rename = "in", default, skip_serializing_if = "Option::is_none")]
    pub location: Option<KeyLocation>,
    /// api_key: header or query parameter name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// basic: configuration keys of the user name and password.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username_key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_key: Option<String>,
    /// oauth2.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_url: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scopes: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id_key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret_key: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Endpoint {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub method: HttpMethod,
    /// Path under `api.base_url`, starting with `/`; `{{input}}` or `${input.x}` fill segments.
    pub path: String,
    #[serde(default, skip_serializing_if = "Fields::is_empty")]
    pub inputs: Fields,
    #[serde(default, skip_serializing_if = "Fields::is_empty")]
    pub outputs: Fields,
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    #[schemars(with = "std::collections::BTreeMap<String, String>")]
    pub headers: Dict,
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub query: Dict,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<Value>,
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    #[schemars(with = "std::collections::BTreeMap<String, String>")]
    pub response_mapping: Dict,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TriggerType {
    Webhook,
    Schedule,
    Poll,
    Manual,
    FileUpload,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Trigger {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(rename = "type")]
    pub ty: TriggerType,
    /// Event name for webhooks (`message.channels`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event: Option<String>,
    /// Cron expression for schedules.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cron: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Workflow {
    /// `manual`, `file_upload`, `webhook`, `schedule`, or `<capability>.<trigger>`.
    #[serde(default = "default_trigger")]
    pub trigger: String,
    /// Cron expression when `trigger: schedule`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schedule: Option<String>,
    /// A JavaScript expression over the trigger payload; the run is skipped when it is false.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<String>,
    pub steps: Vec<Step>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_handling: Option<ErrorHandling>,
    /// The step whose output is the workflow's result (default: the last step that ran).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output: Option<String>,
}

fn default_trigger() -> String {
    "manual".into()
}

/// One workflow step. Keys besides the known ones are the action's parameters (`prompt`,
/// `table`, `to`…), kept in order.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct Step {
    pub id: String,
    /// `<capability>.<action>` (`ocr.extract`, `weather-lookup.get-weather`).
    pub action: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<Value>,
    /// Name under which later steps see this step's result.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output: Option<String>,
    /// A JavaScript condition; the step is skipped when it is false.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub when: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry: Option<u32>,
    /// Steps this one comes after without reading their result (a builder flow's edges):
    /// when one of them is skipped, so is this step.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub after: Vec<String>,
    #[serde(flatten)]
    pub params: Map<String, Value>,
}

impl<'de> Deserialize<'de> for Step {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> de::Visitor<'de> for V {
            type Value = Step;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a workflow step (a map with `id` and `action`)")
            }
            fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<Step, A::Error> {
                let (mut id, mut action, mut input, mut output, mut when, mut retry) =
                    (None, None, None, None, None, None);
                let mut after = Vec::new();
                let mut params = Map::new();
                while let Some(key) = map.next_key::<String>()? {
                    match key.as_str() {
                        "id" => id = Some(map.next_value::<String>()?),
                        "action" => action = Some(map.next_value::<String>()?),
                        "input" => input = Some(map.next_value::<Value>()?),
                        "output" => output = Some(map.next_value::<String>()?),
                        "when" => when = Some(map.next_value::<String>()?),
                        "retry" => retry = Some(map.next_value::<u32>()?),
                        "after" => after = map.next_value::<Vec<String>>()?,
                        _ => {
                            let v = map.next_value::<Value>()?;
                            params.insert(key, v);
                        }
                    }
                }
                Ok(Step {
                    id: id.ok_or_else(|| de::Error::missing_field("id"))?,
                    action: action.ok_or_else(|| de::Error::missing_field("action"))?,
                    input,
                    output,
                    when,
                    retry,
                    after,
                    params,
                })
            }
        }
        d.deserialize_map(V)
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ErrorHandling {
    /// A step id of this workflow, or `<capability>.<action>`, run when a step fails for good.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_error: Option<String>,
    /// Attempts after the first failure, with exponential backoff.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backoff_ms: Option<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum CodeLanguage {
    Javascript,
}

/// The code kind's module: inline `source`, or a `module` file beside the manifest (inlined
/// into `source` when the manifest is imported).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CodeSpec {
    #[serde(default = "default_language")]
    pub language: CodeLanguage,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub module: Option<String>,
}

fn default_language() -> CodeLanguage {
    CodeLanguage::Javascript
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Flow {
    /// The action this graph implements.
    pub action: String,
    pub nodes: Vec<FlowNode>,
    #[serde(default)]
    pub edges: Vec<FlowEdge>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub viewport: Option<Viewport>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FlowNode {
    pub id: String,
    /// `input`, `api_call`, `transform`, `filter`, `branch`, `script`, `call_capability`,
    /// `merge`, `output`.
    #[serde(rename = "type")]
    pub ty: String,
    pub position: Position,
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub data: Map<String, Value>,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Position {
    pub x: f64,
    pub y: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Viewport {
    pub x: f64,
    pub y: f64,
    pub zoom: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FlowEdge {
    pub id: String,
    pub source: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_handle: Option<String>,
    pub target: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_handle: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ConfigType {
    Secret,
    String,
    Number,
    Boolean,
}

impl ConfigType {
    pub fn as_str(self) -> &'static str {
        match self {
            ConfigType::Secret => "secret",
            ConfigType::String => "string",
            ConfigType::Number => "number",
            ConfigType::Boolean => "boolean",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ConfigItem {
    /// UPPER_SNAKE_CASE name used in templates as `${KEY}`.
    pub key: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    #[serde(rename = "type", default = "default_config_type")]
    pub ty: ConfigType,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub required: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub help_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Not allowed for secrets.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<Value>,
}

fn default_config_type() -> ConfigType {
    ConfigType::String
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Example {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The action it exercises (default: the first action).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
    pub input: Value,
    /// Fields the output must contain with these values (a subset match).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_output: Option<Value>,
    /// A JavaScript expression over `input` and `output` that must be true
    /// (`output.temperature > -100`), evaluated in QuickJS without host access.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assert: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Dependency {
    pub id: String,
    /// A semver requirement (`^1.2`, `>=1.0, <2`).
    #[serde(default = "any_version")]
    pub version: String,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub optional: bool,
}

fn any_version() -> String {
    "*".into()
}

impl Capability {
    /// The declared kind, or the one the integration implies.
    pub fn inferred_kind(&self) -> Option<Kind> {
        if self.kind.is_some() {
            return self.kind;
        }
        if self.workflow.is_some() {
            Some(Kind::Workflow)
        } else if self.code.is_some() {
            Some(Kind::Code)
        } else if !self.flows.is_empty() {
            Some(Kind::Flow)
        } else if self.api.is_some() || !self.endpoints.is_empty() {
            Some(Kind::ApiConnector)
        } else if self.integration.is_some() {
            Some(Kind::Declarative)
        } else {
            None
        }
    }

    /// The version, or `0.0.0` for a manifest that gives none (validation warns about it).
    pub fn version_or_default(&self) -> String {
        self.version.clone().unwrap_or_else(|| "0.0.0".into())
    }

    /// The actions the capability offers a caller: its endpoints for a connector that declares
    /// no actions, else its actions.
    pub fn offered_actions(&self) -> Vec<OfferedAction<'_>> {
        if !self.endpoints.is_empty() && self.actions.is_empty() {
            return self
                .endpoints
                .iter()
                .map(|e| OfferedAction {
                    id: &e.id,
                    name: e.name.as_deref().unwrap_or(&e.id),
                    description: e.description.as_deref(),
                    inputs: &e.inputs,
                    outputs: &e.outputs,
                })
                .collect();
        }
        self.actions
            .iter()
            .map(|a| OfferedAction {
                id: &a.id,
                name: a.name.as_deref().unwrap_or(&a.id),
                description: a.description.as_deref(),
                inputs: &a.inputs,
                outputs: &a.outputs,
            })
            .collect()
    }
}

/// One action a capability offers ([`Capability::offered_actions`]).
#[derive(Debug, Clone, Copy)]
pub struct OfferedAction<'a> {
    pub id: &'a str,
    /// The declared name, else the id.
    pub name: &'a str,
    pub description: Option<&'a str>,
    pub inputs: &'a Fields,
    pub outputs: &'a Fields,
}
