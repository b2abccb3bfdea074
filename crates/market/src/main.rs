//! The `capsmith-market` command: run the marketplace server, add users (printing their API
//! token), grant entitlements, print the OpenAPI document.

use std::path::PathBuf;
use std::sync::Arc;

use capsmith_market::db::{default_data_dir, Db};
use capsmith_market::http::{AppState, Limits};
use capsmith_market::users::{self, NewUser};
use capsmith_market::MarketError;
use clap::{Args, Parser, Subcommand};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "capsmith-market",
    version,
    about = "The Capsmith marketplace server"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Args, Clone)]
struct Store {
    /// Data folder: the SQLite file and package archives (default ~/.local/share/capsmith-market).
    #[arg(long)]
    data: Option<PathBuf>,
    /// A database URL instead of the embedded SQLite: postgres://user@host/db.
    #[arg(long)]
    database: Option<String>,
}

impl Store {
    async fn open(&self) -> Result<(Db, PathBuf), MarketError> {
        let data = self.data.clone().unwrap_or_else(default_data_dir);
        Ok((Db::open(self.database.as_deref(), &data).await?, data))
    }
}

#[derive(Subcommand)]
enum Command {
    /// Serve the API until stopped (Ctrl-C).
    Serve {
        #[command(flatten)]
        store: Store,
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8790")]
        listen: String,
        /// Publish the bundled example capabilities when the marketplace is empty.
        #[arg(long)]
        seed_examples: bool,
    },
    /// Manage users.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Let USER download the paid capability ID.
    Grant {
        id: String,
        user: String,
        #[command(flatten)]
        store: Store,
    },
    /// Print the OpenAPI document.
    Openapi,
}

#[derive(Subcommand)]
enum UserCommand {
    /// Add a user (or give an existing one a new token) and print the API token.
    Add {
        name: String,
        /// With --org: admin of that organization (approves its versions); without: a
        /// marketplace administrator.
        #[arg(long)]
        admin: bool,
        /// Make the user a member of this organization (created when new).
        #[arg(long)]
        org: Option<String>,
        /// Mark the publisher verified.
        #[arg(long)]
        verified: bool,
        #[command(flatten)]
        store: Store,
    },
}

async fn run(cli: Cli) -> Result<(), MarketError> {
    match cli.command {
        Command::Serve {
            store,
            listen,
            seed_examples,
        } => {
            let (db, data) = store.open().await?;
            if seed_examples {
                let n = capsmith_market::seed::seed_examples(&db, &data).await?;
                if n > 0 {
                    eprintln!("capsmith-market: published {n} example capabilities");
                }
            }
            let listener =
                tokio::net::TcpListener::bind(&listen)
                    .await
                    .map_err(|e| MarketError::Io {
                        path: listen.clone(),
                        source: e,
                    })?;
            let addr = listener.local_addr().map_err(|e| MarketError::Io {
                path: listen.clone(),
                source: e,
            })?;
            // Tests and scripts read this line to learn the port.
            println!("capsmith-market listening on http://{addr}");
            let state = Arc::new(AppState {
                db,
                // `CAPSMITH_MARKET_LIMITER_CAP`: most callers tracked at once (tests lower it).
                limiter: std::env::var("CAPSMITH_MARKET_LIMITER_CAP")
                    .ok()
                    .and_then(|v| v.parse().ok())
                    .map(capsmith_market::http::Limiter::with_cap)
                    .unwrap_or_default(),
                limits: limits_from_env(),
                listings: Default::default(),
            });
            tokio::select! {
                r = capsmith_market::http::serve(state, listener) => r.map_err(|e| MarketError::Io { path: listen, source: e })?,
                _ = tokio::signal::ctrl_c() => {}
            }
            Ok(())
        }
        Command::User {
            command:
                UserCommand::Add {
                    name,
                    admin,
                    org,
                    verified,
                    store,
                },
        } => {
            let (db, _) = store.open().await?;
            let token = users::add_user(
                &db,
                &NewUser {
                    name,
                    admin,
                    org,
                    verified,
                },
            )
            .await?;
            println!("{token}");
            Ok(())
        }
        Command::Grant { id, user, store } => {
            let (db, _) = store.open().await?;
            let (admin_id,): (i64,) = sqlx::query_as("SELECT MIN(id) FROM users WHERE admin = 1")
                .fetch_one(&db.pool)
                .await
                .map_err(|_| {
                    MarketError::BadRequest(
                        "no administrator yet: `capsmith-market user add NAME --admin` first"
                            .into(),
                    )
                })?;
            let admin_name: (String,) =
                sqlx::query_as(db.sql("SELECT name FROM users WHERE id = $1"))
                    .bind(admin_id)
                    .fetch_one(&db.pool)
                    .await?;
            let admin = users::by_name(&db, &admin_name.0).await?;
            capsmith_market::store::grant(&db, &admin, &id, &user).await?;
            println!("{user} may now download {id}");
            Ok(())
        }
        Command::Openapi => {
            print!("{}", capsmith_market::openapi::spec_string());
            Ok(())
        }
    }
}

/// `CAPSMITH_MARKET_PUBLISH_PER_MINUTE` and `CAPSMITH_MARKET_LOGIN_PER_MINUTE` tune the limits
/// (tests lower them to see them work).
fn limits_from_env() -> Limits {
    let mut l = Limits::default();
    let read = |k: &str| std::env::var(k).ok().and_then(|v| v.parse::<f64>().ok());
    if let Some(v) = read("CAPSMITH_MARKET_PUBLISH_PER_MINUTE") {
        l.publish_per_minute = v;
        l.publish_burst = v.max(1.0);
    }
    if let Some(v) = read("CAPSMITH_MARKET_LOGIN_PER_MINUTE") {
        l.login_per_minute = v;
        l.login_burst = v.max(1.0);
    }
    l
}

#[tokio::main]
async fn main() {
    if let Err(e) = run(Cli::parse()).await {
        eprintln!("error: {e}");
        std::process::exit(match e.code() {
            "bad_request" | "not_found" => 2,
            _ => 1,
        });
    }
}
