//! The marketplace's wire types: what the server (`capsmith-market`) sends and the client in
//! `api::market` reads, and what the client keeps in its offline cache. JSON Schemas (for the
//! server's OpenAPI file) and TypeScript copies (for the app) are derived from these.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// The API's version prefix.
pub const API_PREFIX: &str = "/v1";

/// Who may see a capability.
pub const VISIBILITIES: &[&str] = &["public", "organization", "private"];

/// What a marketplace card shows: one capability, its latest visible version's metadata.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, TS)]
pub struct Card {
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    pub icon: Option<String>,
    pub category: Option<String>,
    pub tags: Vec<String>,
    /// The capability kind (`declarative`, `code`, `api-connector`, `workflow`, `flow`).
    pub kind: String,
    pub publisher: String,
    /// An administrator of the marketplace checked who the publisher is.
    pub publisher_verified: bool,
    pub org: Option<String>,
    /// `public`, `organization` or `private`.
    pub visibility: String,
    pub license: Option<String>,
    /// 0 for free.
    pub price_cents: i64,
    /// Whether the reader may download a paid capability (always true for free ones).
    pub entitled: bool,
    pub installs: i64,
    /// Average stars (1–5), when anyone rated it.
    pub rating: Option<f64>,
    pub rating_count: i64,
    pub featured: bool,
    /// Set when the publisher deprecated the capability: their message.
    pub deprecated: Option<String>,
    /// The newest version the reader may install (not yanked, approved).
    pub latest_version: Option<String>,
    pub updated_at: String,
}

/// A configuration key a version asks for (values are never in the marketplace).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, TS)]
pub struct ConfigKey {
    pub key: String,
    pub label: Option<String>,
    pub secret: bool,
    pub required: bool,
}

/// A dependency as the manifest states it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, TS)]
pub struct DependencyRef {
    pub id: String,
    /// A semver requirement.
    pub version: String,
}

/// One published version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, TS)]
pub struct VersionInfo {
    pub version: String,
    /// SHA-256 of the package archive, lowercase hex.
    pub sha256: String,
    /// ed25519 signature (base64) over `capsmith-package-v1\n<id>@<version>\n<sha256>`.
    pub signature: String,
    /// The publisher's public key it was signed with (base64).
    pub public_key: String,
    pub size: i64,
    /// Permissions in force (declared, else inferred).
    pub permissions: Vec<String>,
    /// Hosts it may connect to.
    pub domains: Vec<String>,
    pub configuration: Vec<ConfigKey>,
    pub dependencies: Vec<DependencyRef>,
    /// The publisher's test run at publish: passed and total test cases.
    pub tests_passed: i64,
    pub tests_total: i64,
    /// Set when the version was yanked: the reason.
    pub yanked: Option<String>,
    /// Set when a marketplace administrator revoked the version (a security problem): the
    /// reason. Unlike a yanked version, a revoked one stops running where it is installed.
    #[serde(default)]
    pub revoked: Option<String>,
    /// False until an organization admin approves it (organization capabilities).
    pub approved: bool,
    pub published_at: String,
}

/// Everything the detail page shows, also what sync delivers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, TS)]
pub struct Listing {
    #[serde(flatten)]
    pub card: Card,
    /// The publisher's currently registered public key (base64).
    pub publisher_key: Option<String>,
    /// Newest first; only those the reader may see.
    pub versions: Vec<VersionInfo>,
    /// The latest visible version's README (Markdown).
    pub readme: String,
    /// Change sequence number: sync cursors count these.
    pub seq: i64,
    /// Key hand-overs of the people who signed its versions, oldest first: each signed by the
    /// old key, so a client that pinned an older key can follow them offline.
    #[serde(default)]
    pub key_rotations: Vec<KeyRotation>,
}

/// A publisher's hand-over from one signing key to the next, signed by the old key over
/// `capsmith-key-rotation-v1\n<user>\n<old_key>\n<new_key>`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, TS)]
pub struct KeyRotation {
    pub user: String,
    pub old_key: String,
    pub new_key: String,
    /// ed25519 signature (base64) by `old_key`.
    pub signature: String,
    pub at: String,
}

/// What a version asks of whoever installs it, as its manifest states it. The listing carries
/// a copy for browsing; the client computes it again from the signed archive and refuses a
/// listing that disagrees (`listing_mismatch`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Terms {
    pub permissions: Vec<String>,
    pub domains: Vec<String>,
    pub configuration: Vec<ConfigKey>,
    pub dependencies: Vec<DependencyRef>,
}

