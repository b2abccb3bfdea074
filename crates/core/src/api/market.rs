//! The marketplace client: sign-in, incremental sync into the offline cache, search and detail
//! from the cache, install (verified, with consent), update with a permission diff, rollback,
//! uninstall, publish (tested, packaged, signed) and reviews. Talks to a `capsmith-market`
//! server over HTTP with reqwest; the wire types are `crate::market`.
//!
//! **Invariants:** nothing is installed before its archive's SHA-256 and its ed25519 signature
//! are verified and the publisher's key matches the one pinned at the last install; an install
//! (with its dependencies) is one registry transaction; the API token and the signing key live
//! in the OS keyring only; browsing never needs the network.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::market::{Card, ConfigKey, Listing, Review};

mod install;
mod publish;
mod trust;
pub use trust::RunConsent;

/// Where the client stands: which marketplace, who is signed in, how fresh the cache is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct MarketStatus {
    /// The marketplace URL, when one is set.
    pub url: Option<String>,
    /// The account name at the last sign-in.
    pub account: Option<String>,
    /// When the cache was last brought up to date (RFC 3339), if ever.
    pub last_synced_at: Option<String>,
    /// Capabilities in the cache.
    pub cached: i64,
    /// `server` once a sync succeeded; `bundled` while the cache holds the built-in catalog.
    pub source: String,
    /// Installed from the marketplace with a newer version available.
    pub updates: Vec<UpdateAvailable>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct UpdateAvailable {
    pub id: String,
    pub installed: String,
    pub latest: String,
}

/// What a sync did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct SyncReport {
    /// Listings written into the cache.
    pub fetched: i64,
    /// Listings taken out (no longer visible).
    pub removed: i64,
    /// The server answered 304: nothing changed since the last sync.
    pub unchanged: bool,
    pub pages: i64,
    pub duration_ms: f64,
    pub cached: i64,
}

/// Progress of long work (sync, publish, install), for a progress bar.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct MarketProgress {
    /// `sync`, `publish` or `install`.
    pub task: String,
    /// What is happening now, in words.
    pub stage: String,
    pub done: i64,
    /// 0 when unknown.
    pub total: i64,
}

pub use crate::dto::MarketQuery;

/// A page of cached results.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct MarketPage {
    pub items: Vec<MarketCard>,
    pub total: i64,
    pub page: i64,
    pub per_page: i64,
    pub categories: Vec<crate::market::CategoryCount>,
}

/// A card with what this machine knows about it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct MarketCard {
    #[serde(flatten)]
    pub card: Card,
    /// The version installed from the marketplace, if any.
    pub installed: Option<String>,
    /// A newer installable version than the installed one.
    pub update: Option<String>,
}

/// The detail page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct MarketDetail {
    pub listing: Listing,
    pub installed: Option<InstalledView>,
    pub update: Option<String>,
    /// Reviews as last fetched (cached for offline reading).
    pub reviews: Vec<Review>,
    /// The fingerprint of the publisher's current key.
    pub key_fingerprint: Option<String>,
    /// The permissions of the newest installable version, in plain words.
    pub permissions: Vec<PermissionWords>,
    /// True when this came from the cache because the server could not be reached.
    pub offline: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct InstalledView {
    pub version: String,
    /// The version it replaced, for rollback.
    pub previous: Option<String>,
    pub installed_at: String,
    pub key_fingerprint: String,
    /// Set when the marketplace revoked the installed version: the reason. It does not run;
    /// `update` names the newest good version, if any.
    pub revoked: Option<String>,
}

/// A permission in plain words.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct PermissionWords {
    pub name: String,
    pub description: String,
}

