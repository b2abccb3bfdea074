//! What each node kind keeps in its `data`, typed. Parsing a node's data into its kind's struct
//! refuses unknown keys, so a typo in a node's configuration is a diagnostic on that node rather
//! than something silently ignored. The JSON Schema of the flow format is generated from these.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::manifest::model::{ErrorHandling, Field, FlowNode, HttpMethod};

type Dict = Map<String, Value>;

/// Declares the action's inputs; in a workflow-level flow also the trigger and error handling.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct InputData {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub inputs: Vec<Field>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trigger: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schedule: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_handling: Option<ErrorHandling>,
}

/// One HTTP call; templates in the URL, header and query values and body strings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ApiCallData {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<HttpMethod>,
    pub url: String,
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    #[schemars(with = "std::collections::BTreeMap<String, String>")]
    pub headers: Dict,
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub query: Dict,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_ms: Option<u64>,
}

/// A field mapping (paths over the upstream output, or templates), or a JavaScript expression.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TransformData {
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    #[schemars(with = "std::collections::BTreeMap<String, String>")]
    pub mapping: Dict,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expression: Option<String>,
}

/// Filter and Branch: a JavaScript condition over `input`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ConditionData {
    pub condition: String,
}

/// A JavaScript function body run in the sandbox; what it returns is the node's output.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ScriptData {
    pub code: String,
}

/// Another capability's action (or a standard action), version-pinned.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CallData {
    pub capability: String,
    pub action: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// The called action's input: a map of templates, or (for imported workflow steps) any value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<Value>,
    /// Workflow-step extras, kept so a workflow round-trips: further parameters, the name later
    /// steps use for the result, a condition and retries.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub params: Dict,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub when: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry: Option<u32>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MergeData {}

/// Declares the action's outputs and how they are taken from the upstream output.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OutputData {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub outputs: Vec<Field>,
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    #[schemars(with = "std::collections::BTreeMap<String, String>")]
    pub mapping: Dict,
}

/// A node's data, parsed by kind.
#[derive(Debug, Clone, PartialEq)]
pub enum NodeData {
    Input(InputData),
    ApiCall(ApiCallData),
    Transform(TransformData),
    Filter(ConditionData),
    Branch(ConditionData),
    Script(ScriptData),
    CallCapability(CallData),
    Merge(MergeData),
    Output(OutputData),
}

impl NodeData {
    /// Parses `node.data` by the node's kind; the error names the offending key when serde does.
    pub fn parse(node: &FlowNode) -> Result<NodeData, String> {
        // Read in place: a large flow's data is not copied to be parsed.
        let v = &node.data;
        fn p<T: serde::de::DeserializeOwned>(m: &Map<String, Value>) -> Result<T, String> {
            let de = serde::de::value::MapDeserializer::<_, serde_json::Error>::new(
                m.iter().map(|(k, v)| (k.as_str(), v)),
            );
            T::deserialize(de).map_err(|e| e.to_string())
        }
        Ok(match node.ty.as_str() {
            "input" => NodeData::Input(p(v)?),
            "api_call" => NodeData::ApiCall(p(v)?),
            "transform" => NodeData::Transform(p(v)?),
            "filter" | "condition" => NodeData::Filter(p(v)?),
            "branch" => NodeData::Branch(p(v)?),
            "script" => NodeData::Script(p(v)?),
            "call_capability" => NodeData::CallCapability(p(v)?),
            "merge" => NodeData::Merge(p(v)?),
            "output" => NodeData::Output(p(v)?),
            other => return Err(format!("`{other}` is not a node kind")),
        })
    }

    /// The data as the map a node stores.
    pub fn to_map(&self) -> Map<String, Value> {
        let v = match self {
            NodeData::Input(d) => serde_json::to_value(d),
            NodeData::ApiCall(d) => serde_json::to_value(d),
            NodeData::Transform(d) => serde_json::to_value(d),
            NodeData::Filter(d) | NodeData::Branch(d) => serde_json::to_value(d),
            NodeData::Script(d) => serde_json::to_value(d),
            NodeData::CallCapability(d) => serde_json::to_value(d),
            NodeData::Merge(d) => serde_json::to_value(d),
            NodeData::Output(d) => serde_json::to_value(d),
        };
        match v {
            Ok(Value::Object(m)) => m,
            _ => Map::new(),
        }
    }
}

/// The JSON Schema of one node, for the flow schema: `type` picks the shape of `data`.
#[derive(Serialize, Deserialize, JsonSchema)]
#[serde(tag = "type", content = "data", rename_all = "snake_case")]
#[allow(dead_code)]
pub enum NodeSchema {
    Input(InputData),
    ApiCall(ApiCallData),
    Transform(TransformData),
    Filter(ConditionData),
    Branch(ConditionData),
    Script(ScriptData),
    CallCapability(CallData),
    Merge(MergeData),
    Output(OutputData),
}

/// One node of a flow, for the schema: an id, a position and the data of its kind.
#[derive(Serialize, Deserialize, JsonSchema)]
#[allow(dead_code)]
pub struct NodeEntrySchema {
    /// Unique within the flow; other nodes' templates name it (`${crm.name}`).
    pub id: String,
    pub position: crate::manifest::model::Position,
    #[serde(flatten)]
    pub node: NodeSchema,
}

/// One action's flow: its nodes, the edges between their handles, and the canvas viewport.
#[derive(Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "Capsmith flow")]
#[allow(dead_code)]
pub struct FlowSchema {
    /// The action this flow implements (`workflow` for a workflow without actions).
    pub action: String,
    pub nodes: Vec<NodeEntrySchema>,
    #[serde(default)]
    pub edges: Vec<crate::manifest::model::FlowEdge>,
    #[serde(default)]
    pub viewport: Option<crate::manifest::model::Viewport>,
}

pub const FLOW_SCHEMA_ID: &str = "https://capsmith.dev/schema/flow.schema.json";

/// The JSON Schema of a flow (an item of a flow document's `capability.flows`).
pub fn flow_schema_string() -> String {
    let mut v = serde_json::to_value(schemars::schema_for!(FlowSchema)).unwrap_or_default();
    // `data` may be left out (the kind's defaults), as the parser allows.
    fn optional_data(v: &mut Value) {
        match v {
            Value::Object(m) => {
                if let Some(Value::Array(req)) = m.get_mut("required") {
                    req.retain(|r| r != "data");
                }
                m.values_mut().for_each(optional_data);
            }
            Value::Array(a) => a.iter_mut().for_each(optional_data),
            _ => {}
        }
    }
    optional_data(&mut v);
    if let Some(obj) = v.as_object_mut() {
        obj.insert("$id".into(), FLOW_SCHEMA_ID.into());
    }
    let mut s = serde_json::to_string_pretty(&v).unwrap_or_default();
    s.push('\n');
    s
}

/// Serde's message for an unknown key (`unknown field `x`, expected one of …`) names the key;
/// this pulls it out so the diagnostic can point at `data.<key>`.
pub fn unknown_key(message: &str) -> Option<&str> {
    let rest = message.strip_prefix("unknown field `")?;
    Some(&rest[..rest.find('`')?])
}
