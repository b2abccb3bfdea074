//! Sending requests under the guard: one client per hop (its resolver filters the addresses
//! for exactly that host), redirects followed here hop by hop and re-checked, secrets dropped
//! on a cross-origin hop, an absolute deadline over each whole exchange, and caps on response
//! headers and (decompressed) body bytes.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use reqwest::Method;
use serde::Serialize;

use crate::engine::guard::{FilteringResolver, NetPolicy};
use crate::engine::EngineError;

/// One request the engine will make.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub method: Method,
    pub url: url::Url,
    pub headers: Vec<(String, String)>,
    pub body: Option<Vec<u8>>,
}

/// What a run shows of each call (redacted).
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize, ts_rs::TS)]
pub struct CallTrace {
    pub method: String,
    pub url: String,
    pub status: Option<u16>,
    pub duration_ms: f64,
    pub bytes_out: u64,
    pub bytes_in: u64,
    pub error: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Exchange {
    pub status: u16,
    pub content_type: Option<String>,
    pub body: Vec<u8>,
}

/// The network side of one run: the policy, the call budget, the trace, and the secret values
/// that must never leave for another origin or appear in a trace.
pub struct Session {
    pub policy: NetPolicy,
    pub calls: u32,
    pub trace: Vec<CallTrace>,
    pub secrets: Vec<String>,
    /// Calls counted across sessions of one run (workflow steps running side by side share
    /// the run's budget).
    pub shared_calls: Option<std::sync::Arc<std::sync::atomic::AtomicU32>>,
}

const SECRET_HEADERS: &[&str] = &[
    "authorization",
    "proxy-authorization",
    "cookie",
    "x-api-key",
    "api-key",
    "x-auth-token",
];

impl Session {
    pub fn new(policy: NetPolicy, secrets: Vec<String>) -> Self {
        Session {
            policy,
            calls: 0,
            trace: Vec::new(),
            secrets: secrets.into_iter().filter(|s| !s.is_empty()).collect(),
            shared_calls: None,
        }
    }

    /// This session counts its calls against `budget`, shared with other sessions.
    pub fn with_shared_calls(
        mut self,
        budget: std::sync::Arc<std::sync::atomic::AtomicU32>,
    ) -> Self {
        self.shared_calls = Some(budget);
        self
    }

    /// Replaces every secret value in `s` with `[redacted]`.
    pub fn redact(&self, s: &str) -> String {
        crate::sensitive::redact(s, &self.secrets)
    }

    fn carries_secret(&self, s: &str) -> bool {
        self.secrets.iter().any(|x| s.contains(x.as_str()))
    }

    /// Sends `req`, following redirects under the guard.
    pub async fn send(&mut self, mut req: Prepared) -> Result<Exchange, EngineError> {
        let mut hops = 0u32;
        loop {
            self.policy.check(&req.url, &req.method)?;
            let used = match &self.shared_calls {
                Some(shared) => shared.fetch_add(1, std::sync::atomic::Ordering::SeqCst),
                None => self.calls,
            };
            if used >= self.policy.max_calls {
                if let Some(shared) = &self.shared_calls {
                    shared.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
                }
                return Err(EngineError::CallBudgetExceeded {
                    limit: self.policy.max_calls,
                });
            }
            self.calls += 1;
            let started = Instant::now();
            let redacted_url = self.redact(req.url.as_str());
            let bytes_out = req.body.as_ref().map_or(0, |b| b.len() as u64);
            let result = self.one_hop(&req).await;
            let mut trace = CallTrace {
                method: req.method.to_string(),
                url: redacted_url,
                status: None,
                duration_ms: started.elapsed().as_secs_f64() * 1000.0,
                bytes_out,
                bytes_in: 0,
                error: None,
            };
            let hop = match result {
                Ok(h) => h,
                Err(e) => {
                    trace.error = Some(self.redact(&e.to_string()));
                    self.trace.push(trace);
                    return Err(e);
                }
            };
            trace.status = Some(hop.status);
            trace.bytes_in = hop.body.len() as u64;
            self.trace.push(trace);
            let Some(location) = hop
                .location
                .filter(|_| matches!(hop.status, 301 | 302 | 303 | 307 | 308))
            else {
                return Ok(Exchange {
                    status: hop.status,
                    content_type: hop.content_type,
                    body: hop.body,
                });
            };
            hops += 1;
            if hops > self.policy.max_redirects {
                return Err(EngineError::TooManyRedirects {
                    limit: self.policy.max_redirects,
                });
            }
            let next = req.url.join(&location).map_err(|e| EngineError::Network {
                message: format!("bad redirect location: {e}"),
            })?;
            if next.origin() != req.url.origin() {
                let keeps_body = matches!(hop.status, 307 | 308);
                if keeps_body
                    && req
                        .body
                        .as_ref()
                        .is_some_and(|b| self.carries_secret(&String::from_utf8_lossy(b)))
                {
                    return Err(EngineError::BadRequest {
                        message:
                            "refused to resend a request body that holds a secret to another origin"
                                .into(),
                    });
                }
                self.strip_secrets(&mut req, &next);
            }
            let url = if next.origin() != req.url.origin() {
                self.strip_query_secrets(next)
            } else {
                next
            };
            if hop.status == 303
                || (matches!(hop.status, 301 | 302)
                    && req.method != Method::GET
                    && req.method != Method::HEAD)
            {
                req.method = Method::GET;
                req.body = None;
                req.headers
                    .retain(|(k, _)| !k.eq_ignore_ascii_case("content-type"));
            }
            req.url = url;
        }
    }

