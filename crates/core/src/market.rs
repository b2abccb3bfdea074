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
    /// `signature_invalid`, `tests_failing`, `no_public_key`, `internal`.
    pub code: String,
    pub message: String,
}
