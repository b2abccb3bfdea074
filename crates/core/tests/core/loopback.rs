//! A real HTTP/1.1 server on 127.0.0.1 standing in for remote APIs (a weather API, a
//! Slack-like connector) and for hostile servers (redirect chains, endless bodies, gzip bombs,
//! tricklers). It records every request it receives, so guard tests can assert that a refused
//! request never arrived.

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

#[derive(Debug, Clone)]
pub struct Received {
    pub method: String,
    pub target: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Received {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// The OAuth2 authorization server stand-in's memory.
#[derive(Default)]
pub struct OAuthState {
    /// code → (PKCE challenge, redirect_uri, client_id)
    pub codes: std::collections::HashMap<String, (String, String, String)>,
    /// Access tokens the protected API accepts.
    pub valid: std::collections::HashSet<String>,
    pub issued: u32,
}

#[derive(Clone)]
pub struct Loopback {
    pub port: u16,
    pub received: Arc<Mutex<Vec<Received>>>,
    pub oauth: Arc<Mutex<OAuthState>>,
}

impl Loopback {
    pub async fn start() -> Loopback {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let received = Arc::new(Mutex::new(Vec::new()));
        let oauth = Arc::new(Mutex::new(OAuthState::default()));
        let gzip_bomb = gzip_bomb();
        let (rec, oa) = (received.clone(), oauth.clone());
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    break;
                };
                let (rec, bomb, oa) = (rec.clone(), gzip_bomb.clone(), oa.clone());
                tokio::spawn(async move {
                    let _ = serve(stream, rec, port, bomb, oa).await;
                });
            }
        });
        Loopback {
            port,
            received,
            oauth,
        }
    }

    pub fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn requests(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    pub fn clear(&self) {
        self.received.lock().unwrap().clear();
    }
}

/// 16 MiB of zeros, gzipped to a few kilobytes: far past the 1 MiB cap the tests set. Built
/// once per test binary.
fn gzip_bomb() -> Arc<Vec<u8>> {
    static BOMB: std::sync::OnceLock<Arc<Vec<u8>>> = std::sync::OnceLock::new();
    BOMB.get_or_init(|| Arc::new(gzip_zeros(16 * 1024 * 1024)))
        .clone()
}

fn gzip_zeros(n: usize) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    let chunk = vec![0u8; 1024 * 1024];
    for _ in 0..n / chunk.len() {
        e.write_all(&chunk).unwrap();
    }
    e.finish().unwrap()
}

async fn read_request(stream: &mut TcpStream) -> Option<Received> {
    let mut buf = Vec::new();
    let mut tmp = [0u8; 4096];
    let head_end = loop {
        let n = stream.read(&mut tmp).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&tmp[..n]);
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i;
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let mut first = lines.next()?.split(' ');
    let method = first.next()?.to_string();
    let target = first.next()?.to_string();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| {
            l.split_once(':')
                .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        })
        .collect();
    let len: usize = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = buf[head_end + 4..].to_vec();
    while body.len() < len {
        let n = stream.read(&mut tmp).await.ok()?;
        if n == 0 {
            break;
        }
        body.extend_from_slice(&tmp[..n]);
    }
    Some(Received {
        method,
        target,
        headers,
        body,
    })
}

