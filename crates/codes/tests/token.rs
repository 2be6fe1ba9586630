//! The CQ1 token: minting, key configuration and verification order.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE, URL_SAFE_NO_PAD};
use campus_photo_codes::{
    Claims, CodeError, DEV_ISSUER, DEV_KID, KeyRing, KeyRingError, dev_keyring_entry,
    dev_signing_key, id_tail_matches, masked_id_tail, mint,
};
use ed25519_dalek::{Signer as _, SigningKey};
use rand::rngs::OsRng;

const NOW: i64 = 1_800_000_000;

fn claims(iss: &str, kid: &str) -> Claims {
    Claims {
        v: 1,
        iss: iss.into(),
        kid: kid.into(),
        sid: "S0123456789abcdef".into(),
        nm: "张*三".into(),
        idm: "110101********123X".into(),
        sch: "10027".into(),
        schn: "北京师范大学".into(),
        col: Some("文学院".into()),
        maj: Some("汉语言文学".into()),
        lvl: Some("本科".into()),
        xh: Some("201911010101".into()),
        gy: Some(2027),
        iat: NOW - 100,
        exp: NOW + 86_400,
    }
}

fn entry(iss: &str, kid: &str, key: &SigningKey) -> String {
    format!(
        "{iss}:{kid}:{}",
        STANDARD.encode(key.verifying_key().as_bytes())
    )
}

fn ring(entries: &[String]) -> KeyRing {
    KeyRing::parse(&entries.join(",")).expect("test key ring parses")
}

/// Sign arbitrary claim bytes the way `mint` does, for tokens `mint` cannot
/// produce (bad JSON, other versions, padding).
fn sign_raw(body_b64: &str, key: &SigningKey) -> String {
    let signed = format!("CQ1.{body_b64}");
    let sig = key.sign(signed.as_bytes());
    format!("{signed}.{}", URL_SAFE_NO_PAD.encode(sig.to_bytes()))
}

#[test]
fn mint_then_verify_round_trips() {
    let key = SigningKey::generate(&mut OsRng);
    let c = claims("chsi", "k1");
    let token = mint(&c, &key);
    assert!(token.starts_with("CQ1."));
    assert_eq!(token.split('.').count(), 3);
    assert!(!token.contains('='), "unpadded base64url");
    assert_eq!(
        ring(&[entry("chsi", "k1", &key)]).verify(&token, NOW),
        Ok(c)
    );
}

#[test]
fn optional_claims_may_be_absent() {
    let key = SigningKey::generate(&mut OsRng);
    let c = Claims {
        col: None,
        maj: None,
        lvl: None,
        xh: None,
        gy: None,
        ..claims("chsi", "k1")
    };
    let token = mint(&c, &key);
    let json = URL_SAFE_NO_PAD
        .decode(token.split('.').nth(1).expect("body"))
        .expect("b64");
    assert!(
        !String::from_utf8_lossy(&json).contains("col"),
        "absent claims are omitted"
    );
    assert_eq!(
        ring(&[entry("chsi", "k1", &key)]).verify(&token, NOW),
        Ok(c)
    );
}

#[test]
fn surrounding_whitespace_is_ignored() {
    let key = SigningKey::generate(&mut OsRng);
    let token = mint(&claims("chsi", "k1"), &key);
    let r = ring(&[entry("chsi", "k1", &key)]);
    assert!(r.verify(&format!("  {token}\r\n"), NOW).is_ok());
}

#[test]
fn tampered_claims_fail_the_signature() {
    let key = SigningKey::generate(&mut OsRng);
    let token = mint(&claims("chsi", "k1"), &key);
    let parts: Vec<&str> = token.split('.').collect();
    let mut c = claims("chsi", "k1");
    c.idm = "110101********9999".into();
    let forged_body = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&c).expect("json"));
    let tampered = format!("CQ1.{forged_body}.{}", parts[2]);
    let r = ring(&[entry("chsi", "k1", &key)]);
    assert_eq!(r.verify(&tampered, NOW), Err(CodeError::BadSignature));
    assert_eq!(CodeError::BadSignature.code(), "COLLECTION_CODE_INVALID");
}

