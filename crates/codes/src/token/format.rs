//! Encoding and parsing of the `CQ1.<claims>.<signature>` text, without any
//! key: minting signs, [`parse`] only checks the structure.

use base64::Engine as _;
use base64::alphabet;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use ed25519_dalek::{Signature, Signer as _, SigningKey};

use super::claims::Claims;
use super::error::CodeError;

/// Token prefix; also the start of the signed bytes.
pub const PREFIX: &str = "CQ1.";

/// base64url that accepts padded and unpadded input: we emit unpadded, but
/// some encoders pad and the padding carries no meaning.
const URL_SAFE_LENIENT: GeneralPurpose = GeneralPurpose::new(
    &alphabet::URL_SAFE,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// A structurally valid token whose signature is not yet checked.
pub(crate) struct Parsed<'a> {
    pub claims: Claims,
    pub signature: Signature,
    /// The bytes the signature must cover, exactly as they appear in the text.
    pub signed: &'a str,
}

/// Sign `claims` into a token. The claims JSON keeps the struct's field order
/// so tokens are stable for the same claims and key.
pub fn mint(claims: &Claims, signing_key: &SigningKey) -> String {
    // Serialising this plain struct (strings and integers only) cannot fail.
    let json = serde_json::to_vec(claims).expect("Claims always serialises to JSON");
    let mut token = String::with_capacity(PREFIX.len() + json.len() * 4 / 3 + 90);
    token.push_str(PREFIX);
    URL_SAFE_NO_PAD.encode_string(&json, &mut token);
    let signature = signing_key.sign(token.as_bytes());
    token.push('.');
    URL_SAFE_NO_PAD.encode_string(signature.to_bytes(), &mut token);
    token
}

/// Check prefix, parts, base64, JSON and version, in that order.
pub(crate) fn parse(text: &str) -> Result<Parsed<'_>, CodeError> {
    let rest = text.strip_prefix(PREFIX).ok_or(CodeError::NotOurFormat)?;
    let mut parts = rest.split('.');
    let (Some(body), Some(sig), None) = (parts.next(), parts.next(), parts.next()) else {
        return Err(CodeError::Malformed(
            "expected 3 dot-separated parts".into(),
        ));
    };
    let json = URL_SAFE_LENIENT
        .decode(body)
        .map_err(|e| CodeError::Malformed(format!("claims are not base64url: {e}")))?;
    let sig_bytes = URL_SAFE_LENIENT
        .decode(sig)
        .map_err(|e| CodeError::Malformed(format!("signature is not base64url: {e}")))?;
    let claims: Claims = serde_json::from_slice(&json)
        .map_err(|e| CodeError::Malformed(format!("claims are not valid JSON: {e}")))?;
    if claims.v != 1 {
        return Err(CodeError::Malformed(format!(
            "unsupported version {}",
            claims.v
        )));
    }
    let signature = Signature::from_slice(&sig_bytes)
        .map_err(|_| CodeError::Malformed("signature must be 64 bytes".into()))?;
    let signed = &text[..PREFIX.len() + body.len()];
    Ok(Parsed {
        claims,
        signature,
        signed,
    })
}