async fn respond(
    stream: &mut TcpStream,
    status: &str,
    headers: &[(&str, String)],
    body: &[u8],
) -> std::io::Result<()> {
    let mut head = format!(
        "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(body).await?;
    stream.shutdown().await
}

async fn json_reply(stream: &mut TcpStream, status: &str, v: Value) -> std::io::Result<()> {
    respond(
        stream,
        status,
        &[("Content-Type", "application/json".into())],
        v.to_string().as_bytes(),
    )
    .await
}

fn bearer_ok(r: &Received, token: &str) -> bool {
    r.header("authorization") == Some(&format!("Bearer {token}"))
}

/// The token the stand-in APIs accept.
pub const WEATHER_KEY: &str = "wk-test-4242";
pub const CRM_KEY: &str = "crm-test-1234";
pub const SLACK_TOKEN: &str = "xoxb-test-token-7";

async fn serve(
    mut stream: TcpStream,
    rec: Arc<Mutex<Vec<Received>>>,
    port: u16,
    bomb: Arc<Vec<u8>>,
    oauth: Arc<Mutex<OAuthState>>,
) -> std::io::Result<()> {
    let Some(req) = read_request(&mut stream).await else {
        return Ok(());
    };
    rec.lock().unwrap().push(req.clone());
    let url = url::Url::parse(&format!("http://127.0.0.1:{port}{}", req.target)).unwrap();
    let path = url.path().to_string();
    let q = |k: &str| {
        url.query_pairs()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.into_owned())
    };
    match (req.method.as_str(), path.as_str()) {
        ("GET", "/v1/current") => {
            if !bearer_ok(&req, WEATHER_KEY) {
                return json_reply(&mut stream, "401 Unauthorized", json!({"error": "bad key"})).await;
            }
            let loc = q("location").unwrap_or_default();
            json_reply(&mut stream, "200 OK", json!({"data": {"location": loc, "temp": 72, "weather": [{"main": "Sunny"}], "main": {"humidity": 45}}})).await
        }
        ("POST", "/api/chat.postMessage") => {
            if !bearer_ok(&req, SLACK_TOKEN) {
                return json_reply(&mut stream, "200 OK", json!({"ok": false, "error": "invalid_auth"})).await;
            }
            let body: Value = serde_json::from_slice(&req.body).unwrap_or(Value::Null);
            json_reply(&mut stream, "200 OK", json!({"ok": true, "channel": body["channel"], "message": {"text": body["text"]}, "ts": "1700000000.000100"})).await
        }
        ("GET", p) if p.starts_with("/api/customers/") => {
            // The design's CRM: customers by id, behind an API key.
            if req.header("x-api-key") != Some(CRM_KEY) {
                return json_reply(&mut stream, "401 Unauthorized", json!({"error": "bad key"})).await;
            }
            let id = &p["/api/customers/".len()..];
            match id {
                "c-42" => json_reply(&mut stream, "200 OK", json!({"id": id, "name": "Ada Lovelace", "email": "ada@example.com", "tier": "gold", "orders": [{"total": 120}, {"total": 80}]})).await,
                "c-7" => json_reply(&mut stream, "200 OK", json!({"id": id, "name": "Charles Babbage", "email": "charles@example.com", "tier": "basic", "orders": []})).await,
                _ => json_reply(&mut stream, "404 Not Found", json!({"error": "no such customer"})).await,
            }
        }
        ("GET", "/api/conversations.list") => {
            json_reply(&mut stream, "200 OK", json!({"ok": true, "channels": [{"id": "C1", "name": "general"}, {"id": "C2", "name": "random"}]})).await
        }
        (_, "/echo") | (_, "/echo/x") => {
            let headers: serde_json::Map<String, Value> = req.headers.iter().map(|(k, v)| (k.to_ascii_lowercase(), json!(v))).collect();
            json_reply(
                &mut stream,
                "200 OK",
                json!({"method": req.method, "target": req.target, "headers": headers, "body": String::from_utf8_lossy(&req.body)}),
            )
            .await
        }
        (_, p) if p.starts_with("/echo/") => {
            json_reply(&mut stream, "200 OK", json!({"method": req.method, "target": req.target})).await
        }
        (_, "/redirect") => {
            // /redirect?n=N: N more hops on this server, then /echo.
            let n: u32 = q("n").and_then(|n| n.parse().ok()).unwrap_or(0);
            let next = if n == 0 { "/echo".to_string() } else { format!("/redirect?n={}", n - 1) };
            respond(&mut stream, "302 Found", &[("Location", next)], b"").await
        }
        (_, "/redirect-to") => {
            let status = q("status").unwrap_or_else(|| "302".into());
            let phrase = match status.as_str() {
                "301" => "301 Moved Permanently",
                "303" => "303 See Other",
                "307" => "307 Temporary Redirect",
                "308" => "308 Permanent Redirect",
                _ => "302 Found",
            };
            respond(&mut stream, phrase, &[("Location", q("to").unwrap_or_default())], b"").await
        }
        (_, "/endless") => {
            // A chunked body that never ends (stands in for a 10 GB download); stops when the
            // client goes away, and after at most 10 GB in any case.
            stream
                .write_all(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n")
                .await?;
            let chunk = vec![b'x'; 64 * 1024];
            let framed = [format!("{:x}\r\n", chunk.len()).into_bytes(), chunk, b"\r\n".to_vec()].concat();
            for _ in 0..(10u64 << 30) / (64 * 1024) {
                if stream.write_all(&framed).await.is_err() {
                    break;
                }
            }
            Ok(())
        }
        (_, "/gzip-bomb") => {
            respond(&mut stream, "200 OK", &[("Content-Type", "application/json".into()), ("Content-Encoding", "gzip".into())], &bomb).await
        }
        (_, "/trickle") => {
            stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n").await?;
            for _ in 0..1000 {
                if stream.write_all(b" ").await.is_err() {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(300)).await;
            }
            Ok(())
        }
        ("GET", "/oauth/authorize") => {
            // The user "approves" at once: redirect back with a code bound to the challenge.
            let (Some(redirect), Some(state), Some(challenge), Some(client)) = (q("redirect_uri"), q("state"), q("code_challenge"), q("client_id")) else {
                return json_reply(&mut stream, "400 Bad Request", json!({"error": "invalid_request"})).await;
            };
            if q("code_challenge_method").as_deref() != Some("S256") || q("response_type").as_deref() != Some("code") {
                return json_reply(&mut stream, "400 Bad Request", json!({"error": "invalid_request"})).await;
            }
            let code = format!("code-{}", state.len() + challenge.len());
            oauth.lock().unwrap().codes.insert(code.clone(), (challenge, redirect.clone(), client));
            respond(&mut stream, "302 Found", &[("Location", format!("{redirect}?code={code}&state={state}"))], b"").await
        }
        ("POST", "/oauth/token") => {
            use base64::Engine as _;
            use sha2::Digest as _;
            let form: std::collections::HashMap<String, String> = url::form_urlencoded::parse(&req.body).into_owned().collect();
            // The guard must be gone before any await: compute the answer in a block.
            let issued = {
                let mut st = oauth.lock().unwrap();
                let grant = form.get("grant_type").cloned().unwrap_or_default();
                let ok = match grant.as_str() {
                    "authorization_code" => {
                        let entry = form.get("code").and_then(|c| st.codes.remove(c));
                        match (entry, form.get("code_verifier")) {
                            (Some((challenge, redirect, client)), Some(verifier)) => {
                                let computed = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(verifier.as_bytes()));
                                computed == challenge && form.get("redirect_uri") == Some(&redirect) && form.get("client_id") == Some(&client)
                            }
                            _ => false,
                        }
                    }
                    "refresh_token" => form.get("refresh_token").is_some_and(|r| r.starts_with("rt-")),
                    _ => false,
                };
                if ok {
                    st.issued += 1;
                    let n = st.issued;
                    st.valid.insert(format!("at-{n}"));
                    Some(n)
                } else {
                    None
                }
            };
            match issued {
                None => json_reply(&mut stream, "400 Bad Request", json!({"error": "invalid_grant"})).await,
                Some(n) => json_reply(&mut stream, "200 OK", json!({"access_token": format!("at-{n}"), "refresh_token": format!("rt-{n}"), "token_type": "Bearer", "expires_in": 3600})).await,
            }
        }
                ("POST", "/v1/chat/completions") => {
            // An OpenAI-compatible stand-in: answers the last user message in capitals.
            if req.header("authorization") != Some("Bearer ai-key-1") {
                return json_reply(&mut stream, "401 Unauthorized", json!({"error": {"message": "bad key"}})).await;
            }
            let body: Value = serde_json::from_slice(&req.body).unwrap_or(Value::Null);
            let last = body["messages"].as_array().and_then(|m| m.last()).and_then(|m| m["content"].as_str()).unwrap_or("").to_uppercase();
            json_reply(&mut stream, "200 OK", json!({"model": body["model"], "choices": [{"message": {"role": "assistant", "content": last}}], "usage": {"total_tokens": 7}})).await
        }
        ("GET", "/api/profile") => {
            let token = req.header("authorization").and_then(|h| h.strip_prefix("Bearer ")).unwrap_or("").to_string();
            let valid = oauth.lock().unwrap().valid.contains(&token);
            if valid {
                json_reply(&mut stream, "200 OK", json!({"user": "ada", "token_used": token})).await
            } else {
                json_reply(&mut stream, "401 Unauthorized", json!({"error": "invalid_token"})).await
            }
        }
        (_, "/many-headers") => {
            let headers: Vec<(&str, String)> = (0..150).map(|i| ("X-Filler", format!("value-{i}"))).collect();
            respond(&mut stream, "200 OK", &headers, b"{}").await
        }
        _ => json_reply(&mut stream, "404 Not Found", json!({"error": "no such route", "path": path})).await,
    }
}