#[test]
fn a_flipped_signature_byte_fails() {
    let key = SigningKey::generate(&mut OsRng);
    let token = mint(&claims("chsi", "k1"), &key);
    let (head, sig) = token.rsplit_once('.').expect("three parts");
    let mut bytes = URL_SAFE_NO_PAD.decode(sig).expect("b64");
    bytes[10] ^= 1;
    let bad = format!("{head}.{}", URL_SAFE_NO_PAD.encode(bytes));
    let r = ring(&[entry("chsi", "k1", &key)]);
    assert_eq!(r.verify(&bad, NOW), Err(CodeError::BadSignature));
}

#[test]
fn wrong_key_for_the_same_kid_fails_the_signature() {
    let signer = SigningKey::generate(&mut OsRng);
    let other = SigningKey::generate(&mut OsRng);
    let token = mint(&claims("chsi", "k1"), &signer);
    let r = ring(&[entry("chsi", "k1", &other)]);
    assert_eq!(r.verify(&token, NOW), Err(CodeError::BadSignature));
}

#[test]
fn unknown_kid_or_issuer_is_unknown_key() {
    let key = SigningKey::generate(&mut OsRng);
    let r = ring(&[entry("chsi", "k1", &key)]);
    let other_kid = mint(&claims("chsi", "k2"), &key);
    let other_iss = mint(&claims("someone", "k1"), &key);
    assert_eq!(r.verify(&other_kid, NOW), Err(CodeError::UnknownKey));
    assert_eq!(r.verify(&other_iss, NOW), Err(CodeError::UnknownKey));
    assert_eq!(CodeError::UnknownKey.code(), "COLLECTION_CODE_INVALID");
}

#[test]
fn rotation_accepts_old_and_new_keys() {
    let old = SigningKey::generate(&mut OsRng);
    let new = SigningKey::generate(&mut OsRng);
    let r = ring(&[entry("chsi", "2025", &old), entry("chsi", "2026", &new)]);
    assert_eq!(r.len(), 2);
    let a = mint(&claims("chsi", "2025"), &old);
    let b = mint(&claims("chsi", "2026"), &new);
    assert!(r.verify(&a, NOW).is_ok());
    assert!(r.verify(&b, NOW).is_ok());
    // A code claiming the new kid but signed with the old key is refused.
    let mixed = mint(&claims("chsi", "2026"), &old);
    assert_eq!(r.verify(&mixed, NOW), Err(CodeError::BadSignature));
}

#[test]
fn expired_codes_report_when() {
    let key = SigningKey::generate(&mut OsRng);
    let r = ring(&[entry("chsi", "k1", &key)]);
    let mut c = claims("chsi", "k1");
    c.exp = NOW;
    let token = mint(&c, &key);
    let err = r.verify(&token, NOW).expect_err("expired at exp itself");
    assert_eq!(err, CodeError::Expired { expired_at: NOW });
    assert_eq!(err.code(), "COLLECTION_CODE_EXPIRED");
    assert!(
        r.verify(&token, NOW - 1).is_ok(),
        "valid until the second before exp"
    );
}

#[test]
fn an_expired_forgery_is_invalid_not_expired() {
    let key = SigningKey::generate(&mut OsRng);
    let other = SigningKey::generate(&mut OsRng);
    let r = ring(&[entry("chsi", "k1", &key)]);
    let mut c = claims("chsi", "k1");
    c.exp = NOW - 10;
    let forged = mint(&c, &other);
    assert_eq!(r.verify(&forged, NOW), Err(CodeError::BadSignature));
}

