//! What trigger runs (webhooks, schedules) read before they start, kept in memory: the stored
//! version of a workflow, and a capability's configuration with the network settings. A
//! long-running trigger service would otherwise ask SQLite for them on every request.
//!
//! Freshness: the registry's `generation` counter (moved by SQL triggers whenever capabilities,
//! their versions, their configuration or settings change, from any process) is compared at
//! most every [`CHECK_EVERY`]; when it moved, everything cached is dropped. So a change made
//! anywhere is seen by trigger runs within that interval. Secrets are never cached (they stay
//! in the keyring until the run needs them).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::Capsmith;
use crate::engine::guard::NetPolicy;
use crate::registry::StoredVersion;
use crate::CoreResult;

/// How stale a trigger run's view of the registry may be.
pub const CHECK_EVERY: Duration = Duration::from_millis(50);

type ConfigAndPolicy = (HashMap<String, Value>, NetPolicy);

#[derive(Default, Debug)]
pub(crate) struct RunCache {
    state: Mutex<State>,
}

#[derive(Default, Debug)]
struct State {
    generation: Option<String>,
    checked: Option<Instant>,
    docs: HashMap<String, StoredVersion>,
    config: HashMap<String, ConfigAndPolicy>,
}

impl Capsmith {
    /// Drops what is cached when the registry's generation moved (checked at most every
    /// `CHECK_EVERY`).
    async fn refresh_cache(&self) -> CoreResult<()> {
        let due = self
            .cache
            .state
            .lock()
            .map(|s| s.checked.is_none_or(|t| t.elapsed() >= CHECK_EVERY))
            .unwrap_or(true);
        if !due {
            return Ok(());
        }
        let generation = self.registry().meta("generation").await?;
        if let Ok(mut s) = self.cache.state.lock() {
            if s.generation != generation {
                s.docs.clear();
                s.config.clear();
                s.generation = generation;
            }
            s.checked = Some(Instant::now());
        }
        Ok(())
    }

    /// The latest version of `id`, from the cache when it is fresh.
    pub(crate) async fn stored_cached(&self, id: &str) -> CoreResult<StoredVersion> {
        self.refresh_cache().await?;
        if let Some(s) = self
            .cache
            .state
            .lock()
            .ok()
            .and_then(|s| s.docs.get(id).cloned())
        {
            return Ok(s);
        }
        let stored = self.registry().get(id, None).await?;
        if let Ok(mut s) = self.cache.state.lock() {
            s.docs.insert(id.to_string(), stored.clone());
        }
        Ok(stored)
    }

    /// A capability's stored configuration and the network policy, from the cache when fresh.
    pub(crate) async fn config_and_policy_cached(
        &self,
        capability: &str,
    ) -> CoreResult<ConfigAndPolicy> {
        self.refresh_cache().await?;
        if let Some(c) = self
            .cache
            .state
            .lock()
            .ok()
            .and_then(|s| s.config.get(capability).cloned())
        {
            return Ok(c);
        }
        let c = self.config_and_policy(Some(capability)).await?;
        if let Ok(mut s) = self.cache.state.lock() {
            s.config.insert(capability.to_string(), c.clone());
        }
        Ok(c)
    }
}