impl Terms {
    /// From a checked manifest: permissions in force, hosts, configuration keys, required
    /// dependencies.
    pub fn of(m: &crate::validate::Manifest) -> Terms {
        let c = m.capability();
        Terms {
            permissions: m.permissions_in_force(),
            domains: m.analysis.allowed_domains.clone(),
            configuration: c
                .configuration
                .iter()
                .map(|k| ConfigKey {
                    key: k.key.clone(),
                    label: k.label.clone(),
                    secret: k.ty.as_str() == "secret",
                    required: k.required,
                })
                .collect(),
            dependencies: c
                .dependencies
                .iter()
                .filter(|d| !d.optional)
                .map(|d| DependencyRef {
                    id: d.id.clone(),
                    version: d.version.clone(),
                })
                .collect(),
        }
    }

    /// What a listing says of a version.
    pub fn listed(v: &VersionInfo) -> Terms {
        Terms {
            permissions: v.permissions.clone(),
            domains: v.domains.clone(),
            configuration: v.configuration.clone(),
            dependencies: v.dependencies.clone(),
        }
    }

    /// How `listed` differs from these terms, in words (empty when they agree; order does
    /// not matter).
    pub fn differences(&self, listed: &Terms) -> Vec<String> {
        fn sets<T: Ord + Clone>(
            what: &str,
            signed: &[T],
            listed: &[T],
            show: impl Fn(&T) -> String,
        ) -> Option<String> {
            let mut a = signed.to_vec();
            let mut b = listed.to_vec();
            a.sort();
            a.dedup();
            b.sort();
            b.dedup();
            if a == b {
                return None;
            }
            let only = |x: &[T], y: &[T]| -> Vec<String> {
                x.iter().filter(|i| !y.contains(i)).map(&show).collect()
            };
            let (more, less) = (only(&a, &b), only(&b, &a));
            let mut parts = Vec::new();
            if !more.is_empty() {
                parts.push(format!(
                    "the signed package also asks for {}",
                    more.join(", ")
                ));
            }
            if !less.is_empty() {
                parts.push(format!(
                    "the listing shows {} which the package does not ask for",
                    less.join(", ")
                ));
            }
            if parts.is_empty() {
                parts.push("they differ".into());
            }
            Some(format!("{what}: {}", parts.join("; ")))
        }
        let config = |t: &Terms| -> Vec<(String, bool, bool)> {
            t.configuration
                .iter()
                .map(|c| (c.key.clone(), c.secret, c.required))
                .collect()
        };
        let deps = |t: &Terms| -> Vec<(String, String)> {
            t.dependencies
                .iter()
                .map(|d| (d.id.clone(), d.version.clone()))
                .collect()
        };
        [
            sets("permissions", &self.permissions, &listed.permissions, |p| {
                format!("`{p}`")
            }),
            sets("hosts", &self.domains, &listed.domains, |d| {
                format!("`{d}`")
            }),
            sets(
                "configuration",
                &config(self),
                &config(listed),
                |(k, secret, required)| {
                    format!(
                        "`{k}`{}{}",
                        if *secret { " (secret)" } else { "" },
                        if *required { " (required)" } else { "" }
                    )
                },
            ),
            sets("dependencies", &deps(self), &deps(listed), |(id, v)| {
                format!("`{id} {v}`")
            }),
        ]
        .into_iter()
        .flatten()
        .collect()
    }
}

/// A page of search results.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, TS)]
pub struct SearchPage {
    pub items: Vec<Card>,
    pub total: i64,
    pub page: i64,
    pub per_page: i64,
}

/// A page of the change feed: listings changed after `since`, in change order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, TS)]
pub struct SyncPage {
    /// Pass this as `since` for the next page.
    pub cursor: i64,
    pub items: Vec<Listing>,
    /// Ids changed since the cursor that the reader may no longer see.
    pub removed: Vec<String>,
    /// More changes follow.
    pub more: bool,
    /// Listings left after this page (for progress).
    pub remaining: i64,
}

/// A review: one per user and capability, editable.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, TS)]
pub struct Review {
    pub user: String,
    pub stars: i64,
    pub text: String,
    pub updated_at: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, TS)]
pub struct ReviewInput {
    /// 1 to 5.
    pub stars: i64,
    pub text: String,
}

/// A category and how many capabilities the reader may see in it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, TS)]
pub struct CategoryCount {
    pub name: String,
    pub count: i64,
}

/// The signed-in account.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, TS)]
pub struct Account {
    pub name: String,
    /// A marketplace administrator (grants entitlements, features, verifies publishers).
    pub admin: bool,
    pub verified: bool,
    pub orgs: Vec<OrgRole>,
    /// The registered ed25519 public key (base64), if any.
    pub public_key: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, TS)]
