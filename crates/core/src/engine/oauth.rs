//! OAuth2 authorization code with PKCE through a loopback redirect (RFC 7636, RFC 8252):
//! a one-shot listener on 127.0.0.1 receives the browser's redirect, the code is exchanged at
//! the token endpoint (under the network guard), and tokens are refreshed when they expire.

use std::time::Duration;

use base64::Engine as _;
use serde_json::Value;
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use crate::engine::guard::NetPolicy;
use crate::engine::http::{Prepared, Session};
use crate::engine::EngineError;
use crate::sensitive::Sensitive;

/// Tokens from a token endpoint.
#[derive(Debug, Clone)]
pub struct Tokens {
    pub access_token: Sensitive<String>,
    pub refresh_token: Option<Sensitive<String>>,
    /// Seconds until the access token expires, when the server says.
    pub expires_in: Option<u64>,
}

fn random_urlsafe(bytes: usize) -> Result<String, EngineError> {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf).map_err(|e| EngineError::BadRequest {
        message: format!("no randomness available: {e}"),
    })?;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(buf))
}

/// A PKCE verifier and its S256 challenge.
pub fn pkce() -> Result<(String, String), EngineError> {
    let verifier = random_urlsafe(48)?;
    let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(Sha256::digest(verifier.as_bytes()));
    Ok((verifier, challenge))
}

/// What the flow needs from the manifest and configuration.
pub struct Client {
    pub authorization_url: url::Url,
    pub token_url: url::Url,
    pub scopes: Vec<String>,
    pub client_id: String,
    pub client_secret: Option<Sensitive<String>>,
    /// Limits and explicit host exceptions from settings.
    pub policy: NetPolicy,
}

/// Runs the whole flow: `open_browser` is handed the authorization URL; the redirect must
/// arrive within `wait`.
pub async fn authorize(
    client: &Client,
    open_browser: impl FnOnce(&url::Url),
    wait: Duration,
) -> Result<Tokens, EngineError> {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| EngineError::Network {
            message: format!("cannot listen for the redirect: {e}"),
        })?;
    let port = listener
        .local_addr()
        .map_err(|e| EngineError::Network {
            message: e.to_string(),
        })?
        .port();
    let redirect_uri = format!("http://127.0.0.1:{port}/callback");
    let (verifier, challenge) = pkce()?;
    let state = random_urlsafe(24)?;
    let mut auth = client.authorization_url.clone();
    auth.query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair("client_id", &client.client_id)
        .append_pair("redirect_uri", &redirect_uri)
        .append_pair("state", &state)
        .append_pair("code_challenge", &challenge)
        .append_pair("code_challenge_method", "S256");
    if !client.scopes.is_empty() {
        auth.query_pairs_mut()
            .append_pair("scope", &client.scopes.join(" "));
    }
    open_browser(&auth);
    let code = tokio::time::timeout(wait, receive_code(&listener, &state))
        .await
        .map_err(|_| EngineError::OAuth {
            message: format!("no authorization arrived within {} s", wait.as_secs()),
        })??;
    let mut form = vec![
        ("grant_type", "authorization_code".to_string()),
        ("code", code),
        ("redirect_uri", redirect_uri),
        ("client_id", client.client_id.clone()),
        ("code_verifier", verifier),
    ];
    if let Some(s) = &client.client_secret {
        form.push(("client_secret", s.expose().clone()));
    }
    token_request(client, form).await
}

/// Exchanges a refresh token for new tokens.
pub async fn refresh(
    client: &Client,
    refresh_token: &Sensitive<String>,
) -> Result<Tokens, EngineError> {
    let mut form = vec![
        ("grant_type", "refresh_token".to_string()),
        ("refresh_token", refresh_token.expose().clone()),
        ("client_id", client.client_id.clone()),
    ];
    if let Some(s) = &client.client_secret {
        form.push(("client_secret", s.expose().clone()));
    }
    token_request(client, form).await
}

