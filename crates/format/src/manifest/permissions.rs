//! The permission vocabulary (the design's AVAILABLE_PERMISSIONS) and what each kind of
//! integration needs, so validation can tell a manifest what it forgot to ask for.

/// Every permission a capability may ask for, with what it grants.
pub const AVAILABLE_PERMISSIONS: &[(&str, &str)] = &[
    ("data.read", "Read data from databases"),
    ("data.write", "Write data to databases"),
    ("data.delete", "Delete data from databases"),
    ("network.http.get", "Make HTTP GET requests"),
    ("network.http.post", "Make HTTP POST requests"),
    ("network.websocket", "Use WebSocket connections"),
    ("ai.call", "Call AI/LLM services"),
    ("ai.embedding", "Generate embeddings"),
    ("ai.vision", "Use vision models"),
    ("file.read", "Read uploaded files"),
    ("file.write", "Create/modify files"),
    ("file.temporary", "Use temporary storage"),
    ("compute.light", "Light computation (< 1s)"),
    ("compute.moderate", "Moderate computation (< 10s)"),
    ("compute.heavy", "Heavy computation (< 60s)"),
    ("integration.email", "Send emails"),
    ("integration.calendar", "Access calendar"),
    ("integration.crm", "Access CRM"),
    ("context.user", "Access user information"),
    ("context.conversation", "Access conversation history"),
    ("context.files", "Access uploaded files"),
    ("knowledge.read", "Search the local knowledge folder"),
];

pub fn is_known(p: &str) -> bool {
    AVAILABLE_PERMISSIONS.iter().any(|(name, _)| *name == p)
}

pub fn describe(p: &str) -> Option<&'static str> {
    AVAILABLE_PERMISSIONS
        .iter()
        .find(|(name, _)| *name == p)
        .map(|(_, d)| *d)
}

/// The closest known permission, if one is close enough to be a likely typo or synonym
/// (`database.read` → `data.read`, `network.http.gett` → `network.http.get`).
pub fn suggest(p: &str) -> Option<&'static str> {
    let mut best: Option<(&str, f64)> = None;
    for (name, _) in AVAILABLE_PERMISSIONS {
        let score = strsim::jaro_winkler(p, name);
        if best.is_none_or(|(_, s)| score > s) {
            best = Some((name, score));
        }
    }
    best.filter(|(_, s)| *s >= 0.8).map(|(n, _)| n)
}

/// The permission a standard workflow action needs, when the action is one the platform
/// provides (see the design's invoice workflow).
pub fn for_standard_action(action: &str) -> Option<&'static str> {
    Some(match action {
        "ocr.extract" | "file.read" | "pdf.extract" => "file.read",
        "file.write" => "file.write",
        "ai.analyze" | "ai.call" | "ai.chat" => "ai.call",
        "ai.embed" => "ai.embedding",
        "database.insert" | "database.update" => "data.write",
        "database.query" => "data.read",
        "database.delete" => "data.delete",
        "email.send" => "integration.email",
        "knowledge.search" => "knowledge.read",
        "http.get" => "network.http.get",
        "http.post" => "network.http.post",
        "transform.js" | "logic.if" | "script.run" => "compute.light",
        "validate.schema" | "transform.map" | "log.write" | "flow.merge" => return None,
        _ => return None,
    })
}

/// Actions the platform provides to every workflow.
pub const STANDARD_ACTIONS: &[&str] = &[
    "ocr.extract",
    "pdf.extract",
    "file.read",
    "file.write",
    "ai.analyze",
    "ai.call",
    "ai.chat",
    "ai.embed",
    "validate.schema",
    "database.insert",
    "database.update",
    "database.query",
    "database.delete",
    "email.send",
    "knowledge.search",
    "http.get",
    "http.post",
    "transform.map",
    "log.write",
    // The steps a builder flow compiles to.
    "http.request",
    "transform.js",
    "logic.if",
    "script.run",
    "flow.merge",
];

/// Whether a step parameter is JavaScript (so `${…}` in it is a JS template literal).
pub fn is_javascript_param(action: &str, param: &str) -> bool {
    matches!(
        (action, param),
        ("script.run", "code") | ("transform.js", "expression") | ("logic.if", "condition")
    )
}

/// How a manifest's network scope names a host: `host` for the scheme's default port only, or
/// `host:port` for one other port (IPv6 in brackets then: `[::1]:8080`). Lowercase.
pub fn scope_entry(host: &str, port: Option<u16>) -> String {
    let host = host.trim_matches(['[', ']']).to_ascii_lowercase();
    match port {
        None => host,
        Some(p) if host.contains(':') => format!("[{host}]:{p}"),
        Some(p) => format!("{host}:{p}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions() {
        assert_eq!(suggest("database.read"), Some("data.read"));
        assert_eq!(suggest("network.http.gett"), Some("network.http.get"));
        assert_eq!(suggest("network.http.put"), Some("network.http.post"));
        assert_eq!(suggest("zzz"), None);
    }
}