#[test]
fn garbage_is_rejected_with_the_right_variant() {
    let key = SigningKey::generate(&mut OsRng);
    let r = ring(&[entry("chsi", "k1", &key)]);
    for text in [
        "",
        "   ",
        "hello",
        "https://example.com/?x=1",
        "cq1.abc.def",
        "CQ2.abc.def",
    ] {
        assert_eq!(
            r.verify(text, NOW),
            Err(CodeError::NotOurFormat),
            "{text:?}"
        );
    }
    let good = mint(&claims("chsi", "k1"), &key);
    let (body, sig) = good["CQ1.".len()..].split_once('.').expect("parts");
    let malformed = [
        "CQ1.".to_owned(),
        "CQ1.abc".to_owned(),
        format!("CQ1.{body}"),
        format!("CQ1.{body}.{sig}.extra"),
        format!("CQ1.{body}!.{sig}"),
        format!("CQ1.{body}.{sig}*"),
        format!("CQ1.{body}.{}", URL_SAFE_NO_PAD.encode([1u8; 10])),
        sign_raw(&URL_SAFE_NO_PAD.encode(b"not json"), &key),
        sign_raw(&URL_SAFE_NO_PAD.encode(br#"{"v":1,"iss":"chsi"}"#), &key),
    ];
    for text in &malformed {
        assert!(
            matches!(r.verify(text, NOW), Err(CodeError::Malformed(_))),
            "{text:?}"
        );
    }
    for e in [CodeError::NotOurFormat, CodeError::Malformed("x".into())] {
        assert_eq!(e.code(), "COLLECTION_CODE_INVALID");
    }
}

#[test]
fn other_versions_are_malformed() {
    let key = SigningKey::generate(&mut OsRng);
    let r = ring(&[entry("chsi", "k1", &key)]);
    let mut c = claims("chsi", "k1");
    c.v = 2;
    let token = mint(&c, &key);
    assert!(matches!(r.verify(&token, NOW), Err(CodeError::Malformed(m)) if m.contains("version")));
}

#[test]
fn padded_base64_is_accepted() {
    let key = SigningKey::generate(&mut OsRng);
    let r = ring(&[entry("chsi", "k1", &key)]);
    // Find claims whose JSON length is not a multiple of 3, so padding shows.
    let mut c = claims("chsi", "k1");
    while serde_json::to_vec(&c)
        .expect("json")
        .len()
        .is_multiple_of(3)
    {
        c.sid.push('x');
    }
    let json = serde_json::to_vec(&c).expect("json");
    // An issuer that pads, and signs what it emits.
    let padded = sign_raw(&URL_SAFE.encode(&json), &key);
    assert!(padded.split('.').nth(1).expect("body").ends_with('='));
    assert_eq!(r.verify(&padded, NOW), Ok(c.clone()));
    // Padding added to the signature part changes nothing signed.
    let token = mint(&c, &key);
    let (head, sig) = token.rsplit_once('.').expect("parts");
    let sig_padded = URL_SAFE.encode(URL_SAFE_NO_PAD.decode(sig).expect("b64"));
    assert!(sig_padded.ends_with('='));
    assert_eq!(r.verify(&format!("{head}.{sig_padded}"), NOW), Ok(c));
}

#[test]
fn key_ring_parses_lists_and_names_bad_entries() {
    let a = SigningKey::generate(&mut OsRng);
    let b = SigningKey::generate(&mut OsRng);
    let text = format!(
        " {} ,\n{}, ",
        entry("chsi", "1", &a),
        entry("chsi", "2", &b)
    );
    let r: KeyRing = text.parse().expect("two keys");
    assert_eq!(r.len(), 2);
    assert!(r.get("chsi", "1").is_some() && r.get("chsi", "3").is_none());

    let good = entry("chsi", "1", &a);
    let short_key = format!("chsi:1:{}", STANDARD.encode([7u8; 31]));
    let not_b64 = "chsi:1:@@@@".to_owned();
    // 32 bytes that are not a curve point: no key.
    let off_curve = (2u8..=255)
        .map(|y| {
            let mut b = [0u8; 32];
            b[0] = y;
            b
        })
        .find(|b| ed25519_dalek::VerifyingKey::from_bytes(b).is_err())
        .expect("some small y has no point");
    let invalid = format!("chsi:1:{}", STANDARD.encode(off_curve));
    assert!(matches!(KeyRing::parse(""), Err(KeyRingError::Empty)));
    assert!(matches!(KeyRing::parse(" , "), Err(KeyRingError::Empty)));
    assert!(matches!(
        KeyRing::parse(&format!("{good},chsi:1")),
        Err(KeyRingError::Shape { index: 2, .. })
    ));
    assert!(matches!(
        KeyRing::parse("::abc"),
        Err(KeyRingError::Shape { index: 1, .. })
    ));
    assert!(matches!(
        KeyRing::parse(&short_key),
        Err(KeyRingError::KeyEncoding { index: 1, .. })
    ));
    assert!(matches!(
        KeyRing::parse(&not_b64),
        Err(KeyRingError::KeyEncoding { .. })
    ));
    assert!(matches!(
        KeyRing::parse(&invalid),
        Err(KeyRingError::KeyInvalid { index: 1, .. })
    ));
    assert!(matches!(
        KeyRing::parse(&format!("{good},{}", entry("chsi", "1", &b))),
        Err(KeyRingError::Duplicate { index: 2, .. })
    ));
    // Errors say which entry is wrong.
    let msg = KeyRing::parse(&format!("{good},oops"))
        .expect_err("bad")
        .to_string();
    assert!(msg.contains("entry 2") && msg.contains("oops"), "{msg}");
}

#[test]
fn dev_key_is_the_default_configuration() {
    let text = dev_keyring_entry();
    assert!(text.starts_with(&format!("{DEV_ISSUER}:{DEV_KID}:")));
    let r = KeyRing::parse(&text).expect("dev entry parses");
    let token = mint(&claims(DEV_ISSUER, DEV_KID), &dev_signing_key());
    assert!(r.verify(&token, NOW).is_ok());
    // Stable across builds: codes minted yesterday still verify.
    assert_eq!(dev_keyring_entry(), text);
}

#[test]
fn fixture_key_verifies_fixture_codes_and_mints_new_ones() {
    let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/qr");
    let keys: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("keys.json")).expect("keys.json"))
            .expect("json");
    let labels: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("labels.json")).expect("labels.json"))
            .expect("json");
    let r = KeyRing::parse(keys["config"].as_str().expect("config")).expect("fixture ring");
    let text = labels["clean.png"]["text"]
        .as_str()
        .expect("clean.png text");
    let c = r
        .verify(text, 1_795_300_600)
        .expect("fixture code verifies");
    assert_eq!(c.sch, "10027");
    let seed: [u8; 32] = STANDARD
        .decode(keys["private_seed_b64"].as_str().expect("seed"))
        .expect("b64")
        .try_into()
        .expect("32 bytes");
    let token = mint(&c, &SigningKey::from_bytes(&seed));
    assert_eq!(r.verify(&token, 1_795_300_600), Ok(c));
}

#[test]
fn id_tail_is_the_last_four_unmasked_characters() {
    assert_eq!(masked_id_tail("110101********123X"), Some("123X"));
    assert_eq!(masked_id_tail("370202********0026"), Some("0026"));
    assert_eq!(masked_id_tail("110101**********3X"), None);
    assert_eq!(masked_id_tail("12X"), None);
    assert_eq!(masked_id_tail("张三李四"), None);
    assert!(id_tail_matches("110101********123X", "123x"));
    assert!(id_tail_matches("110101********123X", " 123X "));
    assert!(!id_tail_matches("110101********123X", "1234"));
    assert!(!id_tail_matches("110101**********3X", "**3X"));
    assert_eq!(claims("a", "b").id_tail(), Some("123X"));
}