pub struct OrgRole {
    pub org: String,
    /// `admin` or `member`.
    pub role: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct KeyInput {
    /// ed25519 public key, base64.
    pub public_key: String,
    /// Replacing a registered key: the hand-over statement signed by the old key
    /// (`capsmith-key-rotation-v1\n<user>\n<old_key>\n<new_key>`, base64). Clients that pinned
    /// the old key accept versions signed by the new one only through it; without it the new
    /// key is registered, and those clients refuse its versions (`publisher_key_changed`).
    #[serde(default)]
    pub rotation: Option<String>,
}

/// What `publish` uploads.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PublishRequest {
    /// The package archive, base64.
    pub package: String,
    /// ed25519 signature (base64) by the publisher's registered key.
    pub signature: String,
    /// The version the signature is over. The server checks the signature with it before it
    /// evaluates anything in the package, then requires the manifest to declare the same.
    /// Without it, the version is read from the manifest's text (a literal only).
    #[serde(default)]
    pub version: Option<String>,
    /// `public`, `organization` or `private`. Left out, a new capability is `private` and an
    /// existing one keeps its visibility; only its owner or an admin of its organization may
    /// change it.
    #[serde(default)]
    pub visibility: Option<String>,
    /// The organization it belongs to (left out: a new capability has none, an existing one
    /// keeps its own).
    #[serde(default)]
    pub org: Option<String>,
    /// Price in cents (0 = free; left out: 0 for a new capability, unchanged otherwise).
    #[serde(default)]
    pub price_cents: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, TS)]
pub struct PublishOutcome {
    pub id: String,
    pub version: String,
    pub sha256: String,
    /// False when an organization admin must approve it before members see it.
    pub approved: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ReasonInput {
    pub reason: String,
}

/// An explicit change of what others see of a capability, outside a version
/// (`PATCH /v1/capabilities/{id}`): by its owner, an admin of its organization, or a
/// marketplace administrator; audited. Fields left out stay as they are.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ListingChange {
    /// `public`, `organization` or `private`.
    #[serde(default)]
    pub visibility: Option<String>,
    /// The organization it belongs to (an org admin moves it only between organizations they
    /// administer).
    #[serde(default)]
    pub org: Option<String>,
    /// Price in cents (0 = free). Versions published while it was paid stay paid.
    #[serde(default)]
    pub price_cents: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct DeprecateInput {
    /// The message readers see; null un-deprecates.
    pub message: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct FeaturedInput {
    pub featured: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct EntitlementInput {
    /// The user granted the right to download a paid capability.
    pub user: String,
}

/// Every error the API returns: `{"error": {"code": "...", "message": "..."}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ErrorEnvelope {
    pub error: ErrorBody,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ErrorBody {
    /// Stable: `bad_request`, `unauthorized`, `forbidden`, `not_found`, `version_exists`,
    /// `namespace_taken`, `payment_required`, `rate_limited`, `too_large`, `package_invalid`,
    /// `signature_invalid`, `tests_failing`, `no_public_key`, `revoked`, `internal`.
    pub code: String,
    pub message: String,
}

/// The query of `GET /v1/sync`.
#[derive(Debug, Clone, Default, serde::Deserialize, schemars::JsonSchema)]
pub struct SyncParams {
    /// The cursor of the previous page (0 for everything).
    pub since: Option<i64>,
    /// Listings per page (at most 5000, default 1000).
    pub limit: Option<i64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn terms(permissions: &[&str], domains: &[&str]) -> Terms {
        Terms {
            permissions: permissions.iter().map(|s| s.to_string()).collect(),
            domains: domains.iter().map(|s| s.to_string()).collect(),
            ..Terms::default()
        }
    }

    #[test]
    fn terms_compare_as_sets_and_name_each_difference() {
        let signed = terms(&["network.http.get", "network.http.post"], &["a.example"]);
        // Order and repetition do not matter.
        let same = terms(
            &["network.http.post", "network.http.get", "network.http.get"],
            &["a.example"],
        );
        assert!(signed.differences(&same).is_empty());
        let narrower = terms(&["network.http.get"], &["b.example"]);
        let d = signed.differences(&narrower);
        assert_eq!(d.len(), 2, "{d:?}");
        assert!(d[0].contains("also asks for `network.http.post`"), "{d:?}");
        assert!(
            d[1].contains("`a.example`") && d[1].contains("`b.example`"),
            "{d:?}"
        );
        // A secret configuration key listed as plain is a difference too.
        let mut with_secret = signed.clone();
        with_secret.configuration.push(ConfigKey {
            key: "token".into(),
            label: None,
            secret: true,
            required: false,
        });
        let mut listed_plain = with_secret.clone();
        listed_plain.configuration[0].secret = false;
        let d = with_secret.differences(&listed_plain);
        assert_eq!(d.len(), 1);
        assert!(d[0].starts_with("configuration:"), "{d:?}");
    }
}
