//! The current time, pinnable for tests and demos with `CKALAB_NOW=<RFC 3339 timestamp>`.

use jiff::Timestamp;

pub const NOW_ENV: &str = "CKALAB_NOW";

/// Now, or the instant `CKALAB_NOW` pins (ignored when it does not parse).
pub fn now() -> Timestamp {
    std::env::var(NOW_ENV)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(Timestamp::now)
}

/// Serializes a time as RFC 3339 in UTC to the second (`2026-11-25T12:00:00Z`), as every JSON
/// output documents it.
pub fn rfc3339<S: serde::Serializer>(at: &Timestamp, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(&at.strftime("%Y-%m-%dT%H:%M:%SZ"))
}

/// `rfc3339` for an optional time (`null` when absent).
pub fn rfc3339_optional<S: serde::Serializer>(
    at: &Option<Timestamp>,
    s: S,
) -> Result<S::Ok, S::Error> {
    match at {
        Some(at) => rfc3339(at, s),
        None => s.serialize_none(),
    }
}

/// "12m 05s", "1h 02m", "45s": a duration the way a learner reads a clock.
pub fn human_duration(seconds: i64) -> String {
    let s = seconds.max(0);
    match (s / 3600, (s % 3600) / 60, s % 60) {
        (0, 0, sec) => format!("{sec}s"),
        (0, min, sec) => format!("{min}m {sec:02}s"),
        (h, min, _) => format!("{h}h {min:02}m"),
    }
}

#[cfg(test)]
mod tests {
    use super::human_duration;

    #[test]
    fn durations_read_like_a_clock() {
        assert_eq!(human_duration(45), "45s");
        assert_eq!(human_duration(725), "12m 05s");
        assert_eq!(human_duration(3720), "1h 02m");
        assert_eq!(human_duration(-3), "0s");
    }
}