/// The consent screen: what installing (or updating to) a version means.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct InstallPlan {
    pub id: String,
    pub name: String,
    pub version: String,
    /// The installed version this replaces, if any.
    pub current: Option<String>,
    pub publisher: String,
    pub publisher_verified: bool,
    pub key_fingerprint: String,
    /// `new` (first install: the key is pinned now), `same`, `rotated` (another key, handed
    /// over by a statement the pinned key signed; checked here, offline), or `changed`
    /// (refused: `publisher_key_changed`).
    pub key_state: String,
    /// Set when the library already holds a capability with this id from another source (made
    /// or imported here, another marketplace or another publisher): what it is. Installing is
    /// refused (`id_taken`) unless the user chooses to replace it, which removes it, its
    /// secrets and its agent links first.
    pub id_taken: Option<String>,
    pub permissions: Vec<PermissionWords>,
    pub domains: Vec<String>,
    /// Against the installed version (empty on a first install).
    pub added_permissions: Vec<PermissionWords>,
    pub removed_permissions: Vec<PermissionWords>,
    pub added_domains: Vec<String>,
    pub removed_domains: Vec<String>,
    /// True when the user must consent again (a first install, or more asked than before).
    pub needs_consent: bool,
    pub configuration: Vec<ConfigKey>,
    /// Dependencies installed along (`id@version`), resolved against the marketplace.
    pub dependencies: Vec<String>,
    /// Other capabilities it may call (its declared dependencies, with those of what comes
    /// along): consented to with the rest.
    pub capabilities: Vec<String>,
    pub price_cents: i64,
    pub entitled: bool,
    pub tests_passed: i64,
    pub tests_total: i64,
    pub license: Option<String>,
}

/// What an install, update or rollback did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct InstallOutcome {
    pub id: String,
    pub version: String,
    pub previous: Option<String>,
    /// Everything written, dependencies included (`id@version`).
    pub installed: Vec<String>,
    /// The agent it was attached to.
    pub agent: Option<String>,
    /// True when the archive came from the local package cache (no network).
    pub from_cache: bool,
}

/// What publishing did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct PublishView {
    pub id: String,
    pub version: String,
    pub sha256: String,
    pub approved: bool,
    pub tests_passed: i64,
    pub tests_total: i64,
    pub readme_generated: bool,
    pub key_fingerprint: String,
    pub url: String,
}

// ---------------------------------------------------------------------------------------------
// The client.

use std::time::{Duration, Instant};

use super::Capsmith;
use crate::manifest::{self, permissions};
use crate::market::{
    Account, CategoryCount, KeyInput, PublishOutcome, PublishRequest, SyncPage, VersionInfo,
};
use crate::package::{self, Contents, SigningKey};
use crate::registry::market::{Consented, InstallRecord};
use crate::secrets::Sensitive;
use crate::validate;
use crate::{CoreError, CoreResult};

/// Keyring slots (not capability ids: `@` is not allowed in one).
const TOKEN_SLOT: (&str, &str) = ("@market", "token");
const KEY_SLOT: (&str, &str) = ("@publisher", "ed25519");
/// `meta` keys.
const URL: &str = "market.url";
const ACCOUNT: &str = "market.account";
const CURSOR: &str = "market.cursor";
const ETAG: &str = "market.etag";
const SYNCED_AT: &str = "market.synced_at";
const SOURCE: &str = "market.source";
/// Listings asked for per sync page.
pub const SYNC_PAGE: i64 = 1000;

/// Progress callback for long work.
pub type Progress<'a> = &'a (dyn Fn(MarketProgress) + Send + Sync);

fn progress(cb: Progress<'_>, task: &str, stage: impl Into<String>, done: i64, total: i64) {
    cb(MarketProgress {
        task: task.into(),
        stage: stage.into(),
        done,
        total,
    });
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// Checks a marketplace URL: http(s), no credentials, plain http only to loopback (an API
/// token must not cross a network in clear text).
pub fn check_market_url(raw: &str) -> CoreResult<String> {
    let url = url::Url::parse(raw.trim()).map_err(|e| {
        CoreError::InvalidArgument(format!(
            "`{raw}` is not a URL ({e}); e.g. https://market.example.com"
        ))
    })?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(CoreError::InvalidArgument(
            "the marketplace URL must not hold credentials; the token is kept in the keyring"
                .into(),
        ));
    }
    let loopback = match url.host() {
        Some(url::Host::Ipv4(a)) => a.is_loopback(),
        Some(url::Host::Ipv6(a)) => a.is_loopback(),
        Some(url::Host::Domain(d)) => d == "localhost",
        None => false,
    };
    match url.scheme() {
        "https" => {}
        "http" if loopback => {}
        "http" => {
            return Err(CoreError::InvalidArgument(format!(
                "`{raw}` uses plain http to another machine; use https so your token is not sent in clear text"
            )))
        }
        other => {
            return Err(CoreError::InvalidArgument(format!(
                "a marketplace URL is http(s), not `{other}`"
            )))
        }
    }
    Ok(url.as_str().trim_end_matches('/').to_string())
}

