//! Capability packages: what the marketplace stores and serves, and what an install unpacks.
//!
//! A package is a gzip-compressed tar archive of a few well-known files: the manifest
//! (`manifest.yaml`, `manifest.json` or `manifest.js`, code inlined as the registry keeps it),
//! `README.md`, an optional icon (`icon.png` / `icon.svg`), the builder's flow source
//! (`flow.json`) and the test report made at publish (`tests.json`). It is identified by the
//! SHA-256 of the archive bytes and signed with the publisher's ed25519 key over
//! `capsmith-package-v1\n<id>@<version>\n<sha256>`, so a signature cannot be moved to another
//! capability, another version or other bytes.
//!
//! **Invariants:** `build` is deterministic (sorted entries, zero mtimes, fixed modes): the same
//! contents always give the same bytes and hash. `open` never writes to disk and refuses
//! anything but regular files with the names above: absolute paths, `..`, links, devices,
//! duplicates, too many entries, and more unpacked bytes than `MAX_UNPACKED_BYTES` (counted
//! while decompressing, so a gzip bomb stops early).

pub mod docs;

use std::io::Read;

use ed25519_dalek::{Signer, Verifier};
use sha2::Digest;

use crate::{FormatError, FormatResult};

/// Largest archive accepted (compressed).
pub const MAX_PACKAGE_BYTES: usize = 8 * 1024 * 1024;
/// Largest total of unpacked bytes.
pub const MAX_UNPACKED_BYTES: u64 = 16 * 1024 * 1024;
/// Most entries an archive may hold.
pub const MAX_ENTRIES: usize = 16;

const MANIFEST_NAMES: &[&str] = &["manifest.yaml", "manifest.json", "manifest.js"];
const ICON_NAMES: &[&str] = &["icon.png", "icon.svg"];

/// What a package holds.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Contents {
    /// `manifest.yaml`, `manifest.json` or `manifest.js`.
    pub manifest_name: String,
    pub manifest: String,
    pub readme: Option<String>,
    /// (`icon.png` or `icon.svg`, bytes).
    pub icon: Option<(String, Vec<u8>)>,
    /// The builder document the capability was compiled from, when it was built visually.
    pub flow: Option<String>,
    /// The test report made when it was published (JSON).
    pub tests: Option<String>,
}

fn rejected(message: impl Into<String>) -> FormatError {
    FormatError::Package {
        code: crate::ErrorKind::PackageInvalid,
        message: message.into(),
    }
}

/// Builds the archive. Deterministic: equal contents give equal bytes.
pub fn build(c: &Contents) -> FormatResult<Vec<u8>> {
    if !MANIFEST_NAMES.contains(&c.manifest_name.as_str()) {
        return Err(rejected(format!(
            "the manifest must be named one of {}, not `{}`",
            MANIFEST_NAMES.join(", "),
            c.manifest_name
        )));
    }
    let mut entries: Vec<(&str, &[u8])> = vec![(&c.manifest_name, c.manifest.as_bytes())];
    if let Some(r) = &c.readme {
        entries.push(("README.md", r.as_bytes()));
    }
    if let Some((name, bytes)) = &c.icon {
        if !ICON_NAMES.contains(&name.as_str()) {
            return Err(rejected(format!(
                "an icon must be icon.png or icon.svg, not `{name}`"
            )));
        }
        entries.push((name, bytes));
    }
    if let Some(f) = &c.flow {
        entries.push(("flow.json", f.as_bytes()));
    }
    if let Some(t) = &c.tests {
        entries.push(("tests.json", t.as_bytes()));
    }
    entries.sort_by(|a, b| a.0.cmp(b.0));
    let total: u64 = entries.iter().map(|(_, b)| b.len() as u64).sum();
    if total > MAX_UNPACKED_BYTES {
        return Err(rejected(format!(
            "the package would hold {total} bytes; at most {MAX_UNPACKED_BYTES} are allowed"
        )));
    }
    let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    let mut tar = tar::Builder::new(gz);
    tar.mode(tar::HeaderMode::Deterministic);
    for (name, bytes) in entries {
        let mut h = tar::Header::new_ustar();
        h.set_size(bytes.len() as u64);
        h.set_mode(0o644);
        h.set_mtime(0);
        h.set_entry_type(tar::EntryType::Regular);
        tar.append_data(&mut h, name, bytes)
            .map_err(|e| rejected(format!("cannot write `{name}` into the package: {e}")))?;
    }
    let gz = tar
        .into_inner()
        .map_err(|e| rejected(format!("cannot finish the package: {e}")))?;
    let bytes = gz
        .finish()
        .map_err(|e| rejected(format!("cannot compress the package: {e}")))?;
    if bytes.len() > MAX_PACKAGE_BYTES {
        return Err(rejected(format!(
            "the package is {} bytes; at most {MAX_PACKAGE_BYTES} are allowed",
            bytes.len()
        )));
    }
    Ok(bytes)
}

