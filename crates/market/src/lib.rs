//! `capsmith-market`: the marketplace server. Axum over sqlx (`Any`: SQLite by default,
//! PostgreSQL for several servers on one database). Reuses the core for what a package is
//! (`capsmith_core::package`), what a valid manifest is, and the wire types
//! (`capsmith_core::market`).

pub mod db;
pub mod error;
pub mod http;
pub mod openapi;
pub mod seed;
pub mod store;
pub mod users;

pub use error::{MarketError, MarketResult};
