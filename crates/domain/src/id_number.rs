//! Chinese resident identity numbers (GB 11643-1999). Checked on entry so a typo is caught
//! before it is encrypted and stored, and masked everywhere but the owner's own view.

use chrono::NaiveDate;

/// Why a string is not a valid resident ID number; each kind gets its own message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum IdNumberError {
    #[error("身份证号应为 18 位")]
    Length,
    #[error("身份证号前 17 位应为数字，最后一位为数字或 X")]
    Characters,
    #[error("身份证号的地区码不正确")]
    Region,
    #[error("身份证号中的出生日期不正确")]
    BirthDate,
    #[error("身份证号校验位不正确，请检查是否输错")]
    CheckDigit,
}

const LEN: usize = 18;
const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK_CHARS: [u8; 11] = *b"10X98765432";

/// A valid resident ID number, normalised (trimmed, final `x` upper-cased).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct IdNumber {
    value: String,
    birth_date: NaiveDate,
}

/// Never prints the full number, so it cannot leak into logs through `{:?}`.
impl std::fmt::Debug for IdNumber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("IdNumber").field(&self.masked()).finish()
    }
}

/// The check character for the first 17 digits (ISO 7064 MOD 11-2).
fn check_char(first17: &[u8]) -> u8 {
    let sum: u32 = first17
        .iter()
        .zip(WEIGHTS)
        .map(|(&d, w)| u32::from(d - b'0') * w)
        .sum();
    // sum % 11 is 0..=10, always an index of CHECK_CHARS.
    CHECK_CHARS[(sum % 11) as usize]
}

impl IdNumber {
    /// Validates `input` (surrounding whitespace ignored, lowercase `x` accepted). `today`
    /// bounds the birth date, which must lie in 1900-01-01..=today.
    pub fn parse(input: &str, today: NaiveDate) -> Result<Self, IdNumberError> {
        let trimmed = input.trim();
        if trimmed.chars().count() != LEN {
            return Err(IdNumberError::Length);
        }
        let value = trimmed.to_ascii_uppercase();
        let bytes = value.as_bytes();
        // Non-ASCII characters make the byte length exceed 18, so they fail here too.
        let (first17, last) = match bytes {
            [first17 @ .., last] if bytes.len() == LEN => (first17, *last),
            _ => return Err(IdNumberError::Characters),
        };
        if !first17.iter().all(u8::is_ascii_digit) || !(last.is_ascii_digit() || last == b'X') {
            return Err(IdNumberError::Characters);
        }
        if !(b'1'..=b'8').contains(&first17[0]) {
            return Err(IdNumberError::Region);
        }
        let birth_date = value
            .get(6..14)
            .and_then(|s| NaiveDate::parse_from_str(s, "%Y%m%d").ok())
            .filter(|d| {
                NaiveDate::from_ymd_opt(1900, 1, 1).is_some_and(|min| *d >= min) && *d <= today
            })
            .ok_or(IdNumberError::BirthDate)?;
        if check_char(first17) != last {
            return Err(IdNumberError::CheckDigit);
        }
        Ok(Self { value, birth_date })
    }

    /// The full normalised number (for encryption and the blind index only).
    pub fn as_str(&self) -> &str {
        &self.value
    }

    /// The birth date encoded in characters 7–14.
    pub fn birth_date(&self) -> NaiveDate {
        self.birth_date
    }

    /// The 6-digit administrative region code.
    pub fn region_code(&self) -> &str {
        self.value.get(..6).unwrap_or_default()
    }

    /// The last 4 characters, which students type to bind a collection code.
    pub fn last4(&self) -> &str {
        self.value.get(LEN - 4..).unwrap_or_default()
    }

    /// `110101********123X`.
    pub fn masked(&self) -> String {
        mask(&self.value)
    }
}

/// Masks an ID number for display, keeping the first 6 and last 4 characters:
/// `110101********123X`. Strings of 10 characters or fewer are masked entirely, so a
/// malformed value never shows more than a valid one would.
pub fn mask(id: &str) -> String {
    let chars: Vec<char> = id.chars().map(|c| c.to_ascii_uppercase()).collect();
    let n = chars.len();
    if n <= 10 {
        return "*".repeat(n);
    }
    chars
        .iter()
        .enumerate()
        .map(|(i, &c)| if i < 6 || i >= n - 4 { c } else { '*' })
        .collect()
}