    /// A cross-origin hop carries no credential: neither the usual auth headers nor any header
    /// whose value holds a secret.
    fn strip_secrets(&self, req: &mut Prepared, _next: &url::Url) {
        req.headers.retain(|(k, v)| {
            let lower = k.to_ascii_lowercase();
            !SECRET_HEADERS.contains(&lower.as_str()) && !self.carries_secret(v)
        });
    }

    fn strip_query_secrets(&self, mut url: url::Url) -> url::Url {
        let pairs: Vec<(String, String)> = url
            .query_pairs()
            .filter(|(_, v)| !self.carries_secret(v))
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        if pairs.is_empty() {
            url.set_query(None);
        } else {
            url.query_pairs_mut().clear().extend_pairs(pairs);
        }
        url
    }

    async fn one_hop(&self, req: &Prepared) -> Result<Hop, EngineError> {
        let host = req
            .url
            .host_str()
            .unwrap_or_default()
            .trim_matches(['[', ']'])
            .to_ascii_lowercase();
        let port = req.url.port_or_known_default().unwrap_or(443);
        let mut permit = HashSet::new();
        if self.policy.permits_private(&host, port) {
            permit.insert(host.clone());
        }
        let timeout = Duration::from_millis(self.policy.timeout_ms);
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .dns_resolver(Arc::new(FilteringResolver {
                permit_private: Arc::new(permit),
            }))
            .connect_timeout(timeout)
            .user_agent(concat!("Capsmith/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| EngineError::Network {
                message: e.to_string(),
            })?;
        let mut headers = HeaderMap::new();
        for (k, v) in &req.headers {
            if v.contains(['\r', '\n', '\0']) {
                return Err(EngineError::HeaderInjection { header: k.clone() });
            }
            let name =
                HeaderName::from_bytes(k.as_bytes()).map_err(|_| EngineError::BadRequest {
                    message: format!("`{k}` is not a header name"),
                })?;
            let value = HeaderValue::from_str(v)
                .map_err(|_| EngineError::HeaderInjection { header: k.clone() })?;
            headers.append(name, value);
        }
        let mut builder = client
            .request(req.method.clone(), req.url.clone())
            .headers(headers);
        if let Some(b) = &req.body {
            builder = builder.body(b.clone());
        }
        let max_bytes = self.policy.max_response_bytes;
        let timeout_ms = self.policy.timeout_ms;
        let (max_headers, max_header_bytes) =
            (self.policy.max_headers, self.policy.max_header_bytes);
        let exchange = async move {
            let mut resp = builder
                .send()
                .await
                .map_err(|e| classify(&e, &host, timeout_ms))?;
            let h = resp.headers();
            let header_bytes: usize = h.iter().map(|(k, v)| k.as_str().len() + v.len()).sum();
            if h.len() > max_headers || header_bytes > max_header_bytes {
                return Err(EngineError::ResponseHeadersTooLarge);
            }
            let status = resp.status().as_u16();
            let location = h
                .get(reqwest::header::LOCATION)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string);
            let content_type = h
                .get(reqwest::header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string);
            let mut body = Vec::new();
            while let Some(chunk) = resp
                .chunk()
                .await
                .map_err(|e| classify(&e, &host, timeout_ms))?
            {
                if body.len() as u64 + chunk.len() as u64 > max_bytes {
                    return Err(EngineError::ResponseTooLarge { limit: max_bytes });
                }
                body.extend_from_slice(&chunk);
            }
            Ok(Hop {
                status,
                location,
                content_type,
                body,
            })
        };
        match tokio::time::timeout(timeout, exchange).await {
            Ok(r) => r,
            Err(_) => Err(EngineError::Timeout {
                ms: self.policy.timeout_ms,
            }),
        }
    }
}

struct Hop {
    status: u16,
    location: Option<String>,
    content_type: Option<String>,
    body: Vec<u8>,
}

fn classify(e: &reqwest::Error, host: &str, timeout_ms: u64) -> EngineError {
    let mut chain = String::new();
    let mut src: Option<&dyn std::error::Error> = Some(e);
    while let Some(s) = src {
        chain.push_str(&s.to_string());
        chain.push_str(": ");
        src = s.source();
    }
    if chain.contains("PRIVATE_ADDRESS:") {
        return EngineError::PrivateAddress {
            host: host.to_string(),
            addr: "an address the guard refuses".into(),
        };
    }
    if e.is_timeout() {
        return EngineError::Timeout { ms: timeout_ms };
    }
    if chain.contains("header") && (chain.contains("too large") || chain.contains("too many")) {
        return EngineError::ResponseHeadersTooLarge;
    }
    EngineError::Network {
        message: chain.trim_end_matches(": ").to_string(),
    }
}
