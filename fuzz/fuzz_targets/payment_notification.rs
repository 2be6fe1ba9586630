//! WeChat Pay notifications: header picking (`NotificationHeaders::from_pairs`), the full
//! `verify_and_decrypt` path with keys generated once, the JSON body and resource parsers
//! directly, the AEAD opening, and the `Authorization` header parser.
//!
//! Besides "never panics", it checks that a notification built and signed here with arbitrary
//! content verifies and decrypts back to that content, and that an unsigned edit never does.

#![no_main]

use std::sync::OnceLock;

use arbitrary::{Arbitrary, Unstructured};
use campus_photo_wechatpay::aead;
use campus_photo_wechatpay::keys::generate_rsa_2048;
use campus_photo_wechatpay::notification::{Notification, RefundResource, Transaction};
use campus_photo_wechatpay::signature::parse_authorization_header;
use campus_photo_wechatpay::{
    ApiV3Key, NotificationHeaders, NotificationSigner, PlatformKeys, VerifiedNotification,
    build_notification, verify_and_decrypt,
};
use libfuzzer_sys::fuzz_target;
use rand::SeedableRng as _;
use rand::rngs::StdRng;

const NOW: i64 = 1_717_000_000;
const SERIAL: &str = "PUB_KEY_ID_0114232134912410000000000000";
const API_KEY: [u8; 32] = *b"0123456789abcdefghijklmnopqrstuv";

struct Keys {
    signer: NotificationSigner,
    platform: PlatformKeys,
    api_key: ApiV3Key,
}

fn keys() -> &'static Keys {
    static KEYS: OnceLock<Keys> = OnceLock::new();
    KEYS.get_or_init(|| {
        // Seeded: the same key in every run, so a saved input reproduces.
        let key = match generate_rsa_2048(&mut StdRng::seed_from_u64(7)) {
            Ok(key) => key,
            Err(e) => panic!("RSA key generation failed: {e}"),
        };
        let mut platform = PlatformKeys::new();
        if let Err(e) = platform.insert(SERIAL, key.to_public_key()) {
            panic!("platform key refused: {e}");
        }
        Keys {
            signer: NotificationSigner {
                serial: SERIAL.into(),
                key,
            },
            platform,
            api_key: ApiV3Key::from_bytes(API_KEY),
        }
    })
}

/// A notification built here; optionally one byte of the body edited after signing.
#[derive(Debug, Arbitrary)]
struct Built<'a> {
    id: &'a str,
    event_type: &'a str,
    resource_type: &'a str,
    summary: &'a str,
    plaintext: &'a [u8],
    create_time: &'a str,
    nonce: &'a str,
    edit: Option<(u16, u8)>,
}

/// Arbitrary header pairs and path parameters (mostly refused at the signature).
#[derive(Debug, Arbitrary)]
struct Raw<'a> {
    pairs: Vec<(&'a str, &'a str)>,
    body: &'a [u8],
    now_offset: i32,
    max_skew: i64,
}

/// `name: value` lines, a blank line, then the body, like an HTTP request.
fn split_http(rest: &[u8]) -> (Vec<(String, String)>, &[u8]) {
    let (head, body) = match rest.windows(2).position(|w| w == b"\n\n") {
        Some(at) => (&rest[..at], &rest[at + 2..]),
        None => (rest, &[][..]),
    };
    let pairs = String::from_utf8_lossy(head)
        .lines()
        .filter_map(|line| {
            line.split_once(':')
                .map(|(n, v)| (n.to_owned(), v.to_owned()))
        })
        .collect();
    (pairs, body)
}

fn parse_resources(verified: &VerifiedNotification) {
    let _ = verified.resource::<Transaction>();
    let _ = verified.resource::<RefundResource>();
    let _ = verified.resource::<serde_json::Value>();
}

