//! Secrets in the OS keyring (the Secret Service on Linux), never anywhere else: a few
//! functions keyed by capability and configuration key. Values travel wrapped in `Sensitive`,
//! whose Debug and Display print `[redacted]`, so a stray `{:?}` cannot leak one.

use std::sync::{Arc, OnceLock};

use keyring_core::{CredentialStore, Entry};

use std::fmt;

pub use crate::sensitive::{redact, Sensitive};
use crate::{CoreError, CoreResult};

/// Keyring service name of the default library; entries are `<capability-id>/<KEY>` under it.
pub const SERVICE: &str = "capsmith";

/// The keyring, connected on first use. Entries live under a service name of their own per
/// Capsmith home (`capsmith` for the default one), so two libraries never share secrets.
#[derive(Clone)]
pub struct Secrets {
    service: String,
    store: Arc<OnceLock<Result<Arc<CredentialStore>, String>>>,
}

impl Secrets {
    /// Secrets of the library at `home`; `default_home` is the OS default location.
    pub fn for_home(home: &std::path::Path, default_home: Option<&std::path::Path>) -> Self {
        let service = if default_home == Some(home) {
            SERVICE.to_string()
        } else {
            use sha2::Digest;
            let digest = sha2::Sha256::digest(home.to_string_lossy().as_bytes());
            format!("{SERVICE}:{}", &hex::encode(digest)[..12])
        };
        Secrets {
            service,
            store: Arc::default(),
        }
    }

    /// The keyring service name entries are stored under.
    pub fn service(&self) -> &str {
        &self.service
    }
}

impl fmt::Debug for Secrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secrets")
    }
}

fn explain(raw: &str) -> CoreError {
    let hint = if raw.contains("org.freedesktop.secrets") || raw.contains("ServiceUnknown") {
        "no Secret Service is running: install and start one (gnome-keyring or KeePassXC's Secret Service integration)"
    } else if raw.contains("Failed to connect")
        || raw.contains("DBUS_SESSION_BUS_ADDRESS")
        || raw.contains("bus")
    {
        "no D-Bus session bus is reachable: run Capsmith inside your desktop session (or `dbus-run-session`)"
    } else if raw.contains("prompt") || raw.contains("locked") || raw.contains("Locked") {
        "the keyring is locked: unlock it (log in to the desktop, or `gnome-keyring-daemon --unlock`)"
    } else {
        "check that your system keyring is installed and unlocked"
    };
    CoreError::Keyring {
        message: format!("the OS keyring is not reachable ({raw})"),
        hint: hint.to_string(),
    }
}

impl Secrets {
    fn store(&self) -> CoreResult<Arc<CredentialStore>> {
        let r = self.store.get_or_init(|| {
            #[cfg(target_os = "linux")]
            {
                zbus_secret_service_keyring_store::Store::new()
                    .map(|s| s as Arc<CredentialStore>)
                    .map_err(|e| e.to_string())
            }
            #[cfg(not(target_os = "linux"))]
            {
                Err("this platform's keyring store is not built in".to_string())
            }
        });
        r.clone().map_err(|e| explain(&e))
    }

    fn entry(&self, capability: &str, key: &str) -> CoreResult<Entry> {
        let store = self.store()?;
        Entry::new_in_store(&store, &self.service, &format!("{capability}/{key}"))
            .map_err(|e| explain(&e.to_string()))
    }

    /// Stores (or replaces) a secret.
    pub async fn persist(
        &self,
        capability: &str,
        key: &str,
        value: Sensitive<String>,
    ) -> CoreResult<()> {
        let this = self.clone();
        let (c, k) = (capability.to_string(), key.to_string());
        blocking(move || {
            this.entry(&c, &k)?
                .set_password(value.expose())
                .map_err(|e| explain(&e.to_string()))
        })
        .await
    }

    /// The secret, or `None` when it was never set.
    pub async fn retrieve(
        &self,
        capability: &str,
        key: &str,
    ) -> CoreResult<Option<Sensitive<String>>> {
        let this = self.clone();
        let (c, k) = (capability.to_string(), key.to_string());
        blocking(move || match this.entry(&c, &k)?.get_password() {
            Ok(v) => Ok(Some(Sensitive::new(v))),
            Err(keyring_core::Error::NoEntry) => Ok(None),
            Err(e) => Err(explain(&e.to_string())),
        })
        .await
    }

    /// Removes a secret; `false` when there was none.
    pub async fn delete(&self, capability: &str, key: &str) -> CoreResult<bool> {
        let this = self.clone();
        let (c, k) = (capability.to_string(), key.to_string());
        blocking(move || match this.entry(&c, &k)?.delete_credential() {
            Ok(()) => Ok(true),
            Err(keyring_core::Error::NoEntry) => Ok(false),
            Err(e) => Err(explain(&e.to_string())),
        })
        .await
    }
}

/// The keyring client blocks on D-Bus: keep it off the async workers.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> CoreResult<T> + Send + 'static,
) -> CoreResult<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| CoreError::Keyring {
            message: format!("keyring task failed: {e}"),
            hint: String::new(),
        })?
}