fn words(p: &str) -> PermissionWords {
    PermissionWords {
        name: p.to_string(),
        description: permissions::describe(p)
            .unwrap_or("A permission Capsmith does not know")
            .to_string(),
    }
}

fn semver_of(v: &str) -> semver::Version {
    semver::Version::parse(v).unwrap_or(semver::Version::new(0, 0, 0))
}

/// The newest installable version (approved, neither yanked nor revoked) of a listing.
fn latest_installable(l: &Listing) -> Option<&VersionInfo> {
    l.versions
        .iter()
        .filter(|v| v.yanked.is_none() && v.revoked.is_none() && v.approved)
        .max_by(|a, b| semver_of(&a.version).cmp(&semver_of(&b.version)))
}

/// One HTTP exchange's outcome.
struct Answer {
    status: u16,
    etag: Option<String>,
    body: Vec<u8>,
}

struct Client {
    url: String,
    token: Option<String>,
    http: reqwest::Client,
}

impl Client {
    fn new(url: &str, token: Option<String>) -> CoreResult<Client> {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(60))
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| CoreError::InvalidArgument(format!("cannot make an HTTP client: {e}")))?;
        Ok(Client {
            url: url.to_string(),
            token,
            http,
        })
    }

    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Vec<u8>>,
        if_none_match: Option<&str>,
    ) -> CoreResult<Answer> {
        let mut req = self.http.request(method, format!("{}{path}", self.url));
        if let Some(t) = &self.token {
            req = req.bearer_auth(t);
        }
        if let Some(e) = if_none_match {
            req = req.header("if-none-match", e);
        }
        if let Some(b) = body {
            req = req.header("content-type", "application/json").body(b);
        }
        let unreachable = |e: reqwest::Error| CoreError::MarketUnreachable {
            url: self.url.clone(),
            reason: e.to_string(),
        };
        let res = req.send().await.map_err(unreachable)?;
        let status = res.status().as_u16();
        let etag = res
            .headers()
            .get("etag")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let body = res.bytes().await.map_err(unreachable)?.to_vec();
        if status >= 400 {
            let env: Option<crate::market::ErrorEnvelope> = serde_json::from_slice(&body).ok();
            return Err(match env {
                Some(e) => CoreError::Market {
                    code: e.error.code,
                    message: e.error.message,
                    status,
                },
                None => CoreError::Market {
                    code: "http".into(),
                    message: format!("HTTP {status} from {}{path}", self.url),
                    status,
                },
            });
        }
        Ok(Answer { status, etag, body })
    }

    async fn get<T: serde::de::DeserializeOwned>(&self, path: &str) -> CoreResult<T> {
        let a = self.send(reqwest::Method::GET, path, None, None).await?;
        self.parse(path, &a.body)
    }

    async fn send_json<T: serde::de::DeserializeOwned>(
        &self,
        method: reqwest::Method,
        path: &str,
        body: &impl Serialize,
    ) -> CoreResult<T> {
        let a = self
            .send(
                method,
                path,
                Some(serde_json::to_vec(body).unwrap_or_default()),
                None,
            )
            .await?;
        self.parse(path, if a.body.is_empty() { b"null" } else { &a.body })
    }

    fn parse<T: serde::de::DeserializeOwned>(&self, path: &str, body: &[u8]) -> CoreResult<T> {
        serde_json::from_slice(body).map_err(|e| CoreError::Market {
            code: "bad_response".into(),
            message: format!(
                "{}{path} answered something Capsmith cannot read: {e}",
                self.url
            ),
            status: 200,
        })
    }
}

