//! The HTTP API (`/v1/…`, axum). Each handler reads the caller (an optional bearer token),
//! checks limits, and calls one `store` function. Every error is the JSON envelope of
//! `MarketError`; bodies are capped (`MAX_BODY`, `MAX_PUBLISH_BODY`); publish and failed
//! sign-ins are rate limited per caller.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::extract::rejection::JsonRejection;
use axum::extract::{
    ConnectInfo, DefaultBodyLimit, FromRequest, FromRequestParts, Path, Query, Request, State,
};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use capsmith_format::market::{
    DeprecateInput, EntitlementInput, FeaturedInput, KeyInput, ListingChange, PublishRequest,
    ReasonInput, ReviewInput, SyncParams,
};

use crate::db::Db;
use crate::error::{MarketError, MarketResult};
use crate::store::{self, SearchParams};
use crate::users::{self, User};

/// Largest request body, but for publishing.
pub const MAX_BODY: usize = 64 * 1024;
/// Largest publish body: a package at its cap, in base64, with room for the rest.
pub const MAX_PUBLISH_BODY: usize = capsmith_format::package::MAX_PACKAGE_BYTES * 4 / 3 + 64 * 1024;

/// Token buckets per caller, in a map of bounded size. A bucket that has refilled to its burst
/// is the same as no bucket, so it is dropped when the map is full (and every `SWEEP_EVERY`
/// calls); when the map is full of callers still being limited, a new caller is refused
/// rather than the map growing: memory stays bounded, failing closed.
pub struct Limiter {
    buckets: Mutex<Buckets>,
    cap: usize,
}

#[derive(Default)]
struct Buckets {
    /// key → (tokens, when last counted, burst, per_minute)
    map: HashMap<String, (f64, Instant, f64, f64)>,
    calls: u64,
}

/// Most buckets kept at once.
pub const LIMITER_CAP: usize = 100_000;
const SWEEP_EVERY: u64 = 4096;

impl Default for Limiter {
    fn default() -> Self {
        Limiter::with_cap(LIMITER_CAP)
    }
}

impl Limiter {
    pub fn with_cap(cap: usize) -> Self {
        Limiter {
            buckets: Mutex::new(Buckets::default()),
            cap: cap.max(1),
        }
    }

    /// Buckets held now.
    pub fn len(&self) -> usize {
        self.buckets.lock().map(|b| b.map.len()).unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Takes one token from `key`'s bucket (`burst` tokens, refilled at `per_minute`).
    pub fn take(&self, key: &str, burst: f64, per_minute: f64) -> MarketResult<()> {
        let mut b = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        b.calls += 1;
        let full = b.map.len() >= self.cap && !b.map.contains_key(key);
        if full || b.calls.is_multiple_of(SWEEP_EVERY) {
            b.map.retain(|_, (tokens, at, burst, rate)| {
                *tokens + now.duration_since(*at).as_secs_f64() * *rate / 60.0 < *burst
            });
        }
        if b.map.len() >= self.cap && !b.map.contains_key(key) {
            return Err(MarketError::RateLimited(1));
        }
        let (tokens, at, _, _) = b
            .map
            .entry(key.to_string())
            .or_insert((burst, now, burst, per_minute));
        *tokens = (*tokens + now.duration_since(*at).as_secs_f64() * per_minute / 60.0).min(burst);
        *at = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            Ok(())
        } else {
            let wait = ((1.0 - *tokens) * 60.0 / per_minute).ceil() as u64;
            Err(MarketError::RateLimited(wait.max(1)))
        }
    }
}

#[cfg(test)]
mod limiter_tests {
    use super::*;

