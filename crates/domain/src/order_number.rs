//! Order numbers: `<4–6-digit project prefix>-<yyyyMMddHHmmssSSS in Asia/Shanghai>`, as the
//! guides show them (`000015-20240220115644602`, `0000-20221121142625595`). A prefix may be
//! shared by several projects (and years); the number is also WeChat Pay's `out_trade_no`, so it
//! stays unique through the timestamp, and on a collision the caller retries with
//! [`next_candidate`] (one millisecond later).

use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, NaiveTime, TimeDelta, Timelike, Utc};

/// Asia/Shanghai is UTC+8 all year (no daylight saving), so a fixed offset is exact.
const SHANGHAI_OFFSET_SECS: i32 = 8 * 3600;
const PREFIX_LEN: std::ops::RangeInclusive<usize> = 4..=6;
const STAMP_LEN: usize = 17;

/// An order number or its parts are malformed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OrderNumberError {
    #[error("order-number prefix must be 4 to 6 ASCII digits")]
    Prefix,
    #[error("order number must look like 000015-20240220115644602")]
    Format,
    #[error("order number holds no real date and time")]
    Timestamp,
    #[error("time cannot be written as a 4-digit year order number")]
    OutOfRange,
}

/// Asia/Shanghai as a chrono offset; evaluated at compile time, so it cannot fail at run time.
const SHANGHAI: FixedOffset = match FixedOffset::east_opt(SHANGHAI_OFFSET_SECS) {
    Some(offset) => offset,
    None => panic!("UTC+8 is a valid offset"),
};

/// Checks a project's prefix: 4 to 6 ASCII digits.
pub fn validate_prefix(prefix: &str) -> Result<(), OrderNumberError> {
    if PREFIX_LEN.contains(&prefix.len()) && prefix.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err(OrderNumberError::Prefix)
    }
}

/// `at` cut to whole milliseconds, the precision an order number keeps (leap seconds fold into
/// the next second).
pub fn truncate_to_millis(at: DateTime<Utc>) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp_millis(at.timestamp_millis())
}

/// The order number for a project prefix at instant `at` (sub-millisecond part dropped).
pub fn format(prefix: &str, at: DateTime<Utc>) -> Result<String, OrderNumberError> {
    validate_prefix(prefix)?;
    let at = truncate_to_millis(at).ok_or(OrderNumberError::OutOfRange)?;
    let local = at.with_timezone(&SHANGHAI);
    if !(0..=9999).contains(&local.year()) {
        return Err(OrderNumberError::OutOfRange);
    }
    Ok(format!(
        "{prefix}-{:04}{:02}{:02}{:02}{:02}{:02}{:03}",
        local.year(),
        local.month(),
        local.day(),
        local.hour(),
        local.minute(),
        local.second(),
        local.timestamp_subsec_millis(),
    ))
}

/// Splits an order number back into its prefix and instant.
pub fn parse(number: &str) -> Result<(String, DateTime<Utc>), OrderNumberError> {
    let (prefix, stamp) = number.split_once('-').ok_or(OrderNumberError::Format)?;
    validate_prefix(prefix).map_err(|_| OrderNumberError::Format)?;
    if stamp.len() != STAMP_LEN || !stamp.bytes().all(|b| b.is_ascii_digit()) {
        return Err(OrderNumberError::Format);
    }
    // All ASCII digits, so every slice below is on a char boundary and parses.
    let field = |from: usize, to: usize| -> Result<u32, OrderNumberError> {
        stamp
            .get(from..to)
            .and_then(|s| s.parse().ok())
            .ok_or(OrderNumberError::Format)
    };
    let year = i32::try_from(field(0, 4)?).map_err(|_| OrderNumberError::Format)?;
    let date = NaiveDate::from_ymd_opt(year, field(4, 6)?, field(6, 8)?)
        .ok_or(OrderNumberError::Timestamp)?;
    let time = NaiveTime::from_hms_milli_opt(
        field(8, 10)?,
        field(10, 12)?,
        field(12, 14)?,
        field(14, 17)?,
    )
    .ok_or(OrderNumberError::Timestamp)?;
    let at = date
        .and_time(time)
        .and_local_timezone(SHANGHAI)
        .single()
        .ok_or(OrderNumberError::Timestamp)?
        .with_timezone(&Utc);
    Ok((prefix.to_owned(), at))
}

