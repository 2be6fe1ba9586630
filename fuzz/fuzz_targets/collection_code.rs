//! The collection-code token (`CQ1.<claims>.<signature>`): the text parser and the verifier
//! against a key ring, fed arbitrary text, arbitrary key-ring configuration, and structured
//! mutations of tokens minted here with known keys.
//!
//! Besides "never panics", it checks what verification promises:
//! - a freshly minted token verifies to exactly its claims (or to the right refusal);
//! - whatever a mutation does to the text, a token that still verifies carries the original
//!   claims (the signature covers the claims bytes; nothing else in the text can change them);
//! - no claims that verify are expired or of another version.

#![no_main]

use std::sync::OnceLock;

use arbitrary::{Arbitrary, Unstructured};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use campus_photo_codes::{Claims, CodeError, KeyRing, id_tail_matches, masked_id_tail, mint};
use ed25519_dalek::{Signer as _, SigningKey};
use libfuzzer_sys::fuzz_target;

const NOW: i64 = 1_800_000_000;

struct Keys {
    /// In the ring as chsi:k1.
    known: SigningKey,
    /// In the ring as chsi:k2 (rotation).
    rotated: SigningKey,
    /// Not in the ring.
    stranger: SigningKey,
    ring: KeyRing,
}

fn keys() -> &'static Keys {
    static KEYS: OnceLock<Keys> = OnceLock::new();
    KEYS.get_or_init(|| {
        // Fixed seeds: a crash reproduces from its input file alone.
        let known = SigningKey::from_bytes(&[1; 32]);
        let rotated = SigningKey::from_bytes(&[2; 32]);
        let stranger = SigningKey::from_bytes(&[3; 32]);
        let entry = |kid: &str, key: &SigningKey| {
            format!(
                "chsi:{kid}:{}",
                STANDARD.encode(key.verifying_key().as_bytes())
            )
        };
        let config = format!("{},\n {}", entry("k1", &known), entry("k2", &rotated));
        let ring = match KeyRing::parse(&config) {
            Ok(ring) => ring,
            Err(e) => panic!("fuzz key ring does not parse: {e}"),
        };
        Keys {
            known,
            rotated,
            stranger,
            ring,
        }
    })
}

#[derive(Debug, Arbitrary)]
enum Signer {
    Known,
    Rotated,
    Stranger,
}

#[derive(Debug, Arbitrary)]
struct FuzzClaims {
    v_is_one: bool,
    v: u32,
    iss_is_chsi: bool,
    iss: String,
    /// 0: `k1`, 1: `k2`, else `kid`.
    kid_choice: u8,
    kid: String,
    sid: String,
    nm: String,
    idm: String,
    sch: String,
    schn: String,
    col: Option<String>,
    maj: Option<String>,
    lvl: Option<String>,
    xh: Option<String>,
    gy: Option<i32>,
    iat: i64,
    /// Expiry relative to NOW when small, absolute otherwise.
    exp_offset: i32,
    exp_absolute: Option<i64>,
}

impl FuzzClaims {
    fn claims(self) -> Claims {
        Claims {
            v: if self.v_is_one { 1 } else { self.v },
            iss: if self.iss_is_chsi {
                "chsi".into()
            } else {
                self.iss
            },
            kid: match self.kid_choice {
                0 => "k1".into(),
                1 => "k2".into(),
                _ => self.kid,
            },
            sid: self.sid,
            nm: self.nm,
            idm: self.idm,
            sch: self.sch,
            schn: self.schn,
            col: self.col,
            maj: self.maj,
            lvl: self.lvl,
            xh: self.xh,
            gy: self.gy,
            iat: self.iat,
            exp: self
                .exp_absolute
                .unwrap_or(NOW + i64::from(self.exp_offset)),
        }
    }
}

