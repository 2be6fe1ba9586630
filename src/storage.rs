//! Object storage for originals and renders: a local directory by default, an S3-compatible
//! bucket when configured, both through `object_store`. Keys are content-addressed, so the same
//! bytes are stored once and a key never changes meaning.
use std::sync::Arc;

use bytes::Bytes;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload, path::Path};
use sha2::{Digest, Sha256};

use crate::error::{AppError, AppResult};

#[derive(Clone, Debug)]
pub struct Storage {
    store: Arc<dyn ObjectStore>,
}

impl Storage {
    /// `file://dir` (created if missing) or `s3://bucket/prefix` (credentials and endpoint from the
    /// usual AWS_* variables, e.g. AWS_ENDPOINT for an S3-compatible service).
    pub fn from_url(url: &str) -> anyhow::Result<Self> {
        let store: Arc<dyn ObjectStore> = if let Some(dir) = url.strip_prefix("file://") {
            std::fs::create_dir_all(dir)
                .map_err(|e| anyhow::anyhow!("CAMPUS_PHOTO_STORAGE {dir}: {e}"))?;
            Arc::new(object_store::local::LocalFileSystem::new_with_prefix(dir)?)
        } else if let Some(rest) = url.strip_prefix("s3://") {
            let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
            let s3 = object_store::aws::AmazonS3Builder::from_env()
                .with_bucket_name(bucket)
                .build()?;
            if prefix.trim_matches('/').is_empty() {
                Arc::new(s3)
            } else {
                Arc::new(object_store::prefix::PrefixStore::new(
                    s3,
                    prefix.trim_matches('/'),
                ))
            }
        } else {
            anyhow::bail!("CAMPUS_PHOTO_STORAGE: expected file://dir or s3://bucket/prefix");
        };
        Ok(Self { store })
    }

    pub async fn put(&self, key: &str, bytes: Bytes) -> AppResult<()> {
        self.store
            .put(&Path::from(key), PutPayload::from_bytes(bytes))
            .await
            .map_err(|e| AppError::internal(format!("storage put {key}: {e}")))?;
        Ok(())
    }

    /// Removes an object; one that is already gone is not an error.
    /// Writes, reads back and deletes a small object: storage that cannot be written loses every
    /// upload, so readiness depends on it.
    pub async fn probe(&self) -> AppResult<()> {
        let key = format!("ready/{}", uuid::Uuid::now_v7());
        self.put(&key, Bytes::from_static(b"ok")).await?;
        let read = self.get(&key).await?;
        self.delete(&key).await?;
        match read {
            Some(bytes) if bytes.as_ref() == b"ok" => Ok(()),
            _ => Err(crate::error::AppError::internal(
                "storage did not return what was written",
            )),
        }
    }

    pub async fn delete(&self, key: &str) -> AppResult<()> {
        match self.store.delete(&Path::from(key)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(AppError::internal(format!("storage delete {key}: {e}"))),
        }
    }

    /// The object's bytes, or None when it does not exist.
    pub async fn get(&self, key: &str) -> AppResult<Option<Bytes>> {
        match self.store.get(&Path::from(key)).await {
            Ok(found) => {
                Ok(Some(found.bytes().await.map_err(|e| {
                    AppError::internal(format!("storage read {key}: {e}"))
                })?))
            }
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(AppError::internal(format!("storage get {key}: {e}"))),
        }
    }
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// `originals/ab/<sha256>.jpg`: content-addressed and spread over folders.
pub fn content_key(kind: &str, sha256: &str, extension: &str) -> String {
    format!(
        "{kind}/{}/{sha256}.{extension}",
        &sha256[..2.min(sha256.len())]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn local_round_trip() {
        let dir = tempfile::tempdir().expect("dir");
        let storage = Storage::from_url(&format!("file://{}/objects", dir.path().display()))
            .expect("storage");
        let key = content_key("originals", &sha256_hex(b"hello"), "jpg");
        assert!(key.starts_with("originals/2c/2cf24dba"));
        assert_eq!(storage.get(&key).await.expect("get"), None);
        storage
            .put(&key, Bytes::from_static(b"hello"))
            .await
            .expect("put");
        assert_eq!(
            storage.get(&key).await.expect("get").as_deref(),
            Some(&b"hello"[..])
        );
    }

    #[test]
    fn unknown_schemes_are_refused() {
        assert!(Storage::from_url("ftp://x").is_err());
    }
}

/// Signed, expiring links to stored objects and previews (served by `http::files`, which checks
/// the same signatures). Made here, below the API layers, since resolvers and services both hand
/// them out.
pub mod links {
    use crate::AppState;

    /// How long a signed link stays valid.
    pub const LINK_TTL_SECS: i64 = 15 * 60;

    pub(crate) fn message(key: &str, exp: i64, name: Option<&str>) -> Vec<u8> {
        match name {
            None => format!("files\n{key}\n{exp}").into_bytes(),
            Some(name) => format!("files\n{key}\n{exp}\n{name}").into_bytes(),
        }
    }

    /// `CAMPUS_PHOTO_PUBLIC_URL` in front of a path, when configured: links work from anywhere
    /// (the mini-program, a mail), not only relative to the API's own address.
    fn absolute(state: &AppState, path: String) -> String {
        match &state.config.public_url {
            Some(base) => format!("{base}{path}"),
            None => path,
        }
    }

    /// Percent-encodes everything but RFC 3986's unreserved characters (for a query value and
    /// for RFC 5987's `filename*`).
    pub fn percent_encode(text: &str) -> String {
        let mut out = String::with_capacity(text.len());
        for byte in text.bytes() {
            if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
                out.push(byte as char);
            } else {
                out.push_str(&format!("%{byte:02X}"));
            }
        }
        out
    }

    /// A link to `key` that works for `LINK_TTL_SECS`.
    pub fn signed_url(state: &AppState, key: &str) -> String {
        let exp = state.clock.now().timestamp() + LINK_TTL_SECS;
        let sig = state.crypto.sign(&message(key, exp, None));
        absolute(state, format!("/files/{key}?exp={exp}&sig={sig}"))
    }

    /// A link to `key` that downloads as a file named `name` (e.g. the order number), which the
    /// signature covers too.
    pub fn signed_download_url(state: &AppState, key: &str, name: &str) -> String {
        let exp = state.clock.now().timestamp() + LINK_TTL_SECS;
        let sig = state.crypto.sign(&message(key, exp, Some(name)));
        let name = percent_encode(name);
        absolute(
            state,
            format!("/files/{key}?exp={exp}&name={name}&sig={sig}"),
        )
    }

    pub(crate) fn preview_message(photo: &str, exp: i64) -> Vec<u8> {
        format!("preview\n{photo}\n{exp}").into_bytes()
    }

    /// A link to the standard-photo preview of the photo with global id `photo`.
    pub fn signed_preview_url(state: &AppState, photo: &str) -> String {
        let exp = state.clock.now().timestamp() + LINK_TTL_SECS;
        let sig = state.crypto.sign(&preview_message(photo, exp));
        absolute(state, format!("/previews/{photo}.jpg?exp={exp}&sig={sig}"))
    }
}