/// Waits for the browser's redirect; answers it with a page the user can close.
async fn receive_code(listener: &TcpListener, state: &str) -> Result<String, EngineError> {
    loop {
        let (mut stream, _) = listener.accept().await.map_err(|e| EngineError::Network {
            message: e.to_string(),
        })?;
        let mut buf = vec![0u8; 8192];
        let n = stream.read(&mut buf).await.unwrap_or(0);
        let head = String::from_utf8_lossy(&buf[..n]).into_owned();
        let target = head.split_whitespace().nth(1).unwrap_or("/").to_string();
        let url = url::Url::parse(&format!("http://127.0.0.1{target}")).map_err(|e| {
            EngineError::OAuth {
                message: e.to_string(),
            }
        })?;
        if url.path() != "/callback" {
            let _ = stream
                .write_all(
                    b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                )
                .await;
            continue;
        }
        let q = |k: &str| {
            url.query_pairs()
                .find(|(n, _)| n == k)
                .map(|(_, v)| v.into_owned())
        };
        let (ok, result) = match (q("state"), q("code"), q("error")) {
            (_, _, Some(err)) => (
                false,
                Err(EngineError::OAuth {
                    message: format!(
                        "the provider refused: {err} {}",
                        q("error_description").unwrap_or_default()
                    ),
                }),
            ),
            (Some(s), Some(code), None) if s == state => (true, Ok(code)),
            (Some(_), _, None) => (
                false,
                Err(EngineError::OAuth {
                    message: "the redirect's state does not match; refused (possible forgery)"
                        .into(),
                }),
            ),
            _ => (
                false,
                Err(EngineError::OAuth {
                    message: "the redirect carries no code".into(),
                }),
            ),
        };
        let page = if ok {
            "<!doctype html><meta charset=utf-8><title>Capsmith</title><p>Connected. You can close this window and return to Capsmith.</p>"
        } else {
            "<!doctype html><meta charset=utf-8><title>Capsmith</title><p>Authorization failed. Return to Capsmith for details.</p>"
        };
        let _ = stream
            .write_all(format!("HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{page}", page.len()).as_bytes())
            .await;
        return result;
    }
}

async fn token_request(client: &Client, form: Vec<(&str, String)>) -> Result<Tokens, EngineError> {
    let mut policy = client.policy.clone();
    policy.domains = client
        .token_url
        .host_str()
        .map(|h| crate::engine::guard::scope_entry(h, client.token_url.port()))
        .into_iter()
        .collect();
    policy.may_post = true;
    policy.may_get = false;
    let secrets: Vec<String> = form
        .iter()
        .filter(|(k, _)| {
            matches!(
                *k,
                "code" | "code_verifier" | "refresh_token" | "client_secret"
            )
        })
        .map(|(_, v)| v.clone())
        .collect();
    let mut session = Session::new(policy, secrets);
    let body = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(form.iter().map(|(k, v)| (*k, v.as_str())))
        .finish();
    let ex = session
        .send(Prepared {
            method: reqwest::Method::POST,
            url: client.token_url.clone(),
            headers: vec![
                (
                    "Content-Type".into(),
                    "application/x-www-form-urlencoded".into(),
                ),
                ("Accept".into(), "application/json".into()),
            ],
            body: Some(body.into_bytes()),
        })
        .await?;
    let v: Value = serde_json::from_slice(&ex.body).map_err(|_| EngineError::OAuth {
        message: format!("the token endpoint answered {} with no JSON", ex.status),
    })?;
    if !(200..300).contains(&ex.status) || v.get("error").is_some() {
        let err = v.get("error").and_then(Value::as_str).unwrap_or("error");
        return Err(EngineError::OAuth {
            message: format!("the token endpoint refused ({}): {err}", ex.status),
        });
    }
    let access = v
        .get("access_token")
        .and_then(Value::as_str)
        .ok_or_else(|| EngineError::OAuth {
            message: "the token endpoint sent no access_token".into(),
        })?;
    Ok(Tokens {
        access_token: Sensitive::new(access.to_string()),
        refresh_token: v
            .get("refresh_token")
            .and_then(Value::as_str)
            .map(|s| Sensitive::new(s.to_string())),
        expires_in: v.get("expires_in").and_then(Value::as_u64),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pkce_challenge_is_s256_of_the_verifier() {
        let (v, c) = pkce().unwrap();
        assert!(v.len() >= 43 && v.len() <= 128);
        let expect =
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(v.as_bytes()));
        assert_eq!(c, expect);
        assert_ne!(pkce().unwrap().0, v);
    }
}