/// Edits of a token's text.
#[derive(Debug, Arbitrary)]
enum Mutation {
    /// Insert a byte-derived char at a position (clamped to a char boundary).
    Insert(u16, char),
    /// Remove a range of chars.
    Remove(u16, u8),
    /// Replace a char.
    Replace(u16, char),
    /// Truncate to a position.
    Truncate(u16),
    /// Append `=` padding to the claims or the signature part.
    Pad(bool, u8),
    /// Surround with whitespace (scanners add newlines).
    Whitespace(u8, u8),
    /// Swap the claims and signature parts.
    SwapParts,
    /// Decode a part, flip a bit, re-encode (keeps the base64 valid).
    FlipDecodedBit(bool, u16, u8),
    /// Replace the claims part with arbitrary JSON bytes and re-sign with the known key, so
    /// the parser sees signed garbage.
    ResignBody(Vec<u8>),
    /// Append a fourth part.
    ExtraPart(String),
}

/// A token minted here, then possibly edited.
#[derive(Debug, Arbitrary)]
struct Minted {
    claims: FuzzClaims,
    signer: Signer,
    mutations: Vec<Mutation>,
    now_offset: i32,
}

fn check_verified(result: &Result<Claims, CodeError>, now: i64) {
    if let Ok(claims) = result {
        assert_eq!(claims.v, 1, "verified a token of another version");
        assert!(now < claims.exp, "verified an expired token");
        assert!(
            keys().ring.get(&claims.iss, &claims.kid).is_some(),
            "verified a token whose key is not in the ring"
        );
    }
    if let Err(e) = result {
        // Every refusal has a stable code.
        assert!(!e.code().is_empty());
    }
}

fn kind(e: &CodeError) -> &'static str {
    match e {
        CodeError::NotOurFormat => "NOT_OUR_FORMAT",
        CodeError::Malformed(_) => "MALFORMED",
        CodeError::UnknownKey => "UNKNOWN_KEY",
        CodeError::BadSignature => "BAD_SIGNATURE",
        CodeError::Expired { .. } => "EXPIRED",
    }
}