    #[test]
    fn the_map_stays_bounded_under_a_flood_of_callers() {
        let l = Limiter::with_cap(100);
        // Callers still being limited fill it: new ones are refused, the map does not grow.
        let mut refused = 0;
        for i in 0..10_000 {
            if l.take(&format!("caller-{i}"), 5.0, 0.001).is_err() {
                refused += 1;
            }
            assert!(l.len() <= 100);
        }
        assert_eq!(refused, 10_000 - 100);
        // A caller already known still gets its own answer.
        assert!(l.take("caller-1", 5.0, 0.001).is_ok());
        // Buckets that refilled (one token a second here) are dropped, so new callers get in
        // again once the old ones have waited long enough.
        let l = Limiter::with_cap(100);
        for i in 0..100 {
            l.take(&format!("old-{i}"), 1.0, 60.0).unwrap();
        }
        assert!(
            l.take("early", 1.0, 60.0).is_err(),
            "full of callers still limited"
        );
        std::thread::sleep(std::time::Duration::from_millis(1100));
        for i in 0..100 {
            assert!(l.take(&format!("new-{i}"), 1.0, 60.0).is_ok(), "new-{i}");
            assert!(l.len() <= 100);
        }
    }
}

/// Limits, per minute; tests lower them.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub publish_burst: f64,
    pub publish_per_minute: f64,
    pub login_burst: f64,
    pub login_per_minute: f64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            publish_burst: 20.0,
            publish_per_minute: 10.0,
            login_burst: 10.0,
            login_per_minute: 5.0,
        }
    }
}

pub struct AppState {
    pub db: Db,
    pub limiter: Limiter,
    pub limits: Limits,
    pub listings: ListingCache,
}

/// Capability pages as served, per reader, while nothing changed: any write moves the change
/// counter, which is read at most every `FRESH_FOR` (so with several servers a change shows on
/// the others within that time). A page read from here costs no database query.
#[derive(Default)]
pub struct ListingCache {
    entries: Mutex<HashMap<(i64, String), (i64, axum::body::Bytes)>>,
    counter: tokio::sync::Mutex<Option<(i64, Instant)>>,
}

const FRESH_FOR: std::time::Duration = std::time::Duration::from_millis(100);
const CACHED_PAGES: usize = 20_000;

impl ListingCache {
    async fn seq(&self, db: &Db) -> MarketResult<i64> {
        let mut c = self.counter.lock().await;
        if let Some((seq, at)) = *c {
            if at.elapsed() < FRESH_FOR {
                return Ok(seq);
            }
        }
        let seq = store::max_seq(db).await?;
        *c = Some((seq, Instant::now()));
        Ok(seq)
    }

    /// After a write through this server: the next read asks the database.
    async fn invalidate(&self) {
        *self.counter.lock().await = None;
    }

    fn get(&self, key: &(i64, String), seq: i64) -> Option<axum::body::Bytes> {
        let e = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        e.get(key)
            .filter(|(s, _)| *s == seq)
            .map(|(_, b)| b.clone())
    }

    fn put(&self, key: (i64, String), seq: i64, body: axum::body::Bytes) {
        let mut e = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if e.len() >= CACHED_PAGES {
            e.retain(|_, (s, _)| *s == seq);
            if e.len() >= CACHED_PAGES {
                e.clear();
            }
        }
        e.insert(key, (seq, body));
    }
}

/// JSON bodies whose rejections are envelopes too.
pub struct Body<T>(pub T);

impl<S: Send + Sync, T: serde::de::DeserializeOwned> FromRequest<S> for Body<T> {
    type Rejection = MarketError;
    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(v)) => Ok(Body(v)),
            Err(JsonRejection::BytesRejection(e))
                if e.status() == StatusCode::PAYLOAD_TOO_LARGE =>
            {
                Err(MarketError::TooLarge(
                    "the request body is too large".into(),
                ))
            }
            Err(e) => Err(MarketError::BadRequest(e.body_text())),
        }
    }
}