// The first byte picks the mode so that seeds stay plain files:
// `0` + JSON (notification body or decrypted resource, parsed directly);
// `1` + a body, signed here (nonce `n`, the current time) and then verified and decrypted;
// `2` + `name: value` header lines, a blank line and a body (an unsigned HTTP request);
// `3` + bytes for [`Built`]; `4` + bytes for [`Raw`];
// `5` + associated data, nonce and base64 ciphertext on three lines;
// `6` + a merchant `Authorization` header.
// Keys are made before the first input, so their cost never counts against an input's time.
fuzz_target!(init: {
    keys();
}, |data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let k = keys();
    match mode % 7 {
        0 => {
            let bytes = rest;
            if let Ok(notification) = serde_json::from_slice::<Notification>(bytes) {
                let r = &notification.resource;
                let _ = aead::decrypt(
                    &k.api_key,
                    r.associated_data.as_deref().unwrap_or(""),
                    &r.nonce,
                    &r.ciphertext,
                );
            }
            let _ = serde_json::from_slice::<Transaction>(bytes);
            let _ = serde_json::from_slice::<RefundResource>(bytes);
        }
        1 => {
            let (body, nonce, timestamp_offset) = (rest, "n", 0_i64);
            let Ok(headers) = k.signer.sign(body, NOW + timestamp_offset, nonce) else {
                return;
            };
            let result = verify_and_decrypt(&headers, body, &k.platform, &k.api_key, NOW, 300);
            if let Ok(verified) = &result {
                assert_eq!(
                    serde_json::from_slice::<Notification>(body).ok().as_ref(),
                    Some(&verified.notification)
                );
                parse_resources(verified);
            }
            // A signed body is never refused for its signature or serial.
            if let Err(e) = &result {
                assert_ne!(e.code(), "BAD_SIGNATURE", "{e}");
                assert_ne!(e.code(), "UNKNOWN_SERIAL", "{e}");
            }
        }
        2 => {
            let (pairs, body) = split_http(rest);
            check_raw(k, pairs, body, 0, 300);
        }
        3 => {
            let Ok(Built {
                id,
                event_type,
                resource_type,
                summary,
                plaintext,
                create_time,
                nonce,
                edit,
            }) = Built::arbitrary_take_rest(Unstructured::new(rest))
            else {
                return;
            };
            let Ok((headers, mut body)) = build_notification(
                &k.signer,
                &k.api_key,
                id,
                event_type,
                resource_type,
                summary,
                plaintext,
                create_time,
                NOW,
                nonce,
            ) else {
                return;
            };
            let edited = match edit {
                Some((at, xor)) if xor != 0 && !body.is_empty() => {
                    let at = usize::from(at) % body.len();
                    body[at] ^= xor;
                    true
                }
                _ => false,
            };
            let result = verify_and_decrypt(&headers, &body, &k.platform, &k.api_key, NOW, 300);
            if edited {
                assert_eq!(
                    result.err().map(|e| e.code()),
                    Some("BAD_SIGNATURE"),
                    "an edited body was accepted"
                );
            } else {
                match result {
                    Ok(verified) => {
                        assert_eq!(verified.plaintext, plaintext);
                        assert_eq!(verified.notification.id, id);
                        assert_eq!(verified.notification.event_type, event_type);
                        parse_resources(&verified);
                    }
                    Err(e) => panic!("a built notification was refused: {e}"),
                }
            }
        }
        4 => {
            let Ok(Raw {
                pairs,
                body,
                now_offset,
                max_skew,
            }) = Raw::arbitrary_take_rest(Unstructured::new(rest))
            else {
                return;
            };
            check_raw(k, pairs, body, now_offset, max_skew);
        }
        5 => {
            let text = String::from_utf8_lossy(rest);
            let mut lines = text.split('\n');
            let (associated_data, nonce, ciphertext) = (
                lines.next().unwrap_or(""),
                lines.next().unwrap_or(""),
                lines.next().unwrap_or(""),
            );
            if let Ok(plain) = aead::decrypt(&k.api_key, associated_data, nonce, ciphertext) {
                // Only something sealed under our key opens; sealing it again must match.
                assert_eq!(
                    aead::encrypt(&k.api_key, associated_data, nonce, &plain).ok(),
                    Some(ciphertext.to_owned())
                );
            }
        }
        _ => {
            let _ = parse_authorization_header(&String::from_utf8_lossy(rest));
        }
    }
});

/// Headers picked from `pairs`, then the whole path.
fn check_raw<K: AsRef<str>, V: AsRef<str>>(
    k: &Keys,
    pairs: Vec<(K, V)>,
    body: &[u8],
    now_offset: i32,
    max_skew: i64,
) {
    let pairs = pairs.iter().map(|(n, v)| (n.as_ref(), v.as_ref()));
    let Ok(headers) = NotificationHeaders::from_pairs(pairs) else {
        return;
    };
    // Round trip through the pairs we send.
    assert_eq!(
        NotificationHeaders::from_pairs(headers.to_pairs())
            .ok()
            .as_ref(),
        Some(&headers)
    );
    let now = NOW + i64::from(now_offset);
    if let Ok(verified) = verify_and_decrypt(&headers, body, &k.platform, &k.api_key, now, max_skew)
    {
        parse_resources(&verified);
    }
}
