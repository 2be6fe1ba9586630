//! Money is kept as integer fen (分, 1/100 CNY) everywhere, as WeChat Pay does; this module only
//! turns it into text for people.

/// `3000` → `¥30.00`, `5` → `¥0.05`, `-100` → `-¥1.00`. Exact for every `i64`.
pub fn format_fen(fen: i64) -> String {
    let sign = if fen < 0 { "-" } else { "" };
    let abs = fen.unsigned_abs();
    format!("{sign}¥{}.{:02}", abs / 100, abs % 100)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(format_fen(3000), "¥30.00");
        assert_eq!(format_fen(5), "¥0.05");
        assert_eq!(format_fen(0), "¥0.00");
        assert_eq!(format_fen(10), "¥0.10");
        assert_eq!(format_fen(99), "¥0.99");
        assert_eq!(format_fen(12345), "¥123.45");
        assert_eq!(format_fen(-100), "-¥1.00");
        assert_eq!(format_fen(-5), "-¥0.05");
        assert_eq!(format_fen(i64::MAX), "¥92233720368547758.07");
        assert_eq!(format_fen(i64::MIN), "-¥92233720368547758.08");
    }
}
