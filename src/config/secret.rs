//! `CAMPUS_PHOTO_SECRET_KEY`: the 32-byte master secret, or on SQLite a development key kept in
//! `data/secret.key`.
use base64::{Engine, engine::general_purpose::STANDARD};

use super::{ConfigError, invalid};

/// The 32-byte master secret. Debug never prints it.
#[derive(Clone)]
pub struct SecretKey(pub [u8; 32]);

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretKey(..)")
    }
}

/// Where the development secret lives when `CAMPUS_PHOTO_SECRET_KEY` is unset.
pub const DEV_SECRET_PATH: &str = "data/secret.key";

pub(super) fn read<'a>(
    get: &impl Fn(&str) -> Option<&'a str>,
    database_url: &str,
    may_create_dev_secret: bool,
) -> Result<SecretKey, ConfigError> {
    // Every instance on one PostgreSQL must share the key, so none may invent its own.
    let shared_database = !database_url.starts_with("sqlite:");
    let secret_key = match get("CAMPUS_PHOTO_SECRET_KEY") {
        Some(text) => parse_secret(text)?,
        None if shared_database => {
            return Err(invalid(
                "CAMPUS_PHOTO_SECRET_KEY",
                "is required with PostgreSQL: every instance must use the same key (generate one with `openssl rand -base64 32`)",
            ));
        }
        None if may_create_dev_secret => load_or_create_dev_secret(DEV_SECRET_PATH.as_ref())?,
        None => return Err(invalid("CAMPUS_PHOTO_SECRET_KEY", "is required")),
    };
    Ok(secret_key)
}

fn parse_secret(text: &str) -> Result<SecretKey, ConfigError> {
    let bytes = STANDARD
        .decode(text)
        .map_err(|_| invalid("CAMPUS_PHOTO_SECRET_KEY", "expected base64"))?;
    let key: [u8; 32] = bytes.try_into().map_err(|_| {
        invalid(
            "CAMPUS_PHOTO_SECRET_KEY",
            "expected exactly 32 bytes once decoded",
        )
    })?;
    Ok(SecretKey(key))
}

/// Development convenience: a random key kept in `data/` so restarts can still decrypt.
fn load_or_create_dev_secret(path: &std::path::Path) -> Result<SecretKey, ConfigError> {
    let io = |source| ConfigError::Io {
        path: path.to_path_buf(),
        source,
    };
    match std::fs::read_to_string(path) {
        Ok(text) => parse_secret(text.trim()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir).map_err(io)?;
            }
            let key: [u8; 32] = rand::random();
            std::fs::write(path, STANDARD.encode(key)).map_err(io)?;
            restrict_permissions(path);
            Ok(SecretKey(key))
        }
        Err(e) => Err(io(e)),
    }
}

#[cfg(unix)]
fn restrict_permissions(path: &std::path::Path) {
    use std::os::unix::fs::PermissionsExt;
    let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600));
}
#[cfg(not(unix))]
fn restrict_permissions(_: &std::path::Path) {}