fn seg(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}

impl Capsmith {
    /// The marketplace this library uses: the one signed in to, else `$CAPSMITH_MARKET_URL`.
    pub async fn market_url(&self) -> CoreResult<Option<String>> {
        if let Some(u) = self.registry().meta(URL).await? {
            return Ok(Some(u));
        }
        // The same rules as a sign-in: no clear-text token to another machine.
        std::env::var("CAPSMITH_MARKET_URL")
            .ok()
            .filter(|u| !u.trim().is_empty())
            .map(|u| check_market_url(&u))
            .transpose()
    }

    async fn market_client(&self) -> CoreResult<Client> {
        let url = self.market_url().await?.ok_or_else(|| {
            CoreError::InvalidArgument(
                "no marketplace is set: sign in with `capsmith login --market URL --token -` (or Settings → Marketplace)".into(),
            )
        })?;
        let token = match self.secrets().retrieve(TOKEN_SLOT.0, TOKEN_SLOT.1).await {
            Ok(t) => t.map(|t| t.expose().clone()),
            // Browsing public capabilities works without a keyring.
            Err(_) => None,
        };
        Client::new(&url, token)
    }

    /// Signs in: checks the token with the server, then keeps it in the OS keyring and the URL
    /// in the registry. Another marketplace than before empties the cache.
    pub async fn market_login(&self, url: &str, token: &str) -> CoreResult<Account> {
        let url = check_market_url(url)?;
        let token = token.trim();
        if token.is_empty() {
            return Err(CoreError::InvalidArgument("the token is empty".into()));
        }
        let client = Client::new(&url, Some(token.to_string()))?;
        let account: Account = client.get("/v1/me").await?;
        self.secrets()
            .persist(
                TOKEN_SLOT.0,
                TOKEN_SLOT.1,
                Sensitive::new(token.to_string()),
            )
            .await?;
        let before = self.registry().meta(URL).await?;
        if before.as_deref() != Some(url.as_str()) {
            self.market_reset_cache().await?;
        }
        self.registry().set_meta(URL, &url).await?;
        self.registry().set_meta(ACCOUNT, &account.name).await?;
        Ok(account)
    }

    /// Signs out: the token leaves the keyring; the cache stays for offline browsing.
    pub async fn market_logout(&self) -> CoreResult<()> {
        let _ = self.secrets().delete(TOKEN_SLOT.0, TOKEN_SLOT.1).await?;
        sqlx::query("DELETE FROM meta WHERE key = ?1")
            .bind(ACCOUNT)
            .execute(self.registry().pool())
            .await?;
        Ok(())
    }

    async fn market_reset_cache(&self) -> CoreResult<()> {
        self.registry()
            .market_apply_page(true, &[], &[], &[])
            .await?;
        sqlx::query("DELETE FROM meta WHERE key IN (?1, ?2, ?3, ?4)")
            .bind(CURSOR)
            .bind(ETAG)
            .bind(SYNCED_AT)
            .bind(SOURCE)
            .execute(self.registry().pool())
            .await?;
        Ok(())
    }

    /// Until a sync succeeds, the cache holds the built-in catalog: the bundled examples.
    async fn market_ensure_catalog(&self) -> CoreResult<()> {
        if self.registry().meta(SOURCE).await?.is_some() {
            return Ok(());
        }
        let mut items = Vec::new();
        for (n, e) in super::bundled::EXAMPLES
            .iter()
            .filter(|e| e.seed)
            .enumerate()
        {
            let c = validate::check_text(
                e.file,
                e.text,
                manifest::SourceFormat::detect(e.file, e.text),
                None,
            );
            let Some(m) = c.manifest else { continue };
            items.push(bundled_listing(&m, n as i64 + 1));
        }
        self.registry()
            .market_apply_page(true, &items, &[], &[(SOURCE, "bundled".to_string())])
            .await
    }