fn char_boundary(text: &str, at: u16) -> usize {
    let mut at = usize::from(at).min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

fn apply(token: &mut String, m: &Mutation) {
    match m {
        Mutation::Insert(at, c) => {
            let at = char_boundary(token, *at);
            token.insert(at, *c);
        }
        Mutation::Remove(at, len) => {
            let start = char_boundary(token, *at);
            let end = char_boundary(token, (*at).saturating_add(u16::from(*len)));
            token.replace_range(start..end.max(start), "");
        }
        Mutation::Replace(at, c) => {
            let start = char_boundary(token, *at);
            if let Some(old) = token[start..].chars().next() {
                token.replace_range(start..start + old.len_utf8(), c.encode_utf8(&mut [0; 4]));
            }
        }
        Mutation::Truncate(at) => {
            let at = char_boundary(token, *at);
            token.truncate(at);
        }
        Mutation::Pad(signature, n) => {
            let pad = "=".repeat(usize::from(*n % 4));
            let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
            let i = if *signature { 2 } else { 1 };
            if let Some(part) = parts.get_mut(i) {
                part.push_str(&pad);
            }
            *token = parts.join(".");
        }
        Mutation::Whitespace(before, after) => {
            const WS: [&str; 4] = ["", " ", "\n", "\r\n\t"];
            *token = format!(
                "{}{token}{}",
                WS[usize::from(*before % 4)],
                WS[usize::from(*after % 4)]
            );
        }
        Mutation::SwapParts => {
            let mut parts: Vec<&str> = token.split('.').collect();
            if parts.len() >= 3 {
                parts.swap(1, 2);
            }
            *token = parts.join(".");
        }
        Mutation::FlipDecodedBit(signature, byte, bit) => {
            let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
            let i = if *signature { 2 } else { 1 };
            if let Some(part) = parts.get_mut(i)
                && let Ok(mut bytes) = URL_SAFE_NO_PAD.decode(part.as_bytes())
                && !bytes.is_empty()
            {
                let at = usize::from(*byte) % bytes.len();
                bytes[at] ^= 1 << (bit % 8);
                *part = URL_SAFE_NO_PAD.encode(&bytes);
            }
            *token = parts.join(".");
        }
        Mutation::ResignBody(json) => {
            let signed = format!("CQ1.{}", URL_SAFE_NO_PAD.encode(json));
            let sig = keys().known.sign(signed.as_bytes());
            *token = format!("{signed}.{}", URL_SAFE_NO_PAD.encode(sig.to_bytes()));
        }
        Mutation::ExtraPart(extra) => {
            token.push('.');
            token.push_str(extra);
        }
    }
}

// The first byte picks the mode so that seeds stay plain files: `0` + a token text, `1` +
// key-ring config + NUL + text, `2` + arbitrary bytes for [`Minted`], `3` + idm + NUL + entry.
// Keys are made before the first input, so their cost never counts against an input's time.
fuzz_target!(init: {
    keys();
}, |data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let k = keys();
    let (before_nul, after_nul) = match rest.iter().position(|&b| b == 0) {
        Some(at) => (&rest[..at], &rest[at + 1..]),
        None => (rest, &[][..]),
    };
    match mode % 4 {
        0 => {
            let text = String::from_utf8_lossy(rest);
            let result = k.ring.verify(&text, NOW);
            check_verified(&result, NOW);
        }
        1 => {
            let config = String::from_utf8_lossy(before_nul);
            let text = String::from_utf8_lossy(after_nul);
            if let Ok(ring) = KeyRing::parse(&config) {
                assert!(!ring.is_empty(), "a parsed key ring is never empty");
                let _ = ring.verify(&text, NOW);
            }
        }
        2 => {
            let Ok(Minted {
                claims,
                signer,
                mutations,
                now_offset,
            }) = Minted::arbitrary_take_rest(Unstructured::new(rest))
            else {
                return;
            };
            let claims = claims.claims();
            let key = match signer {
                Signer::Known => &k.known,
                Signer::Rotated => &k.rotated,
                Signer::Stranger => &k.stranger,
            };
            let now = NOW + i64::from(now_offset);
            let mut token = mint(&claims, key);

            // Unedited: exactly the claims, or the refusal the checks' order predicts.
            let result = k.ring.verify(&token, now);
            check_verified(&result, now);
            let signed_by_its_key = match signer {
                Signer::Known => claims.kid == "k1",
                Signer::Rotated => claims.kid == "k2",
                Signer::Stranger => false,
            };
            let expected = if claims.v != 1 {
                "MALFORMED"
            } else if k.ring.get(&claims.iss, &claims.kid).is_none() {
                "UNKNOWN_KEY"
            } else if !signed_by_its_key {
                "BAD_SIGNATURE"
            } else if now >= claims.exp {
                "EXPIRED"
            } else {
                "OK"
            };
            match &result {
                Ok(verified) => {
                    assert_eq!(expected, "OK");
                    assert_eq!(verified, &claims);
                }
                Err(e) => assert_eq!(kind(e), expected, "{e}"),
            }

            for m in mutations.iter().take(8) {
                apply(&mut token, m);
            }
            let result = k.ring.verify(&token, now);
            check_verified(&result, now);
            let resigned = mutations
                .iter()
                .any(|m| matches!(m, Mutation::ResignBody(_)));
            if let Ok(verified) = &result
                && !resigned
            {
                assert_eq!(
                    verified, &claims,
                    "an edited token verified to other claims: {token:?}"
                );
            }
        }
        _ => {
            let idm = String::from_utf8_lossy(before_nul);
            let entered = String::from_utf8_lossy(after_nul);
            let (idm, entered) = (idm.as_ref(), entered.as_ref());
            if let Some(tail) = masked_id_tail(idm) {
                assert_eq!(tail.len(), 4);
                assert!(idm.ends_with(tail));
                assert!(id_tail_matches(idm, tail));
            } else {
                assert!(!id_tail_matches(idm, entered));
            }
        }
    }
});