/// The number to try after `previous_at` collided: one millisecond later. Returns the number
/// and its instant, so a further collision can call this again with the new instant.
pub fn next_candidate(
    prefix: &str,
    previous_at: DateTime<Utc>,
) -> Result<(String, DateTime<Utc>), OrderNumberError> {
    let base = truncate_to_millis(previous_at).ok_or(OrderNumberError::OutOfRange)?;
    let next = base
        .checked_add_signed(TimeDelta::milliseconds(1))
        .ok_or(OrderNumberError::OutOfRange)?;
    Ok((format(prefix, next)?, next))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32, ms: u32) -> DateTime<Utc> {
        let naive = NaiveDate::from_ymd_opt(y, mo, d)
            .and_then(|d| d.and_hms_milli_opt(h, mi, s, ms))
            .unwrap_or_else(|| panic!("bad test date"));
        Utc.from_utc_datetime(&naive)
    }

    #[test]
    fn design_example() {
        let at = utc(2024, 2, 20, 3, 56, 44, 602);
        assert_eq!(
            format("000015", at).as_deref(),
            Ok("000015-20240220115644602")
        );
        assert_eq!(
            parse("000015-20240220115644602"),
            Ok(("000015".to_owned(), at))
        );
    }

    #[test]
    fn four_digit_prefix_of_the_guides() {
        let at = utc(2022, 11, 21, 6, 26, 25, 595);
        assert_eq!(format("0000", at).as_deref(), Ok("0000-20221121142625595"));
        assert_eq!(parse("0000-20221121142625595"), Ok(("0000".to_owned(), at)));
        let (n, _) = next_candidate("0000", at).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(n, "0000-20221121142625596");
    }

    #[test]
    fn shanghai_day_starts_at_16_utc() {
        let at = utc(2023, 12, 31, 16, 0, 0, 0);
        assert_eq!(
            format("123456", at).as_deref(),
            Ok("123456-20240101000000000")
        );
        let at = utc(2023, 12, 31, 15, 59, 59, 999);
        assert_eq!(
            format("123456", at).as_deref(),
            Ok("123456-20231231235959999")
        );
    }

    #[test]
    fn sub_millisecond_part_is_dropped() {
        let at = utc(2024, 2, 20, 3, 56, 44, 602) + TimeDelta::microseconds(999);
        assert_eq!(
            format("000015", at).as_deref(),
            Ok("000015-20240220115644602")
        );
        let (_, back) = parse("000015-20240220115644602").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(Some(back), truncate_to_millis(at));
    }

    #[test]
    fn round_trip() {
        for at in [
            utc(2000, 1, 1, 0, 0, 0, 0),
            utc(2024, 2, 29, 23, 59, 59, 999),
            utc(2099, 12, 31, 16, 0, 0, 1),
        ] {
            let n = format("987654", at).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(n.len(), 24);
            assert_eq!(parse(&n), Ok(("987654".to_owned(), at)));
        }
    }

    #[test]
    fn prefixes() {
        for good in ["000000", "0000", "12345"] {
            assert_eq!(validate_prefix(good), Ok(()), "{good:?}");
        }
        for bad in ["", "123", "1234567", "12345a", " 12345", "１23456"] {
            assert_eq!(
                validate_prefix(bad),
                Err(OrderNumberError::Prefix),
                "{bad:?}"
            );
            assert_eq!(format(bad, Utc::now()), Err(OrderNumberError::Prefix));
        }
    }

    #[test]
    fn malformed_numbers() {
        for bad in [
            "",
            "000015",
            "000015-",
            "015-20240220115644602",
            "0000015-20240220115644602",
            "000015_20240220115644602",
            "000015-2024022011564460",
            "000015-202402201156446020",
            "000015-2024022011564460a",
            "000015-20240220115644602-1",
            "000015--0240220115644602",
            "00001５-20240220115644602",
        ] {
            assert_eq!(parse(bad), Err(OrderNumberError::Format), "{bad:?}");
        }
        for bad in [
            "000015-20240230115644602", // 30 February
            "000015-20241320115644602", // month 13
            "000015-20240220245644602", // hour 24
            "000015-20240220116044602", // minute 60
            "000015-20240220115660602", // second 60
        ] {
            assert_eq!(parse(bad), Err(OrderNumberError::Timestamp), "{bad:?}");
        }
    }

    #[test]
    fn next_candidate_is_one_millisecond_later() {
        let at = utc(2024, 2, 20, 3, 56, 44, 602);
        let (n, next) = next_candidate("000015", at).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(n, "000015-20240220115644603");
        assert_eq!(next - at, TimeDelta::milliseconds(1));
        let (n, _) = next_candidate("000015", utc(2024, 2, 20, 15, 59, 59, 999))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(n, "000015-20240221000000000");
        // Sub-millisecond noise does not make the retry equal to the original.
        let noisy = at + TimeDelta::microseconds(500);
        let (n, _) = next_candidate("000015", noisy).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(n, "000015-20240220115644603");
    }

    #[test]
    fn out_of_range_years() {
        let far = utc(9999, 12, 31, 16, 0, 0, 0); // already year 10000 in Shanghai
        assert_eq!(format("000015", far), Err(OrderNumberError::OutOfRange));
        assert_eq!(
            next_candidate("000015", DateTime::<Utc>::MAX_UTC),
            Err(OrderNumberError::OutOfRange)
        );
    }
}