    /// Where the cache stands; never touches the network.
    pub async fn market_status(&self) -> CoreResult<MarketStatus> {
        self.market_ensure_catalog().await?;
        let reg = self.registry();
        Ok(MarketStatus {
            url: self.market_url().await?,
            account: reg.meta(ACCOUNT).await?,
            last_synced_at: reg.meta(SYNCED_AT).await?,
            cached: reg.market_cached().await?,
            source: reg.meta(SOURCE).await?.unwrap_or_else(|| "bundled".into()),
            updates: self.market_updates().await?,
        })
    }

    /// Installed capabilities with a newer installable version in the cache.
    pub async fn market_updates(&self) -> CoreResult<Vec<UpdateAvailable>> {
        let mut out = Vec::new();
        for r in self.registry().market_install_records().await? {
            let Some(l) = self.registry().market_listing(&r.capability_id).await? else {
                continue;
            };
            if let Some(v) = latest_installable(&l) {
                if semver_of(&v.version) > semver_of(&r.version) {
                    out.push(UpdateAvailable {
                        id: r.capability_id.clone(),
                        installed: r.version.clone(),
                        latest: v.version.clone(),
                    });
                }
            }
        }
        Ok(out)
    }

    /// Brings the cache up to date from the change feed: only what changed since the last
    /// sync, page by page (each page one transaction with its cursor), or nothing at all when
    /// the server answers 304. `full` starts over.
    pub async fn market_sync(&self, full: bool, cb: Progress<'_>) -> CoreResult<SyncReport> {
        let started = Instant::now();
        let client = self.market_client().await?;
        let reg = self.registry();
        let from_server = reg.meta(SOURCE).await?.as_deref() == Some("server");
        let reset = full || !from_server;
        let mut cursor: i64 = if reset {
            0
        } else {
            reg.meta(CURSOR)
                .await?
                .and_then(|c| c.parse().ok())
                .unwrap_or(0)
        };
        let etag = if reset { None } else { reg.meta(ETAG).await? };
        let mut report = SyncReport {
            fetched: 0,
            removed: 0,
            unchanged: false,
            pages: 0,
            duration_ms: 0.0,
            cached: 0,
        };
        progress(cb, "sync", "asking the marketplace for changes", 0, 0);
        let mut first = true;
        loop {
            let path = format!("/v1/sync?since={cursor}&limit={SYNC_PAGE}");
            let a = client
                .send(
                    reqwest::Method::GET,
                    &path,
                    None,
                    if first { etag.as_deref() } else { None },
                )
                .await?;
            if a.status == 304 {
                report.unchanged = true;
                reg.set_meta(SYNCED_AT, &now()).await?;
                break;
            }
            let page: SyncPage = client.parse(&path, &a.body)?;
            report.pages += 1;
            report.fetched += page.items.len() as i64;
            report.removed += page.removed.len() as i64;
            let mut meta = vec![
                (CURSOR, page.cursor.to_string()),
                (SOURCE, "server".to_string()),
            ];
            if !page.more {
                meta.push((SYNCED_AT, now()));
                if let Some(e) = &a.etag {
                    meta.push((ETAG, e.clone()));
                }
            }
            reg.market_apply_page(reset && first, &page.items, &page.removed, &meta)
                .await?;
            progress(
                cb,
                "sync",
                format!("{} listings", report.fetched),
                report.fetched,
                report.fetched + page.remaining,
            );
            cursor = page.cursor;
            first = false;
            if !page.more {
                break;
            }
        }
        report.cached = reg.market_cached().await?;
        report.duration_ms = started.elapsed().as_secs_f64() * 1000.0;
        progress(cb, "sync", "done", report.fetched, report.fetched);
        Ok(report)
    }

