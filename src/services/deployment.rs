//! Facts every instance of a deployment must agree on, checked at start.
use hmac::{Hmac, Mac};
use sea_orm::{ActiveModelTrait, DatabaseConnection, EntityTrait, Set};
use sha2::Sha256;

use crate::{config::SecretKey, entities::deployment_setting};

const KEY_FINGERPRINT: &str = "secret_key_fingerprint";

/// A fingerprint that identifies the key without revealing it (an HMAC under the key itself).
fn fingerprint(key: &SecretKey) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(&key.0).expect("HMAC takes any key length");
    mac.update(b"campus-photo/secret-key-fingerprint/v1");
    hex::encode(&mac.finalize().into_bytes()[..16])
}

/// The database remembers the fingerprint of the key its data was first written with; a start
/// under another key is refused. Otherwise every encrypted field, blind index and global id would
/// silently stop matching (two instances that each generated a key answered each other's ids with
/// NOT_FOUND), and new rows would be written that the old key cannot read.
pub async fn check_secret_key(
    db: &DatabaseConnection,
    key: &SecretKey,
    now: chrono::DateTime<chrono::Utc>,
) -> anyhow::Result<()> {
    let ours = fingerprint(key);
    let stored = match deployment_setting::Entity::find_by_id(KEY_FINGERPRINT)
        .one(db)
        .await?
    {
        Some(row) => row.value,
        None => {
            let first = deployment_setting::ActiveModel {
                name: Set(KEY_FINGERPRINT.into()),
                value: Set(ours.clone()),
                created_at: Set(now),
            }
            .insert(db)
            .await;
            match first {
                Ok(_) => return Ok(()),
                // Another instance recorded its key first: compare with that one.
                Err(_) => {
                    deployment_setting::Entity::find_by_id(KEY_FINGERPRINT)
                        .one(db)
                        .await?
                        .ok_or_else(|| anyhow::anyhow!("could not record the key fingerprint"))?
                        .value
                }
            }
        }
    };
    if stored == ours {
        Ok(())
    } else {
        anyhow::bail!(
            "CAMPUS_PHOTO_SECRET_KEY is not the key this database was written with \
             (fingerprint {} expected, {} given): start with the original key, or its data \
             cannot be decrypted",
            &stored[..stored.len().min(8)],
            &ours[..8]
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_tell_keys_apart_and_hide_them() {
        let a = fingerprint(&SecretKey([1; 32]));
        assert_eq!(a, fingerprint(&SecretKey([1; 32])));
        assert_ne!(a, fingerprint(&SecretKey([2; 32])));
        assert!(!a.contains(&hex::encode([1u8; 16])));
    }
}
