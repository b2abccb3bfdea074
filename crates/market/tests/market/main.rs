//! The marketplace end to end over loopback HTTP: the server against SQLite and against a real
//! PostgreSQL (`server`), two server processes on one PostgreSQL database (`postgres`), and
//! the core's client against a server process (`client`, with the tamper tests).

mod client;
mod consent;
mod openapi;
mod postgres;
mod server;
mod support;
mod trust;