/// Normalises the last 4 characters a student types (`123x` → `123X`): 3 digits then a digit or X.
pub fn normalise_last4(input: &str) -> Result<String, IdNumberError> {
    let s = input.trim().to_ascii_uppercase();
    match s.as_bytes() {
        [a, b, c, d] => {
            if [a, b, c].iter().all(|x| x.is_ascii_digit()) && (d.is_ascii_digit() || *d == b'X') {
                Ok(s)
            } else {
                Err(IdNumberError::Characters)
            }
        }
        _ if s.chars().count() == 4 => Err(IdNumberError::Characters),
        _ => Err(IdNumberError::Length),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2025, 6, 1).unwrap_or_default()
    }

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap_or_else(|| panic!("bad test date"))
    }

    /// Check digits computed independently (Python, weights 7 9 10 5 8 4 2 1 6 3 …).
    const VALID: &[(&str, (i32, u32, u32))] = &[
        ("11010519491231002X", (1949, 12, 31)),
        ("44030419900307123X", (1990, 3, 7)),
        ("310115200002294567", (2000, 2, 29)),
        ("510107198506150011", (1985, 6, 15)),
        ("650102200511118883", (2005, 11, 11)),
        ("110101190001010014", (1900, 1, 1)),
        ("210203198001012341", (1980, 1, 1)),
        ("370202201010105550", (2010, 10, 10)),
        ("440106200102281010", (2001, 2, 28)),
    ];

    #[test]
    fn valid_numbers() {
        for &(s, (y, m, d)) in VALID {
            let id = IdNumber::parse(s, today()).unwrap_or_else(|e| panic!("{s}: {e}"));
            assert_eq!(id.as_str(), s);
            assert_eq!(id.birth_date(), date(y, m, d));
            assert_eq!(id.region_code(), &s[..6]);
            assert_eq!(id.last4(), &s[14..]);
        }
    }

    #[test]
    fn lowercase_x_and_whitespace_are_normalised() {
        let id =
            IdNumber::parse(" 11010519491231002x\n", today()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(id.as_str(), "11010519491231002X");
        assert_eq!(id.last4(), "002X");
        assert_eq!(id.masked(), "110105********002X");
    }

    #[test]
    fn check_digit_of_every_valid_example() {
        for &(s, _) in VALID {
            let b = s.as_bytes();
            assert_eq!(check_char(&b[..17]), b[17], "{s}");
        }
    }

    #[test]
    fn every_wrong_check_digit_is_refused() {
        for &(s, _) in VALID {
            for c in "0123456789X".chars() {
                let candidate = format!("{}{c}", &s[..17]);
                let got = IdNumber::parse(&candidate, today());
                if candidate == s {
                    assert!(got.is_ok());
                } else {
                    assert_eq!(got, Err(IdNumberError::CheckDigit), "{candidate}");
                }
            }
        }
    }

    #[test]
    fn length() {
        for bad in [
            "",
            "11010519491231002",
            "11010519491231002 ",
            "11010519491231002X0",
            "110105194912310",
        ] {
            assert_eq!(
                IdNumber::parse(bad, today()),
                Err(IdNumberError::Length),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn characters() {
        for bad in [
            "1101051949123100XX",
            "11010519491231002Y",
            "A1010519491231002X",
            "110105-9491231002X",
            "1101051949123100 X",
            "11010519491231002Ｘ",
            "１1010519491231002X",
            "110105194912310 2X",
        ] {
            assert_eq!(
                IdNumber::parse(bad, today()),
                Err(IdNumberError::Characters),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn region() {
        for bad in ["010105194912310021", "910105194912310021"] {
            assert_eq!(
                IdNumber::parse(bad, today()),
                Err(IdNumberError::Region),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn birth_date() {
        for bad in [
            "110105194913310021", // month 13
            "110105194902300021", // 30 February
            "110105190102290021", // 1901 is not a leap year
            "110105189912310021", // before 1900
            "110105000000000021",
            "110105202506020021", // tomorrow
            "110105300001010021",
        ] {
            assert_eq!(
                IdNumber::parse(bad, today()),
                Err(IdNumberError::BirthDate),
                "{bad:?}"
            );
        }
        // Born today is accepted, born tomorrow is not.
        let born_today = "11010520250601002";
        let full = format!("{born_today}{}", check_char(born_today.as_bytes()) as char);
        assert!(IdNumber::parse(&full, today()).is_ok());
        assert_eq!(
            IdNumber::parse(&full, date(2025, 5, 31)),
            Err(IdNumberError::BirthDate)
        );
    }

    #[test]
    fn masking() {
        assert_eq!(mask("11010119900307123X"), "110101********123X");
        assert_eq!(mask("11010119900307123x"), "110101********123X");
        assert_eq!(mask(""), "");
        assert_eq!(mask("1234567890"), "**********");
        assert_eq!(mask("12345678901"), "123456*8901");
        assert_eq!(mask("身份证号码一二三四五六"), "身份证号码一*三四五六");
    }

    #[test]
    fn debug_does_not_leak() {
        let id = IdNumber::parse("11010519491231002X", today()).unwrap_or_else(|e| panic!("{e}"));
        let shown = format!("{id:?}");
        assert!(!shown.contains("19491231"), "{shown}");
        assert!(shown.contains("110105********002X"));
    }

    #[test]
    fn last4_input() {
        assert_eq!(normalise_last4("002x").as_deref(), Ok("002X"));
        assert_eq!(normalise_last4(" 1234 ").as_deref(), Ok("1234"));
        assert_eq!(normalise_last4("12X4"), Err(IdNumberError::Characters));
        assert_eq!(normalise_last4("一二三四"), Err(IdNumberError::Characters));
        assert_eq!(normalise_last4("123"), Err(IdNumberError::Length));
        assert_eq!(normalise_last4("12345"), Err(IdNumberError::Length));
    }
}
