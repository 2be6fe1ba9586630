//! campus-photo: the back end of a university ID-photo collection service (高校图像信息采集).
//!
//! `main.rs` only parses the command line; this crate assembles the service: `app` builds the
//! shared state from the configuration, `server` serves it, `telemetry` sets up logs. The
//! layers and their rules are in docs/ARCHITECTURE.md.
pub mod app;
pub mod cli;
pub mod clock;
pub mod config;
pub mod db;
pub mod entities;
pub mod error;
pub mod events;
pub mod graphql;
pub mod http;
pub mod ids;
pub mod integrations;
pub mod metrics;
pub mod server;
pub mod services;
pub mod storage;
pub mod telemetry;

pub use app::{AppState, Overrides};
pub use server::{app, serve, start};
pub use telemetry::{init_tracing, init_tracing_with};