    /// Searches the cache (works offline).
    pub async fn market_search(&self, q: &MarketQuery) -> CoreResult<MarketPage> {
        self.market_ensure_catalog().await?;
        let (listings, total) = self.registry().market_search(q).await?;
        let installs = self.registry().market_install_records().await?;
        let items = listings
            .into_iter()
            .map(|l| {
                let installed = installs
                    .iter()
                    .find(|r| r.capability_id == l.card.id)
                    .map(|r| r.version.clone());
                let update = installed.as_ref().and_then(|i| {
                    latest_installable(&l)
                        .filter(|v| semver_of(&v.version) > semver_of(i))
                        .map(|v| v.version.clone())
                });
                MarketCard {
                    card: l.card,
                    installed,
                    update,
                }
            })
            .collect();
        let categories: Vec<CategoryCount> = self.registry().market_categories().await?;
        Ok(MarketPage {
            items,
            total,
            page: q.page.unwrap_or(1).max(1),
            per_page: q.per_page.unwrap_or(24).clamp(1, 200),
            categories,
        })
    }

    /// A capability's detail: fresh from the server when it answers (the cache is updated),
    /// else from the cache (`offline`).
    pub async fn market_detail(&self, id: &str) -> CoreResult<MarketDetail> {
        self.market_ensure_catalog().await?;
        let reg = self.registry();
        let mut offline = false;
        let online = reg.meta(SOURCE).await?.as_deref() == Some("server");
        let mut listing = reg.market_listing(id).await?;
        let mut reviews = reg.market_reviews(id).await?;
        if online {
            match self.market_client().await {
                Ok(client) => {
                    let fresh: CoreResult<Listing> =
                        client.get(&format!("/v1/capabilities/{}", seg(id))).await;
                    match fresh {
                        Ok(l) => {
                            reg.market_apply_page(false, std::slice::from_ref(&l), &[], &[])
                                .await?;
                            listing = Some(l);
                            if let Ok(r) = client
                                .get::<Vec<Review>>(&format!(
                                    "/v1/capabilities/{}/reviews",
                                    seg(id)
                                ))
                                .await
                            {
                                reg.market_put_reviews(id, &r).await?;
                                reviews = r;
                            }
                        }
                        Err(CoreError::MarketUnreachable { .. }) => offline = true,
                        Err(CoreError::Market { status: 404, .. }) => {
                            reg.market_apply_page(false, &[], &[id.to_string()], &[])
                                .await?;
                            listing = None;
                        }
                        Err(e) => return Err(e),
                    }
                }
                Err(_) => offline = true,
            }
        }
        let listing =
            listing.ok_or_else(|| CoreError::NotFound(format!("{id} (in the marketplace)")))?;
        let record = reg.market_install_record(id).await?;
        let revoked = match &record {
            Some(r) => reg.market_revoked(id, &r.version).await?,
            None => None,
        };
        let update = record.as_ref().and_then(|r| {
            latest_installable(&listing)
                .filter(|v| semver_of(&v.version) > semver_of(&r.version))
                .map(|v| v.version.clone())
        });
        let permissions = latest_installable(&listing)
            .or(listing.versions.first())
            .map(|v| v.permissions.iter().map(|p| words(p)).collect())
            .unwrap_or_default();
        Ok(MarketDetail {
            permissions,
            key_fingerprint: listing.publisher_key.as_deref().map(package::fingerprint),
            installed: record.map(|r| InstalledView {
                version: r.version,
                previous: r.previous_version,
                installed_at: r.installed_at,
                key_fingerprint: if r.public_key.is_empty() {
                    String::new()
                } else {
                    package::fingerprint(&r.public_key)
                },
                revoked,
            }),
            update,
            reviews,
            offline,
            listing,
        })
    }

    /// A listing from the cache, else from the server.
    async fn market_listing_any(&self, id: &str) -> CoreResult<Listing> {
        if let Some(l) = self.registry().market_listing(id).await? {
            return Ok(l);
        }
        let client = self.market_client().await?;
        client.get(&format!("/v1/capabilities/{}", seg(id))).await
    }

    /// The publisher key of this library, made (and kept in the keyring) on first use.
    async fn signing_key(&self) -> CoreResult<SigningKey> {
        if let Some(k) = self.secrets().retrieve(KEY_SLOT.0, KEY_SLOT.1).await? {
            return Ok(SigningKey::from_hex(k.expose())?);
        }
        let key = SigningKey::generate()?;
        self.secrets()
            .persist(KEY_SLOT.0, KEY_SLOT.1, Sensitive::new(key.to_hex()))
            .await?;
        Ok(key)
    }
}