/// The caller: `None` without a token; a wrong token is an error and counts against the
/// caller's sign-in limit.
async fn viewer(
    app: &AppState,
    headers: &HeaderMap,
    peer: SocketAddr,
) -> MarketResult<Option<User>> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let token = value
        .to_str()
        .ok()
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or(MarketError::BadToken)?;
    match users::by_token(&app.db, token).await? {
        Some(u) => Ok(Some(u)),
        None => {
            let l = app.limits;
            app.limiter.take(
                &format!("login:{}", peer.ip()),
                l.login_burst,
                l.login_per_minute,
            )?;
            Err(MarketError::BadToken)
        }
    }
}

/// The caller, when a token came with the request (`None` without one).
pub struct Viewer(pub Option<User>, pub Arc<AppState>);
/// A caller that must be signed in.
pub struct SignedIn(pub User, pub Arc<AppState>);

impl FromRequestParts<Arc<AppState>> for Viewer {
    type Rejection = MarketError;
    async fn from_request_parts(
        parts: &mut Parts,
        app: &Arc<AppState>,
    ) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0)
            .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 0)));
        Ok(Viewer(
            viewer(app, &parts.headers, peer).await?,
            app.clone(),
        ))
    }
}

impl FromRequestParts<Arc<AppState>> for SignedIn {
    type Rejection = MarketError;
    async fn from_request_parts(
        parts: &mut Parts,
        app: &Arc<AppState>,
    ) -> Result<Self, Self::Rejection> {
        let Viewer(user, app) = Viewer::from_request_parts(parts, app).await?;
        Ok(SignedIn(user.ok_or(MarketError::Unauthorized)?, app))
    }
}

async fn health() -> Json<serde_json::Value> {
    Json(serde_json::json!({ "status": "ok", "version": env!("CARGO_PKG_VERSION") }))
}

async fn openapi() -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        crate::openapi::spec_string(),
    )
        .into_response()
}

async fn me(SignedIn(user, _): SignedIn) -> MarketResult<Response> {
    Ok(Json(user.account()).into_response())
}

async fn me_key(
    SignedIn(user, app): SignedIn,
    Body(input): Body<KeyInput>,
) -> MarketResult<Response> {
    let l = app.limits;
    app.limiter.take(
        &format!("key:{}", user.id),
        l.login_burst,
        l.login_per_minute,
    )?;
    Ok(
        Json(users::set_key(&app.db, &user, &input.public_key, input.rotation.as_deref()).await?)
            .into_response(),
    )
}

async fn search(Viewer(v, app): Viewer, Query(p): Query<SearchParams>) -> MarketResult<Response> {
    Ok(Json(store::search(&app.db, v.as_ref(), &p).await?).into_response())
}

async fn featured(Viewer(v, app): Viewer) -> MarketResult<Response> {
    let p = SearchParams {
        featured: Some(true),
        per_page: Some(100),
        ..Default::default()
    };
    Ok(Json(store::search(&app.db, v.as_ref(), &p).await?.items).into_response())
}

async fn categories(Viewer(v, app): Viewer) -> MarketResult<Response> {
    Ok(Json(store::categories(&app.db, v.as_ref()).await?).into_response())
}

async fn sync(
    Viewer(v, app): Viewer,
    h: HeaderMap,
    Query(p): Query<SyncParams>,
) -> MarketResult<Response> {
    let since = p.since.unwrap_or(0).max(0);
    // The feed's state for this reader: the newest change number. A client that finished its
    // last sync at this state sends it back and gets a 304 without a listing being read.
    let max = store::max_seq(&app.db).await?;
    let etag = format!("W/\"m{max}-u{}\"", v.as_ref().map(|u| u.id).unwrap_or(0));
    if h.get(header::IF_NONE_MATCH).and_then(|x| x.to_str().ok()) == Some(etag.as_str()) {
        return Ok((StatusCode::NOT_MODIFIED, [(header::ETAG, etag)]).into_response());
    }
    let page = store::sync(&app.db, v.as_ref(), since, p.limit.unwrap_or(1000)).await?;
    Ok(([(header::ETAG, etag)], Json(page)).into_response())
}

