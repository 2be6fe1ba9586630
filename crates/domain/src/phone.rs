//! Mainland China mobile numbers (the phone a student verifies through WeChat).

/// The text is not a mainland mobile number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("手机号应为 11 位中国大陆手机号码")]
pub struct PhoneError;

/// Whether `s` is exactly a mainland mobile number: `1[3-9]\d{9}`, nothing else around it.
pub fn is_valid_mobile(s: &str) -> bool {
    matches!(s.as_bytes(), [b'1', b'3'..=b'9', rest @ ..] if rest.len() == 9 && rest.iter().all(u8::is_ascii_digit))
}

/// Checks a mobile number as stored: 11 digits, `1[3-9]\d{9}`.
pub fn validate_mobile(s: &str) -> Result<(), PhoneError> {
    if is_valid_mobile(s) {
        Ok(())
    } else {
        Err(PhoneError)
    }
}

/// Normalises a number from a form or from WeChat (whose `phoneNumber` carries `+86`): trims
/// whitespace, drops a leading `+86`, then validates. Returns the bare 11 digits.
pub fn normalise_mobile(input: &str) -> Result<String, PhoneError> {
    let s = input.trim();
    let s = s.strip_prefix("+86").map_or(s, str::trim_start);
    validate_mobile(s)?;
    Ok(s.to_owned())
}

/// `13800138000` → `138****8000`. Other lengths keep at most the first 3 and last 4 characters
/// and only when at least 4 are hidden; shorter strings are masked entirely.
pub fn mask(phone: &str) -> String {
    let chars: Vec<char> = phone.chars().collect();
    let n = chars.len();
    if n < 11 {
        return "*".repeat(n);
    }
    chars
        .iter()
        .enumerate()
        .map(|(i, &c)| if i < 3 || i >= n - 4 { c } else { '*' })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid() {
        for ok in ["13800138000", "19912345678", "15000000000", "17700001111"] {
            assert!(is_valid_mobile(ok), "{ok}");
            assert_eq!(validate_mobile(ok), Ok(()));
        }
    }

    #[test]
    fn invalid() {
        for bad in [
            "",
            "1380013800",
            "138001380000",
            "12800138000",
            "10800138000",
            "23800138000",
            "1380013800a",
            " 13800138000",
            "+8613800138000",
            "138-0013-8000",
            "１3800138000",
        ] {
            assert!(!is_valid_mobile(bad), "{bad:?}");
            assert_eq!(validate_mobile(bad), Err(PhoneError));
        }
    }

    #[test]
    fn normalise() {
        assert_eq!(
            normalise_mobile(" 13800138000 ").as_deref(),
            Ok("13800138000")
        );
        assert_eq!(
            normalise_mobile("+8613800138000").as_deref(),
            Ok("13800138000")
        );
        assert_eq!(
            normalise_mobile("+86 13800138000").as_deref(),
            Ok("13800138000")
        );
        assert_eq!(normalise_mobile("8613800138000"), Err(PhoneError));
        assert_eq!(normalise_mobile("+86"), Err(PhoneError));
    }

    #[test]
    fn masking() {
        assert_eq!(mask("13800138000"), "138****8000");
        assert_eq!(mask("1380013800"), "**********");
        assert_eq!(mask(""), "");
        assert_eq!(mask("+8613800138000"), "+86*******8000");
    }
}
