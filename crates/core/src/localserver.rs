//! The guard of Capsmith's own local servers (the webhook listener, `mcp serve --http`): who may
//! call them. A server on loopback is still reachable from every web page the user opens (an
//! `<img>` tag sends a GET without an `Origin`; DNS rebinding sends any `Host` and can then
//! read the answer), so each request must carry a secret only the user has, name the address
//! the server listens on, and come from no foreign origin.

use std::net::SocketAddr;

use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

/// A new secret for a local server's callers: 32 random bytes, hex.
pub fn new_secret() -> Result<String, String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| format!("no randomness for a secret: {e}"))?;
    Ok(hex::encode(bytes))
}

/// Whether a header may carry a credential, and so is never recorded: the usual ones, and any
/// name containing a word that credentials are named with.
pub fn credential_like(header: &str) -> bool {
    let h = header.to_ascii_lowercase();
    h == "authorization"
        || h == "proxy-authorization"
        || [
            "cookie",
            "token",
            "secret",
            "signature",
            "key",
            "password",
            "passwd",
            "session",
            "auth",
            "credential",
        ]
        .iter()
        .any(|w| h.contains(w))
}

/// The `Host` values that name `listen` itself: its address, and `localhost` on its port.
/// Anything else (a rebinding attacker's `evil.test:PORT`, a missing header) is refused.
pub fn host_allowed(host: Option<&str>, listen: SocketAddr) -> bool {
    let Some(host) = host else {
        return false;
    };
    let host = host.trim().to_ascii_lowercase();
    let port = listen.port();
    let mut allowed = vec![listen.to_string(), format!("localhost:{port}")];
    if listen.ip().is_ipv4() {
        allowed.push(format!("127.0.0.1:{port}"));
    }
    allowed.contains(&host)
}

/// An `Origin` is acceptable only when absent (not a browser) or the server's own address.
pub fn origin_allowed(origin: Option<&str>, listen: SocketAddr) -> bool {
    match origin {
        None => true,
        Some(o) => {
            let o = o.trim().to_ascii_lowercase();
            let host = o.strip_prefix("http://").unwrap_or("");
            host_allowed(Some(host), listen)
        }
    }
}

/// `Authorization: Bearer <secret>`, compared in constant time.
pub fn bearer_matches(authorization: Option<&str>, secret: &str) -> bool {
    let Some(given) = authorization.map(str::trim).and_then(|a| {
        a.strip_prefix("Bearer ")
            .or_else(|| a.strip_prefix("bearer "))
    }) else {
        return false;
    };
    let given = given.trim().as_bytes();
    given.len() == secret.len() && bool::from(given.ct_eq(secret.as_bytes()))
}

/// `X-Capsmith-Signature: sha256=<hex HMAC-SHA256 of the body under the secret>` (the
/// convention GitHub's webhooks use), compared in constant time.
pub fn signature_matches(signature: Option<&str>, secret: &str, body: &[u8]) -> bool {
    let Some(hex_sig) = signature
        .map(str::trim)
        .and_then(|s| s.strip_prefix("sha256="))
    else {
        return false;
    };
    let Ok(given) = hex::decode(hex_sig) else {
        return false;
    };
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else {
        return false;
    };
    mac.update(body);
    mac.verify_slice(&given).is_ok()
}

/// The signature header a caller sends for `body` (for examples and tests).
pub fn sign(secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_that_are_not_the_listener_are_refused() {
        let a: SocketAddr = "127.0.0.1:8787".parse().unwrap();
        assert!(host_allowed(Some("127.0.0.1:8787"), a));
        assert!(host_allowed(Some("LOCALHOST:8787"), a));
        for bad in [
            None,
            Some("evil.test"),
            Some("evil.test:8787"),
            Some("127.0.0.1"),
            Some("127.0.0.1:8788"),
            Some("127.0.0.1:8787.evil.test"),
            Some("localhost.evil.test:8787"),
            Some(""),
        ] {
            assert!(!host_allowed(bad, a), "{bad:?}");
        }
        let v6: SocketAddr = "[::1]:9000".parse().unwrap();
        assert!(host_allowed(Some("[::1]:9000"), v6));
        assert!(!host_allowed(Some("127.0.0.1:9000"), v6));
    }

    #[test]
    fn origins_other_than_the_server_are_refused() {
        let a: SocketAddr = "127.0.0.1:8765".parse().unwrap();
        assert!(origin_allowed(None, a));
        assert!(origin_allowed(Some("http://127.0.0.1:8765"), a));
        for bad in [
            "null",
            "https://evil.example",
            "http://127.0.0.1:8765.evil.example",
            "https://127.0.0.1:8765",
            "http://127.0.0.1",
            "file://",
        ] {
            assert!(!origin_allowed(Some(bad), a), "{bad}");
        }
    }

    #[test]
    fn bearer_and_signature_compare_the_whole_secret() {
        let s = "0123456789abcdef";
        assert!(bearer_matches(Some("Bearer 0123456789abcdef"), s));
        for bad in [
            None,
            Some(""),
            Some("Bearer "),
            Some("Bearer 0123456789abcde"),
            Some("Bearer 0123456789abcdef0"),
            Some("Basic 0123456789abcdef"),
            Some("0123456789abcdef"),
        ] {
            assert!(!bearer_matches(bad, s), "{bad:?}");
        }
        // RFC 4231, test case 2.
        let want = "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843";
        assert_eq!(sign("Jefe", b"what do ya want for nothing?"), want);
        assert!(signature_matches(
            Some(want),
            "Jefe",
            b"what do ya want for nothing?"
        ));
        assert!(!signature_matches(
            Some(want),
            "Jefe",
            b"what do ya want for nothing!"
        ));
        assert!(!signature_matches(
            Some(&want[..want.len() - 2]),
            "Jefe",
            b"what do ya want for nothing?"
        ));
        assert!(!signature_matches(Some("sha1=abc"), "Jefe", b""));
        assert!(!signature_matches(None, "Jefe", b""));
    }

    #[test]
    fn credential_like_headers() {
        for h in [
            "Authorization",
            "cookie",
            "X-Api-Key",
            "x-slack-signature",
            "X-Capsmith-Signature",
            "X-Hub-Signature-256",
            "x-auth-token",
            "X-Session-Id",
            "x-my-password",
            "stripe-signature",
            "x-client-secret",
        ] {
            assert!(credential_like(h), "{h}");
        }
        for h in ["content-type", "user-agent", "x-request-id", "accept"] {
            assert!(!credential_like(h), "{h}");
        }
    }
}