/// A reader that refuses to yield more than `left` bytes: a gzip bomb stops at the cap.
struct Capped<R> {
    inner: R,
    left: u64,
}

impl<R: Read> Read for Capped<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n as u64 > self.left {
            return Err(std::io::Error::other(format!(
                "the package unpacks to more than {MAX_UNPACKED_BYTES} bytes"
            )));
        }
        self.left -= n as u64;
        Ok(n)
    }
}

/// Reads an archive in memory, checking every entry. Nothing is written anywhere.
pub fn open(bytes: &[u8]) -> FormatResult<Contents> {
    if bytes.len() > MAX_PACKAGE_BYTES {
        return Err(rejected(format!(
            "the package is {} bytes; at most {MAX_PACKAGE_BYTES} are allowed",
            bytes.len()
        )));
    }
    // Tar headers and padding count against the cap too.
    let capped = Capped {
        inner: flate2::read::GzDecoder::new(bytes),
        left: MAX_UNPACKED_BYTES + 64 * 1024,
    };
    let mut archive = tar::Archive::new(capped);
    let mut out = Contents::default();
    let mut seen: Vec<String> = Vec::new();
    let entries = archive
        .entries()
        .map_err(|e| rejected(format!("not a package archive: {e}")))?;
    for entry in entries {
        let mut entry = entry.map_err(|e| rejected(format!("unreadable archive: {e}")))?;
        if seen.len() >= MAX_ENTRIES {
            return Err(rejected(format!(
                "the package has more than {MAX_ENTRIES} entries"
            )));
        }
        let raw = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        let kind = entry.header().entry_type();
        if kind.is_symlink() || kind.is_hard_link() {
            return Err(rejected(format!(
                "`{raw}` is a link; packages hold only files"
            )));
        }
        if !kind.is_file() {
            return Err(rejected(format!(
                "`{raw}` is not a regular file; packages hold only files"
            )));
        }
        if raw.starts_with('/') || raw.contains('\\') || raw.split('/').any(|p| p == "..") {
            return Err(rejected(format!(
                "`{raw}` points outside the package (absolute path or `..`)"
            )));
        }
        let name = raw.trim_start_matches("./").to_string();
        let known = MANIFEST_NAMES.contains(&name.as_str())
            || ICON_NAMES.contains(&name.as_str())
            || ["README.md", "flow.json", "tests.json"].contains(&name.as_str());
        if !known {
            return Err(rejected(format!(
                "unexpected entry `{name}`; a package holds a manifest, README.md, an icon, flow.json and tests.json"
            )));
        }
        if seen.contains(&name) {
            return Err(rejected(format!("`{name}` appears twice in the package")));
        }
        let size = entry.header().size().unwrap_or(u64::MAX);
        if size > MAX_UNPACKED_BYTES {
            return Err(rejected(format!(
                "`{name}` claims {size} bytes; at most {MAX_UNPACKED_BYTES} are allowed"
            )));
        }
        let mut data = Vec::with_capacity(size as usize);
        entry
            .read_to_end(&mut data)
            .map_err(|e| rejected(format!("cannot read `{name}`: {e}")))?;
        let text = |data: Vec<u8>| {
            String::from_utf8(data).map_err(|_| rejected(format!("`{name}` is not UTF-8 text")))
        };
        if MANIFEST_NAMES.contains(&name.as_str()) {
            if !out.manifest_name.is_empty() {
                return Err(rejected("the package holds more than one manifest"));
            }
            out.manifest_name = name.clone();
            out.manifest = text(data)?;
        } else if ICON_NAMES.contains(&name.as_str()) {
            if out.icon.is_some() {
                return Err(rejected("the package holds more than one icon"));
            }
            out.icon = Some((name.clone(), data));
        } else if name == "README.md" {
            out.readme = Some(text(data)?);
        } else if name == "flow.json" {
            out.flow = Some(text(data)?);
        } else {
            out.tests = Some(text(data)?);
        }
        seen.push(name);
    }
    if out.manifest_name.is_empty() {
        return Err(rejected("the package holds no manifest"));
    }
    Ok(out)
}

/// Lowercase hex SHA-256.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(sha2::Sha256::digest(bytes))
}

/// What a publisher signs: the package's identity and its hash.
pub fn signed_message(id: &str, version: &str, sha256: &str) -> Vec<u8> {
    format!("capsmith-package-v1\n{id}@{version}\n{sha256}").into_bytes()
}

/// What a publisher signs with their old key to hand over to a new one: who, the old key and
/// the new key (both base64). A client that pinned the old key accepts the new one only with
/// this statement, checked offline.
pub fn rotation_message(user: &str, old_key: &str, new_key: &str) -> Vec<u8> {
    format!(
        "capsmith-key-rotation-v1\n{user}\n{}\n{}",
        old_key.trim(),
        new_key.trim()
    )
    .into_bytes()
}