async fn detail(Viewer(v, app): Viewer, Path(id): Path<String>) -> MarketResult<Response> {
    let seq = app.listings.seq(&app.db).await?;
    let key = (v.as_ref().map(|u| u.id).unwrap_or(0), id);
    let body = match app.listings.get(&key, seq) {
        Some(b) => b,
        None => {
            let listing = store::listing(&app.db, v.as_ref(), &key.1).await?;
            let b = axum::body::Bytes::from(
                serde_json::to_vec(&listing).map_err(|e| MarketError::Internal(e.to_string()))?,
            );
            app.listings.put(key, seq, b.clone());
            b
        }
    };
    Ok(([(header::CONTENT_TYPE, "application/json")], body).into_response())
}

async fn publish(
    SignedIn(user, app): SignedIn,
    Path(id): Path<String>,
    Body(req): Body<PublishRequest>,
) -> MarketResult<Response> {
    let l = app.limits;
    app.limiter.take(
        &format!("publish:{}", user.id),
        l.publish_burst,
        l.publish_per_minute,
    )?;
    let out = store::publish(&app.db, &user, &id, &req).await?;
    Ok((StatusCode::CREATED, Json(out)).into_response())
}

async fn package(
    Viewer(v, app): Viewer,
    Path((id, version)): Path<(String, String)>,
) -> MarketResult<Response> {
    let bytes = store::package(&app.db, v.as_ref(), &id, &version).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/octet-stream".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{id}-{version}.capkg\""),
            ),
        ],
        bytes,
    )
        .into_response())
}

