//! The DocDe HTTP application.
//!
//! [`startup::Application`] connects the store and the bus, binds the listener and runs the
//! server until shutdown; [`routes`] is the one place every endpoint is mounted.

pub mod api;
pub mod auth;
pub mod authz;
pub mod batched_reads;
pub mod booking;
pub mod config;
pub mod demo;
pub mod directory_index;
pub mod extract;
pub mod health;
pub mod mail;
pub mod metrics;
pub mod middleware;
pub mod openapi;
pub mod outbound;
pub mod problem;
pub mod ratings;
pub mod reception;
pub mod records;
pub mod reports;
pub mod routes;
pub mod seed;
pub mod shutdown;
pub mod startup;
pub mod state;
pub mod telemetry;
pub mod wal_checkpoint;
pub mod ward;
pub mod web;

pub use config::Config;
pub use startup::Application;
pub use state::AppState;