async fn source_url(app: &Capsmith) -> CoreResult<String> {
    Ok(app.market_url().await?.unwrap_or_else(|| "unknown".into()))
}

fn bundled_id(e: &super::bundled::Example) -> Option<String> {
    validate::check_text(
        e.file,
        e.text,
        manifest::SourceFormat::detect(e.file, e.text),
        None,
    )
    .manifest
    .map(|m| m.capability().id.clone())
}

/// The version to install: the one asked for, else the newest installable. A yanked version
/// is refused unless it is the one already installed.
fn pick_version<'a>(
    l: &'a Listing,
    wanted: Option<&str>,
    record: Option<&InstallRecord>,
) -> CoreResult<&'a VersionInfo> {
    let v = match wanted {
        Some(w) => l.versions.iter().find(|v| v.version == w).ok_or_else(|| {
            CoreError::NotFound(format!("{}@{w} (in the marketplace)", l.card.id))
        })?,
        None => latest_installable(l).ok_or_else(|| {
            CoreError::NotFound(format!("an installable version of {}", l.card.id))
        })?,
    };
    if let Some(reason) = &v.revoked {
        return Err(CoreError::Package {
            code: crate::ErrorKind::Revoked,
            message: format!(
                "{}@{} was revoked by the marketplace ({reason}); it cannot be installed{}",
                l.card.id,
                v.version,
                latest_installable(l)
                    .map(|g| format!(": {} is the newest good version", g.version))
                    .unwrap_or_default()
            ),
        });
    }
    if let Some(reason) = &v.yanked {
        if record.map(|r| r.version.as_str()) != Some(v.version.as_str()) {
            return Err(CoreError::Package {
                code: crate::ErrorKind::Yanked,
                message: format!(
                    "{}@{} was yanked by its publisher ({reason}); it keeps working where it is installed but cannot be installed afresh",
                    l.card.id, v.version
                ),
            });
        }
    }
    Ok(v)
}

/// An install worked out (`Capsmith::prepare_install`): every package downloaded and verified,
/// the plan computed from the manifests inside them.
struct Prepared {
    plan: InstallPlan,
    record: Option<InstallRecord>,
    /// Dependencies first, the capability itself last.
    packages: Vec<Verified>,
}

/// One package of an install after its hash and signature were checked.
struct Verified {
    listing: Listing,
    version: VersionInfo,
    checked: validate::Checked,
    terms: crate::market::Terms,
    /// `(sha256, bytes)`; `None` for the built-in catalog.
    archive: Option<(String, Vec<u8>)>,
    from_cache: bool,
}

/// `new`, `same`, `rotated` or `changed`, and the pinned key. `rotated`: a chain of
/// hand-overs in the listing leads from the pinned key to the version's, each signed by the
/// key before it (checked here, so it holds offline and against a server that lies).
fn key_state(
    record: Option<&InstallRecord>,
    listing: &Listing,
    v: &VersionInfo,
) -> (&'static str, Option<String>) {
    match record {
        None => ("new", None),
        Some(r) if r.public_key.is_empty() => ("new", None),
        Some(r) if r.public_key == v.public_key => ("same", Some(r.public_key.clone())),
        Some(r) if handed_over(&r.public_key, &v.public_key, &listing.key_rotations) => {
            ("rotated", Some(r.public_key.clone()))
        }
        Some(r) => ("changed", Some(r.public_key.clone())),
    }
}

/// Whether signed hand-overs lead from `pinned` to `key`.
fn handed_over(pinned: &str, key: &str, rotations: &[crate::market::KeyRotation]) -> bool {
    let mut current = pinned.to_string();
    // Each step uses a hand-over signed by the key reached so far; no more steps than there
    // are statements, so a cycle ends.
    for _ in 0..rotations.len() {
        if current == key {
            return true;
        }
        let Some(next) = rotations.iter().find(|r| {
            r.old_key == current
                && package::verify_rotation(&r.user, &r.old_key, &r.new_key, &r.signature).is_ok()
        }) else {
            return false;
        };
        current = next.new_key.clone();
    }
    current == key
}

