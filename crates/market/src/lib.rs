//! `capsmith-market`: the marketplace server. Axum over sqlx (`Any`: SQLite by default,
//! PostgreSQL for several servers on one database). Reuses the formats crate, not the runtime,
//! for what a package is (`capsmith_format::package`), what a valid manifest is, and the wire types
//! (`capsmith_format::market`).

pub mod db;
pub mod error;
pub mod http;
pub mod openapi;
pub mod seed;
pub mod store;
pub mod users;

pub use error::{MarketError, MarketResult};
