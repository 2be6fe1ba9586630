//! Logs.
use std::io::IsTerminal;

/// Structured logs: JSON when `LOG_FORMAT=json`, human-readable otherwise; level from `RUST_LOG`.
/// Colours only when the logs go to a terminal (a file or a journal gets plain text).
pub fn init_tracing() {
    init_tracing_with(None, None);
}

/// The same, with `RUST_LOG` / `LOG_FORMAT` given on the command line taking precedence.
pub fn init_tracing_with(filter: Option<&str>, format: Option<&str>) {
    use tracing_subscriber::{EnvFilter, fmt};
    let default = "info,sqlx=warn,sea_orm=warn,tower_http=info";
    let filter = match filter {
        Some(f) => EnvFilter::try_new(f).unwrap_or_else(|_| EnvFilter::new(default)),
        None => EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default)),
    };
    let json = match format {
        Some(f) => f == "json",
        None => std::env::var("LOG_FORMAT").is_ok_and(|v| v == "json"),
    };
    if json {
        let _ = fmt().with_env_filter(filter).json().try_init();
    } else {
        let _ = fmt()
            .with_env_filter(filter)
            .with_ansi(std::io::stdout().is_terminal())
            .try_init();
    }
}
