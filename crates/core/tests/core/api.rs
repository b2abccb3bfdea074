//! The operations the app and the CLI share.

use capsmith_core::api::{self, Capsmith};

use crate::examples_dir;

#[tokio::test]
async fn uploads_validate_and_import_from_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let app = Capsmith::open(dir.path().to_path_buf()).await.unwrap();
    let r = api::validate_bytes("x.yaml", b"capability:\n  id: Bad\n");
    assert!(!r.valid);
    let err = app
        .import_bytes("x.yaml", b"capability: [1]\n")
        .await
        .unwrap_err();
    let dto = capsmith_core::api::dto::ApiError::from(&err);
    assert_eq!(dto.kind, "invalid_manifest");
    assert!(dto.report.is_some());
    let text = std::fs::read(examples_dir().join("text-toolkit.yaml")).unwrap();
    let text = String::from_utf8(text)
        .unwrap()
        .replace("text-toolkit", "text-toolkit-2");
    let out = app.import_bytes("t.yaml", text.as_bytes()).await.unwrap();
    assert_eq!(
        (out.id.as_str(), out.version.as_str()),
        ("text-toolkit-2", "0.3.0")
    );
    let d = app.detail("text-toolkit-2", None).await.unwrap();
    assert_eq!(d.actions.len(), 2);
    assert_eq!(d.actions[0].inputs[0].name, "text");
}

#[tokio::test]
async fn detail_and_export_of_a_connector() {
    let dir = tempfile::tempdir().unwrap();
    let app = Capsmith::open(dir.path().to_path_buf()).await.unwrap();
    let d = app.detail("slack-integration", None).await.unwrap();
    assert_eq!(
        d.actions.iter().map(|a| a.id.as_str()).collect::<Vec<_>>(),
        vec!["send-message", "list-channels"]
    );
    assert!(d.permissions.is_empty());
    assert_eq!(
        d.inferred_permissions,
        vec!["network.http.get", "network.http.post"]
    );
    assert_eq!(d.allowed_domains, vec!["slack.com"]);
    let json = app.export("slack-integration", None, "json").await.unwrap();
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(
        v["capability"]["endpoints"][0]["inputs"]["channel"]["required"],
        true
    );
    let e = app
        .export("slack-integration", None, "toml")
        .await
        .unwrap_err();
    assert_eq!(e.kind(), "invalid_argument");
}

#[tokio::test]
async fn export_to_dir_never_overwrites() {
    let dir = tempfile::tempdir().unwrap();
    let app = Capsmith::open(dir.path().join("home")).await.unwrap();
    let out = dir.path().join("out");
    let a = app
        .export_to_dir("weather-lookup", None, "yaml", &out)
        .await
        .unwrap();
    let b = app
        .export_to_dir("weather-lookup", None, "yaml", &out)
        .await
        .unwrap();
    assert_eq!(a.file_name().unwrap(), "weather-lookup-1.0.0.yaml");
    assert_eq!(b.file_name().unwrap(), "weather-lookup-1.0.0-2.yaml");
    let text = std::fs::read_to_string(&a).unwrap();
    let again = capsmith_core::validate::check_bytes("a.yaml", text.as_bytes());
    assert!(again.is_valid(), "{:#?}", again.diagnostics);
}

#[test]
fn specs_parse() {
    assert_eq!(
        api::parse_spec("a@1.0.0"),
        ("a".into(), Some("1.0.0".into()))
    );
    assert_eq!(api::parse_spec("a"), ("a".into(), None));
}
