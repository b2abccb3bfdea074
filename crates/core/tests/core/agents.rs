//! Agents: consent, dependency resolution with PubGrub over the library's versions, actions
//! registered as `capability.action`, runs recorded with the agent.

use capsmith_core::api::run::Origin;
use capsmith_core::api::Capsmith;
use capsmith_core::CoreError;
use serde_json::json;
use sqlx::Row;

/// A code capability `id@version` depending on `deps` (`[(id, requirement)]`).
fn code_cap(id: &str, version: &str, deps: &[(&str, &str)]) -> String {
    let deps: String = deps
        .iter()
        .map(|(d, r)| format!("    - {{ id: {d}, version: \"{r}\" }}\n"))
        .collect();
    format!(
        "capability:\n  id: {id}\n  name: {id}\n  version: {version}\n  type: code\n  actions:\n    - id: echo\n  permissions: [compute.light]\n{}  code:\n    source: |\n      export default {{ actions: {{ echo(input) {{ return {{ from: '{id}@{version}', input }}; }} }} }};\n",
        if deps.is_empty() { String::new() } else { format!("  dependencies:\n{deps}") }
    )
}

async fn app() -> (tempfile::TempDir, Capsmith) {
    let dir = tempfile::tempdir().unwrap();
    let app = Capsmith::open(dir.path().join("home")).await.unwrap();
    (dir, app)
}

#[tokio::test]
async fn consent_then_actions_registered_and_runs_recorded_with_the_agent() {
    let (_d, app) = app().await;
    let a = app
        .agent_create("Research Assistant", Some("helps"))
        .await
        .unwrap();
    assert_eq!(a.id, "research-assistant");
    let plan = app
        .agent_plan("research-assistant", "text-toolkit", None)
        .await
        .unwrap();
    let perms: Vec<&str> = plan.permissions.iter().map(|(p, _)| p.as_str()).collect();
    assert!(!perms.is_empty());
    let err = app
        .agent_add("research-assistant", "text-toolkit", None, &[])
        .await
        .unwrap_err();
    assert!(
        matches!(&err, CoreError::ConsentRequired { permissions, .. } if !permissions.is_empty()),
        "{err}"
    );
    assert!(
        app.agent("research-assistant")
            .await
            .unwrap()
            .capabilities
            .is_empty(),
        "nothing added without consent"
    );
    let consent: Vec<String> = perms.iter().map(|p| p.to_string()).collect();
    let a = app
        .agent_add("Research Assistant", "text-toolkit", None, &consent)
        .await
        .unwrap();
    assert!(a.capabilities[0]
        .actions
        .contains(&"text-toolkit.wordCount".to_string()));

    let r = app
        .agent_run(
            "research-assistant",
            "text-toolkit.wordCount",
            &json!({"text": "one two three"}),
            Origin::Test,
        )
        .await
        .unwrap();
    assert!(r.ok, "{:?}", r.error);
    assert_eq!(r.output.unwrap()["words"], 3);
    let row = sqlx::query("SELECT agent_id FROM executions WHERE id = ?")
        .bind(r.execution_id)
        .fetch_one(app.registry().pool())
        .await
        .unwrap();
    assert_eq!(row.get::<String, _>("agent_id"), "research-assistant");
    let missing = app
        .agent_run(
            "research-assistant",
            "weather-lookup.get-weather",
            &json!({}),
            Origin::Test,
        )
        .await;
    assert!(matches!(missing, Err(CoreError::InvalidArgument(_))));

    // Removing it unregisters its actions.
    app.agent_remove("research-assistant", "text-toolkit")
        .await
        .unwrap();
    let gone = app
        .agent_run(
            "research-assistant",
            "text-toolkit.wordCount",
            &json!({"text": "x"}),
            Origin::Test,
        )
        .await;
    assert!(matches!(gone, Err(CoreError::InvalidArgument(_))));
}

#[tokio::test]
async fn dependencies_resolve_together_and_conflicts_are_explained() {
    let (_d, app) = app().await;
    for (id, v, deps) in [
        ("lib-a", "1.0.0", vec![]),
        ("lib-a", "1.4.0", vec![]),
        ("lib-a", "2.0.0", vec![]),
        ("app-x", "1.0.0", vec![("lib-a", "^1")]),
        ("app-y", "1.0.0", vec![("lib-a", ">=2")]),
    ] {
        app.import_bytes(&format!("{id}-{v}.yaml"), code_cap(id, v, &deps).as_bytes())
            .await
            .unwrap_or_else(|e| panic!("{id}@{v}: {e}"));
    }
    app.agent_create("Builder", None).await.unwrap();
    let ok = ["compute.light".to_string()];
    let a = app.agent_add("builder", "app-x", None, &ok).await.unwrap();
    let have: Vec<(String, String)> = a
        .capabilities
        .iter()
        .map(|c| (c.capability.clone(), c.version.clone()))
        .collect();
    assert!(
        have.contains(&("lib-a".into(), "1.4.0".into())),
        "the newest ^1: {have:?}"
    );
    assert!(have.contains(&("app-x".into(), "1.0.0".into())));

    let err = app
        .agent_add("builder", "app-y", None, &ok)
        .await
        .unwrap_err();
    let CoreError::Unresolvable { explanation } = &err else {
        panic!("{err}")
    };
    assert!(
        explanation.contains("lib-a")
            && explanation.contains("app-y")
            && explanation.contains("app-x"),
        "{explanation}"
    );
    assert_eq!(
        app.agent("builder").await.unwrap().capabilities.len(),
        2,
        "unchanged"
    );

    // A dependency in use stays; the capability using it can go.
    let in_use = app.agent_remove("builder", "lib-a").await.unwrap_err();
    assert!(matches!(in_use, CoreError::InUse { .. }), "{in_use}");
    app.agent_remove("builder", "app-x").await.unwrap();
    // Pinning picks that version exactly.
    let pinned = app
        .agent_add("builder", "lib-a", Some("2.0.0"), &ok)
        .await
        .unwrap();
    let c = pinned
        .capabilities
        .iter()
        .find(|c| c.capability == "lib-a")
        .unwrap();
    assert!(c.pinned && c.version == "2.0.0");
}
