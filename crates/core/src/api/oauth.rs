//! OAuth2 connectors: the client from configuration, connecting (authorization code with
//! PKCE on loopback), keeping and refreshing tokens in the OS keyring.

use serde_json::{json, Value};

use super::Capsmith;
use crate::engine::{EngineError, OAUTH2_TOKEN_KEY};
use crate::manifest::model::AuthType;
use crate::{CoreError, CoreResult};

/// Configuration slots of an OAuth2 connector, besides the access token.
pub const OAUTH2_CLIENT_ID_KEY: &str = "OAUTH2_CLIENT_ID";
pub const OAUTH2_CLIENT_SECRET_KEY: &str = "OAUTH2_CLIENT_SECRET";
pub const OAUTH2_REFRESH_KEY: &str = "OAUTH2_REFRESH_TOKEN";

/// Every keyring slot an OAuth2 connector may fill.
pub const OAUTH2_SLOTS: &[&str] = &[
    OAUTH2_TOKEN_KEY,
    OAUTH2_REFRESH_KEY,
    OAUTH2_CLIENT_SECRET_KEY,
];
/// Non-secret bookkeeping: when the access token expires (Unix seconds).
const OAUTH2_EXPIRES_KEY: &str = "OAUTH2_EXPIRES_AT";

fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

impl Capsmith {
    async fn oauth_client(&self, id: &str) -> CoreResult<crate::engine::oauth::Client> {
        let stored = self.registry().get(id, None).await?;
        let cap = &stored.document.capability;
        let auth = cap
            .api
            .as_ref()
            .and_then(|a| a.auth.as_ref())
            .filter(|a| a.ty == AuthType::Oauth2)
            .ok_or_else(|| CoreError::InvalidArgument(format!("`{id}` does not use OAuth2")))?;
        let parse = |u: &Option<String>, what: &str| -> CoreResult<url::Url> {
            let u = u.as_deref().ok_or_else(|| EngineError::OAuth {
                message: format!("the manifest gives no {what}; paste a token with `capsmith config set {id} {OAUTH2_TOKEN_KEY} -`"),
            })?;
            url::Url::parse(u).map_err(|e| CoreError::InvalidArgument(format!("{what} `{u}`: {e}")))
        };
        let id_key = auth
            .client_id_key
            .clone()
            .unwrap_or_else(|| OAUTH2_CLIENT_ID_KEY.into());
        let secret_key = auth
            .client_secret_key
            .clone()
            .unwrap_or_else(|| OAUTH2_CLIENT_SECRET_KEY.into());
        let client_id = match self.plain_config(id).await?.get(&id_key) {
            Some(Value::String(s)) if !s.is_empty() => s.clone(),
            _ => match self
                .secrets()
                .retrieve(&self.secret_slot(id).await?, &id_key)
                .await?
            {
                Some(s) => s.expose().clone(),
                None => {
                    return Err(EngineError::MissingConfig {
                        capability: id.into(),
                        key: id_key,
                    }
                    .into())
                }
            },
        };
        Ok(crate::engine::oauth::Client {
            authorization_url: parse(&auth.authorization_url, "authorization_url")?,
            token_url: parse(&auth.token_url, "token_url")?,
            scopes: auth.scopes.clone(),
            client_id,
            client_secret: self
                .secrets()
                .retrieve(&self.secret_slot(id).await?, &secret_key)
                .await?,
            policy: self.config_and_policy(Some(id)).await?.1,
        })
    }

    async fn store_tokens(&self, id: &str, t: crate::engine::oauth::Tokens) -> CoreResult<()> {
        self.secrets()
            .persist(
                &self.secret_slot(id).await?,
                OAUTH2_TOKEN_KEY,
                t.access_token,
            )
            .await?;
        if let Some(r) = t.refresh_token {
            self.secrets()
                .persist(&self.secret_slot(id).await?, OAUTH2_REFRESH_KEY, r)
                .await?;
        }
        let pool = self.registry().pool();
        match t.expires_in {
            Some(secs) => {
                sqlx::query(
                    "INSERT INTO capability_config(capability_id, key, value) VALUES (?, ?, ?)
                     ON CONFLICT(capability_id, key) DO UPDATE SET value = excluded.value",
                )
                .bind(id)
                .bind(OAUTH2_EXPIRES_KEY)
                .bind(json!(now_secs() + secs).to_string())
                .execute(pool)
                .await?;
            }
            None => {
                sqlx::query("DELETE FROM capability_config WHERE capability_id = ? AND key = ?")
                    .bind(id)
                    .bind(OAUTH2_EXPIRES_KEY)
                    .execute(pool)
                    .await?;
            }
        }
        Ok(())
    }

    /// Connects an OAuth2 capability: authorization code with PKCE through a loopback
    /// redirect. `open_browser` shows the user the provider's page.
    pub async fn oauth_connect(
        &self,
        id: &str,
        open_browser: impl FnOnce(&url::Url),
        wait: std::time::Duration,
    ) -> CoreResult<()> {
        let client = self.oauth_client(id).await?;
        let tokens = crate::engine::oauth::authorize(&client, open_browser, wait).await?;
        self.store_tokens(id, tokens).await
    }

    /// Refreshes an OAuth2 access token when it has expired (or `force`). True when refreshed.
    pub(super) async fn oauth_refresh(&self, id: &str, force: bool) -> CoreResult<bool> {
        let expires = self
            .plain_config(id)
            .await?
            .get(OAUTH2_EXPIRES_KEY)
            .and_then(Value::as_u64);
        let due = force || expires.is_some_and(|at| at <= now_secs() + 30);
        if !due {
            return Ok(false);
        }
        let Some(refresh_token) = self
            .secrets()
            .retrieve(&self.secret_slot(id).await?, OAUTH2_REFRESH_KEY)
            .await?
        else {
            return Ok(false);
        };
        let client = self.oauth_client(id).await?;
        let tokens = crate::engine::oauth::refresh(&client, &refresh_token).await?;
        self.store_tokens(id, tokens).await?;
        Ok(true)
    }
}
