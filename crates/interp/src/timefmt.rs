//! ISO-8601 timestamps as Step Functions writes and reads them.

use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// `2024-05-06T07:08:09.123Z` (milliseconds, UTC), as in `$$.Execution.StartTime`.
pub fn format_millis(millis: i64) -> String {
    let nanos = (millis as i128) * 1_000_000;
    match OffsetDateTime::from_unix_timestamp_nanos(nanos) {
        Ok(t) => {
            let (y, mo, d) = (t.year(), t.month() as u8, t.day());
            format!(
                "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
                y,
                mo,
                d,
                t.hour(),
                t.minute(),
                t.second(),
                t.millisecond()
            )
        }
        Err(_) => "1970-01-01T00:00:00.000Z".to_string(),
    }
}

/// Parse an ISO-8601 extended offset date-time (what AWS accepts in `Timestamp` and the
/// `Timestamp…` Choice operators). Returns nanoseconds since the epoch.
pub fn parse_timestamp(s: &str) -> Option<i128> {
    // RFC 3339 requires 'T' and an offset; AWS rejects lower-case 't'/'z' variants too.
    if s.contains('t') || s.contains('z') || s.contains(' ') {
        return None;
    }
    OffsetDateTime::parse(s, &Rfc3339)
        .ok()
        .map(|t| t.unix_timestamp_nanos())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_with_millis() {
        assert_eq!(format_millis(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(format_millis(1_715_000_000_123), "2024-05-06T12:53:20.123Z");
    }

    #[test]
    fn parses_rfc3339() {
        assert_eq!(parse_timestamp("1970-01-01T00:00:01Z"), Some(1_000_000_000));
        assert!(parse_timestamp("2016-03-14T01:59:00.123456789+01:00").is_some());
        for bad in [
            "2016-13-05T21:29:29Z",
            "2016-12-05T25:29:29Z",
            "2016-12-05T21:29:29",
            "2016-12-05 21:29:29Z",
            "05-12-2016T21:29:29Z",
        ] {
            assert_eq!(parse_timestamp(bad), None, "{bad}");
        }
    }
}
