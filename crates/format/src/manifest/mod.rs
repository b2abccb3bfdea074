//! Capability manifests: the typed format (`model`), reading YAML/JSON/JS sources into it with
//! positions (`source`, `yaml`, `json`, `doc`, `js`), permissions and templates, output
//! (`export`) and the JSON Schema (`schema`). Checking a file against the rules, embedded flows
//! included, is `crate::validate`, a layer above this one and `crate::flow`.

pub mod doc;
pub mod export;
pub mod js;
pub mod json;
pub mod model;
pub use crate::path;
pub mod permissions;
pub mod schema;
pub mod source;
pub mod template;
pub mod yaml;

pub use source::SourceFormat;

/// What a manifest declares as `field` (`id`, `version`), read from its text without evaluating
/// anything (a marketplace checks a package's signature with them before it validates the
/// package): a YAML or JSON manifest's `capability.<field>`, a JavaScript module's literal
/// `<field>:` in `export default { … }`. A manifest's missing version is `0.0.0`, as
/// [`model::Capability::version_or_default`]. `None` when the text does not parse or the value
/// is not a literal there.
pub fn declared(label: &str, text: &str, field: &str) -> Option<String> {
    let missing = (field == "version").then(|| "0.0.0".to_string());
    match SourceFormat::detect(label, text) {
        SourceFormat::Js => js::declared_string(text, field),
        SourceFormat::Yaml | SourceFormat::Json => {
            let docs = yaml_rust2::YamlLoader::load_from_str(text).ok()?;
            let cap = &docs.first()?["capability"];
            if cap.is_badvalue() {
                return None;
            }
            match &cap[field] {
                yaml_rust2::Yaml::BadValue | yaml_rust2::Yaml::Null => missing,
                yaml_rust2::Yaml::String(v) => Some(v.clone()),
                yaml_rust2::Yaml::Real(v) => Some(v.clone()),
                _ => None,
            }
        }
    }
}