async fn yank(
    SignedIn(user, app): SignedIn,
    Path((id, version)): Path<(String, String)>,
    Body(r): Body<ReasonInput>,
) -> MarketResult<Response> {
    store::yank(&app.db, &user, &id, &version, &r.reason).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn revoke(
    SignedIn(user, app): SignedIn,
    Path((id, version)): Path<(String, String)>,
    Body(r): Body<ReasonInput>,
) -> MarketResult<Response> {
    store::revoke(&app.db, &user, &id, &version, Some(&r.reason)).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn unrevoke(
    SignedIn(user, app): SignedIn,
    Path((id, version)): Path<(String, String)>,
) -> MarketResult<Response> {
    store::revoke(&app.db, &user, &id, &version, None).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn approve(
    SignedIn(user, app): SignedIn,
    Path((id, version)): Path<(String, String)>,
) -> MarketResult<Response> {
    store::approve(&app.db, &user, &id, &version).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn deprecate(
    SignedIn(user, app): SignedIn,
    Path(id): Path<String>,
    Body(d): Body<DeprecateInput>,
) -> MarketResult<Response> {
    store::deprecate(&app.db, &user, &id, d.message.as_deref()).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// An explicit change of visibility, organization or price, by the owner side (audited).
async fn change_listing(
    SignedIn(user, app): SignedIn,
    Path(id): Path<String>,
    Body(c): Body<ListingChange>,
) -> MarketResult<Response> {
    store::change_listing(&app.db, &user, &id, &c).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn reviews(Viewer(v, app): Viewer, Path(id): Path<String>) -> MarketResult<Response> {
    Ok(Json(store::reviews(&app.db, v.as_ref(), &id).await?).into_response())
}

async fn review(
    SignedIn(user, app): SignedIn,
    Path(id): Path<String>,
    Body(r): Body<ReviewInput>,
) -> MarketResult<Response> {
    Ok(Json(store::review(&app.db, &user, &id, r.stars, &r.text).await?).into_response())
}

async fn install(
    Viewer(v, app): Viewer,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(id): Path<String>,
) -> MarketResult<Response> {
    let who = v
        .as_ref()
        .map(|u| u.id.to_string())
        .unwrap_or_else(|| peer.ip().to_string());
    // Only an id the caller may see gets a bucket: made-up ids cannot fill the limiter's map.
    store::require_visible(&app.db, v.as_ref(), &id).await?;
    app.limiter
        .take(&format!("install:{who}:{id}"), 5.0, 10.0)?;
    store::count_install(&app.db, v.as_ref(), &id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn set_featured(
    SignedIn(user, app): SignedIn,
    Path(id): Path<String>,
    Body(f): Body<FeaturedInput>,
) -> MarketResult<Response> {
    store::set_featured(&app.db, &user, &id, f.featured).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn grant(
    SignedIn(user, app): SignedIn,
    Path(id): Path<String>,
    Body(e): Body<EntitlementInput>,
) -> MarketResult<Response> {
    store::grant(&app.db, &user, &id, &e.user).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn verify_user(
    SignedIn(user, app): SignedIn,
    Path(name): Path<String>,
) -> MarketResult<Response> {
    if !user.admin {
        return Err(MarketError::Forbidden(
            "only a marketplace administrator may verify publishers".into(),
        ));
    }
    users::set_verified(&app.db, &name, true).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Refuses a body whose declared length is over `limit` at once, before reading (or waiting
/// for) any of it; `DefaultBodyLimit` still counts bodies sent without a length.
async fn declared_length_cap(limit: usize, req: Request, next: axum::middleware::Next) -> Response {
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return MarketError::TooLarge(format!("the request body is over {limit} bytes"))
            .into_response();
    }
    next.run(req).await
}

/// Writes (anything but GET) leave the page cache asking the database again, so this server's
/// own readers never see a page older than their write.
async fn after_writes(
    State(app): State<Arc<AppState>>,
    req: Request,
    next: axum::middleware::Next,
) -> Response {
    let write = req.method() != axum::http::Method::GET;
    let res = next.run(req).await;
    if write {
        app.listings.invalidate().await;
    }
    res
}

async fn fallback() -> MarketError {
    MarketError::NotFound("no such endpoint; see /v1/openapi.json".into())
}

/// The whole API.
pub fn router(state: Arc<AppState>) -> Router {
    let publish_route = Router::new()
        .route("/v1/capabilities/{id}/versions", post(publish))
        .layer(DefaultBodyLimit::max(MAX_PUBLISH_BODY))
        .layer(axum::middleware::from_fn(|req, next| {
            declared_length_cap(MAX_PUBLISH_BODY, req, next)
        }));
    Router::new()
        .route("/v1/health", get(health))
        .route("/v1/openapi.json", get(openapi))
        .route("/v1/me", get(me))
        .route("/v1/me/key", put(me_key))
        .route("/v1/capabilities", get(search))
        .route("/v1/featured", get(featured))
        .route("/v1/categories", get(categories))
        .route("/v1/sync", get(sync))
        .route("/v1/capabilities/{id}", get(detail).patch(change_listing))
        .route(
            "/v1/capabilities/{id}/versions/{version}/package",
            get(package),
        )
        .route("/v1/capabilities/{id}/versions/{version}/yank", post(yank))
        .route(
            "/v1/capabilities/{id}/versions/{version}/revoke",
            post(revoke).delete(unrevoke),
        )
        .route(
            "/v1/capabilities/{id}/versions/{version}/approve",
            post(approve),
        )
        .route("/v1/capabilities/{id}/deprecate", post(deprecate))
        .route("/v1/capabilities/{id}/reviews", get(reviews))
        .route("/v1/capabilities/{id}/review", put(review))
        .route("/v1/capabilities/{id}/installs", post(install))
        .route("/v1/capabilities/{id}/featured", put(set_featured))
        .route("/v1/capabilities/{id}/entitlements", post(grant))
        .route("/v1/users/{name}/verify", post(verify_user))
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .layer(axum::middleware::from_fn(|req, next| {
            declared_length_cap(MAX_BODY, req, next)
        }))
        .merge(publish_route)
        .fallback(fallback)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            after_writes,
        ))
        .with_state(state)
}

/// Serves until the process is stopped.
pub async fn serve(state: Arc<AppState>, listener: tokio::net::TcpListener) -> std::io::Result<()> {
    axum::serve(
        listener,
        router(state).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .await
}