/// A publisher's ed25519 key pair. The secret half lives in the OS keyring only.
pub struct SigningKey(ed25519_dalek::SigningKey);

impl SigningKey {
    /// A fresh key from the OS's random source.
    pub fn generate() -> FormatResult<Self> {
        let mut seed = [0u8; 32];
        getrandom::fill(&mut seed)
            .map_err(|e| FormatError::InvalidArgument(format!("no randomness for a key: {e}")))?;
        Ok(SigningKey(ed25519_dalek::SigningKey::from_bytes(&seed)))
    }

    /// From the hex seed kept in the keyring.
    pub fn from_hex(seed: &str) -> FormatResult<Self> {
        let bytes: [u8; 32] = hex::decode(seed.trim())
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| {
                FormatError::InvalidArgument("the stored signing key is damaged".into())
            })?;
        Ok(SigningKey(ed25519_dalek::SigningKey::from_bytes(&bytes)))
    }

    /// The hex seed (for the keyring only).
    pub fn to_hex(&self) -> String {
        hex::encode(self.0.to_bytes())
    }

    /// The public key, base64 (standard alphabet).
    pub fn public_b64(&self) -> String {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.encode(self.0.verifying_key().to_bytes())
    }

    /// Signs a package; the signature in base64.
    pub fn sign(&self, id: &str, version: &str, sha256: &str) -> String {
        use base64::Engine;
        let sig = self.0.sign(&signed_message(id, version, sha256));
        base64::engine::general_purpose::STANDARD.encode(sig.to_bytes())
    }

    /// Signs the hand-over from this key to `new_key` (`rotation_message`); base64.
    pub fn sign_rotation(&self, user: &str, new_key: &str) -> String {
        use base64::Engine;
        let sig = self
            .0
            .sign(&rotation_message(user, &self.public_b64(), new_key));
        base64::engine::general_purpose::STANDARD.encode(sig.to_bytes())
    }
}

fn decode_b64<const N: usize>(what: &str, s: &str) -> FormatResult<[u8; N]> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD
        .decode(s.trim())
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| FormatError::Package {
            code: crate::ErrorKind::SignatureInvalid,
            message: format!("the {what} is not {N} bytes of base64"),
        })
}

/// Checks that a base64 string is an ed25519 public key.
pub fn check_public_key(public_b64: &str) -> FormatResult<()> {
    let key: [u8; 32] = decode_b64("public key", public_b64)?;
    ed25519_dalek::VerifyingKey::from_bytes(&key).map_err(|_| FormatError::Package {
        code: crate::ErrorKind::SignatureInvalid,
        message: "the public key is not a valid ed25519 key".into(),
    })?;
    Ok(())
}

/// Verifies a package signature.
pub fn verify(
    public_b64: &str,
    id: &str,
    version: &str,
    sha256: &str,
    signature_b64: &str,
) -> FormatResult<()> {
    verify_message(public_b64, &signed_message(id, version, sha256), signature_b64).map_err(
        |e| match e {
            FormatError::Package { message, .. } if message.is_empty() => FormatError::Package {
                code: crate::ErrorKind::SignatureInvalid,
                message: format!(
                    "the signature of {id}@{version} does not match its publisher's key: the package was altered or signed by someone else"
                ),
            },
            e => e,
        },
    )
}

/// Verifies a key hand-over statement (`rotation_message`) against the old key.
pub fn verify_rotation(
    user: &str,
    old_key: &str,
    new_key: &str,
    signature_b64: &str,
) -> FormatResult<()> {
    check_public_key(new_key)?;
    verify_message(
        old_key,
        &rotation_message(user, old_key, new_key),
        signature_b64,
    )
    .map_err(|e| match e {
        FormatError::Package { message, .. } if message.is_empty() => FormatError::Package {
            code: crate::ErrorKind::SignatureInvalid,
            message: format!(
                "the hand-over from key {} to {} is not signed by the old key",
                fingerprint(old_key),
                fingerprint(new_key)
            ),
        },
        e => e,
    })
}

/// An ed25519 signature check; a mismatch is a `signature_invalid` with an empty message
/// (the caller says what was signed).
fn verify_message(public_b64: &str, message: &[u8], signature_b64: &str) -> FormatResult<()> {
    let key: [u8; 32] = decode_b64("public key", public_b64)?;
    let sig: [u8; 64] = decode_b64("signature", signature_b64)?;
    let key = ed25519_dalek::VerifyingKey::from_bytes(&key).map_err(|_| FormatError::Package {
        code: crate::ErrorKind::SignatureInvalid,
        message: "the publisher's key is not a valid ed25519 key".into(),
    })?;
    key.verify(message, &ed25519_dalek::Signature::from_bytes(&sig))
        .map_err(|_| FormatError::Package {
            code: crate::ErrorKind::SignatureInvalid,
            message: String::new(),
        })
}