/// The archive's hash and signature.
fn verify_package(id: &str, v: &VersionInfo, bytes: &[u8]) -> CoreResult<()> {
    let sha = package::sha256_hex(bytes);
    if sha != v.sha256 {
        return Err(CoreError::Package {
            code: crate::ErrorKind::PackageTampered,
            message: format!(
                "the archive of {id}@{} does not match its published hash (got {}…, expected {}…): it was altered on the way or on the server; nothing was installed",
                v.version,
                &sha[..12],
                &v.sha256[..v.sha256.len().min(12)]
            ),
        });
    }
    Ok(package::verify(
        &v.public_key,
        id,
        &v.version,
        &v.sha256,
        &v.signature,
    )?)
}

/// A listing for the built-in catalog (bundled examples; installed from the app itself).
fn bundled_listing(m: &validate::Manifest, seq: i64) -> Listing {
    let c = m.capability();
    let in_force = m.permissions_in_force();
    let terms = crate::market::Terms::of(m);
    Listing {
        card: Card {
            id: c.id.clone(),
            name: c.name.clone(),
            description: c.description.clone(),
            icon: c.icon.clone(),
            category: c.category.clone(),
            tags: c.tags.clone(),
            kind: m.kind().as_str().to_string(),
            publisher: "Capsmith (built in)".into(),
            publisher_verified: true,
            org: None,
            visibility: "public".into(),
            license: c.license.clone(),
            price_cents: 0,
            entitled: true,
            installs: 0,
            rating: None,
            rating_count: 0,
            featured: false,
            deprecated: None,
            latest_version: Some(m.version()),
            updated_at: String::new(),
        },
        publisher_key: None,
        versions: vec![VersionInfo {
            version: m.version(),
            sha256: String::new(),
            signature: String::new(),
            public_key: String::new(),
            size: m.source.len() as i64,
            permissions: terms.permissions,
            domains: terms.domains,
            configuration: terms.configuration,
            dependencies: terms.dependencies,
            tests_passed: 0,
            tests_total: 0,
            yanked: None,
            revoked: None,
            approved: true,
            published_at: String::new(),
        }],
        readme: package::docs::generate(
            &m.document,
            &in_force,
            &m.analysis.allowed_domains,
            package::docs::DocFormat::Markdown,
        ),
        seq,
        key_rotations: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::market::KeyRotation;

    fn hand_over(user: &str, from: &SigningKey, to: &SigningKey) -> KeyRotation {
        KeyRotation {
            user: user.into(),
            old_key: from.public_b64(),
            new_key: to.public_b64(),
            signature: from.sign_rotation(user, &to.public_b64()),
            at: String::new(),
        }
    }

    #[test]
    fn only_a_chain_signed_from_the_pinned_key_hands_over() {
        let [a, b, c, x] = [(); 4].map(|_| SigningKey::generate().unwrap());
        let chain = vec![hand_over("alice", &a, &b), hand_over("alice", &b, &c)];
        assert!(handed_over(&a.public_b64(), &c.public_b64(), &chain));
        assert!(handed_over(&b.public_b64(), &c.public_b64(), &chain));
        // Not backwards, not from a key outside the chain.
        assert!(!handed_over(&c.public_b64(), &a.public_b64(), &chain));
        assert!(!handed_over(&x.public_b64(), &c.public_b64(), &chain));
        // A statement for the right keys signed by another key is no hand-over.
        let mut forged = hand_over("alice", &x, &c);
        forged.old_key = a.public_b64();
        assert!(!handed_over(&a.public_b64(), &c.public_b64(), &[forged]));
        // Nor is one whose user was changed after signing.
        let mut renamed = hand_over("alice", &a, &b);
        renamed.user = "mallory".into();
        assert!(!handed_over(&a.public_b64(), &b.public_b64(), &[renamed]));
        // A cycle ends.
        let cycle = vec![hand_over("alice", &a, &b), hand_over("alice", &b, &a)];
        assert!(!handed_over(&a.public_b64(), &c.public_b64(), &cycle));
    }
}
