//! "Did you mean …?" for names a learner mistyped.

/// The known names closest to `input`, best first (at most three).
pub fn closest<'a>(input: &str, known: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let input = input.to_ascii_lowercase();
    let mut scored: Vec<(f64, &str)> = known
        .into_iter()
        .map(|name| {
            let mut score = strsim::jaro_winkler(&input, name);
            // A fragment of the name ("restore" for "etcd-restore") is a strong signal.
            if input.len() >= 3 && (name.contains(input.as_str()) || input.contains(name)) {
                score = score.max(0.9);
            }
            (score, name)
        })
        .filter(|(score, _)| *score >= 0.75)
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(b.1)));
    scored.dedup_by(|a, b| a.1 == b.1);
    scored
        .into_iter()
        .take(3)
        .map(|(_, name)| name.to_string())
        .collect()
}

/// A sentence tail like " (did you mean `etcd`?)", or nothing when no name is close.
pub fn did_you_mean<'a>(input: &str, known: impl IntoIterator<Item = &'a str>) -> String {
    format_suggestions(&closest(input, known))
}

pub fn format_suggestions(names: &[String]) -> String {
    match names {
        [] => String::new(),
        [one] => format!(" (did you mean `{one}`?)"),
        many => {
            let quoted: Vec<String> = many.iter().map(|n| format!("`{n}`")).collect();
            format!(" (did you mean one of {}?)", quoted.join(", "))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LABS: [&str; 5] = [
        "cri-plugin-disabled",
        "runtime-endpoint",
        "apiserver-flags",
        "expired-certs",
        "etcd-restore",
    ];

    #[test]
    fn typos_and_fragments_find_the_lab() {
        assert_eq!(closest("etcd-restor", LABS), ["etcd-restore"]);
        assert_eq!(closest("restore", LABS)[0], "etcd-restore");
        assert_eq!(closest("expired-cert", LABS)[0], "expired-certs");
    }

    #[test]
    fn unrelated_names_suggest_nothing() {
        assert!(closest("zzzz", LABS).is_empty());
        assert_eq!(did_you_mean("zzzz", LABS), "");
    }
}