/// A short, readable fingerprint of a public key (`SHA256:ab12…`, 16 hex digits).
pub fn fingerprint(public_b64: &str) -> String {
    format!("SHA256:{}", &sha256_hex(public_b64.trim().as_bytes())[..16])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Contents {
        Contents {
            manifest_name: "manifest.yaml".into(),
            manifest: "capability:\n  id: x\n".into(),
            readme: Some("# X\n".into()),
            icon: None,
            flow: Some("{}".into()),
            tests: None,
        }
    }

    #[test]
    fn build_is_deterministic_and_round_trips() {
        let a = build(&sample()).unwrap();
        let b = build(&sample()).unwrap();
        assert_eq!(a, b);
        assert_eq!(open(&a).unwrap(), sample());
    }

    /// An archive written by hand, so names and kinds `build` would never write get in.
    fn raw(entries: &[(&[u8], tar::EntryType, &[u8])]) -> Vec<u8> {
        let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        let mut b = tar::Builder::new(gz);
        for (name, kind, data) in entries {
            let mut h = tar::Header::new_old();
            h.as_old_mut().name[..name.len()].copy_from_slice(name);
            h.set_entry_type(*kind);
            h.set_size(data.len() as u64);
            h.set_mode(0o644);
            if kind.is_symlink() {
                h.set_link_name("/etc/passwd").unwrap();
            }
            h.set_cksum();
            b.append(&h, *data).unwrap();
        }
        b.into_inner().unwrap().finish().unwrap()
    }

    fn refused(bytes: &[u8], needle: &str) {
        let e = open(bytes).unwrap_err();
        assert_eq!(e.kind(), "package_invalid", "{e}");
        assert!(e.to_string().contains(needle), "{e}");
    }

    #[test]
    fn hostile_archives_are_refused() {
        let m: &[u8] = b"capability: {}";
        let file = tar::EntryType::Regular;
        refused(&raw(&[(b"../manifest.yaml", file, m)]), "points outside");
        refused(&raw(&[(b"/etc/manifest.yaml", file, m)]), "points outside");
        refused(
            &raw(&[
                (b"manifest.yaml", file, m),
                (b"README.md", tar::EntryType::Symlink, b""),
            ]),
            "is a link",
        );
        refused(
            &raw(&[(b"manifest.yaml", tar::EntryType::Link, b"")]),
            "is a link",
        );
        refused(
            &raw(&[(b"manifest.yaml", tar::EntryType::Directory, b"")]),
            "not a regular file",
        );
        refused(
            &raw(&[(b"manifest.yaml", file, m), (b"run.sh", file, b"rm -rf /")]),
            "unexpected entry",
        );
        refused(
            &raw(&[(b"manifest.yaml", file, m), (b"manifest.yaml", file, m)]),
            "appears twice",
        );
        refused(&raw(&[(b"README.md", file, b"# x")]), "no manifest");
        let many: Vec<(&[u8], tar::EntryType, &[u8])> = (0..20)
            .map(|_| (&b"README.md"[..], file, &b"x"[..]))
            .collect();
        // An entry-count bomb cannot get past the names: only a handful exist, each once.
        refused(&raw(&many), "appears twice");
        // A gzip bomb: 40 MiB of zeros compress to a few dozen KiB; the reader stops at the cap.
        let zeros = vec![0u8; 40 * 1024 * 1024];
        let bomb = raw(&[(b"manifest.yaml", file, &zeros)]);
        assert!(bomb.len() < MAX_PACKAGE_BYTES);
        refused(&bomb, "bytes");
        assert_eq!(
            open(b"not gzip at all").unwrap_err().kind(),
            "package_invalid"
        );
    }

    #[test]
    fn a_signature_binds_id_version_and_hash() {
        let key = SigningKey::generate().unwrap();
        let sig = key.sign("x", "1.0.0", "abc");
        verify(&key.public_b64(), "x", "1.0.0", "abc", &sig).unwrap();
        for (id, v, h) in [
            ("y", "1.0.0", "abc"),
            ("x", "1.0.1", "abc"),
            ("x", "1.0.0", "abd"),
        ] {
            let e = verify(&key.public_b64(), id, v, h, &sig).unwrap_err();
            assert_eq!(e.kind(), "signature_invalid");
        }
        let other = SigningKey::generate().unwrap();
        assert!(verify(&other.public_b64(), "x", "1.0.0", "abc", &sig).is_err());
        let again = SigningKey::from_hex(&key.to_hex()).unwrap();
        assert_eq!(again.public_b64(), key.public_b64());
    }
}
