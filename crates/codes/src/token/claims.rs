//! The claims carried inside a CQ1 token.

use serde::{Deserialize, Serialize};

/// Claims of a collection code. Field names are the short wire names of
/// DESIGN.md §5 because they travel inside a QR code, where every byte grows
/// the symbol. Unknown fields are ignored so issuers can add claims later.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// Format version; only 1 exists.
    pub v: u32,
    /// Issuer; together with `kid` selects the verifying key.
    pub iss: String,
    /// Key id within the issuer (allows rotation).
    pub kid: String,
    /// Registry student id, opaque to us.
    pub sid: String,
    /// Masked name, e.g. `张*三`.
    pub nm: String,
    /// Masked ID number keeping the last 4 characters.
    pub idm: String,
    /// School code (院校代码).
    pub sch: String,
    /// School name.
    pub schn: String,
    /// College / department.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub col: Option<String>,
    /// Major.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub maj: Option<String>,
    /// Level: 本科/专科/硕士/博士.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lvl: Option<String>,
    /// Student number (学号).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub xh: Option<String>,
    /// Graduation year.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gy: Option<i32>,
    /// Issued at, unix seconds.
    pub iat: i64,
    /// Expires at, unix seconds; the code is expired from this second on.
    pub exp: i64,
}

impl Claims {
    /// The last 4 characters of [`Claims::idm`], see [`masked_id_tail`].
    pub fn id_tail(&self) -> Option<&str> {
        masked_id_tail(&self.idm)
    }
}

/// The last 4 characters of a masked ID number (`110101********123X` ->
/// `123X`), which the student must re-enter to bind the code to themselves.
/// `None` when the tail is not 4 unmasked ID characters (digits or `X`), so a
/// malformed claim can never match anything.
pub fn masked_id_tail(idm: &str) -> Option<&str> {
    let start = idm.len().checked_sub(4)?;
    let tail = idm.get(start..)?;
    tail.bytes()
        .all(|b| b.is_ascii_digit() || b == b'X' || b == b'x')
        .then_some(tail)
}

/// Whether the 4 characters a student typed equal the tail of `idm`. The
/// check digit `X` is compared case-insensitively because phone keyboards
/// often give a lower-case `x`; surrounding whitespace is ignored.
pub fn id_tail_matches(idm: &str, entered: &str) -> bool {
    masked_id_tail(idm).is_some_and(|tail| tail.eq_ignore_ascii_case(entered.trim()))
}
