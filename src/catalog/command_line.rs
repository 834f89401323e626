//! Compares a typed command with a quiz's expected one the way a shell and a CLI parser would
//! see them: words split like a shell, the program and positional words in order, flags in any
//! order, `--flag=value` equal to `--flag value`, a leading `sudo` ignored.
//!
//! Which flags take a value is learned from the expected answer, where every such flag is
//! written with `=`: without that, `--ignore-daemonsets node01` could be a flag and a node or a
//! flag and its value.

use std::collections::BTreeSet;

/// A command as a parser sees it.
#[derive(Debug, PartialEq, Eq)]
struct Shape {
    /// `NAME=value` assignments before the program (`ETCDCTL_API=3 etcdctl …`).
    env: BTreeSet<String>,
    /// The program and its positional words, in order.
    words: Vec<String>,
    /// Flags with their values, order-free.
    flags: BTreeSet<(String, Option<String>)>,
}

/// Splits a command line into words like a POSIX shell: single quotes keep everything,
/// double quotes keep everything but `\"` and `\\`, a backslash outside quotes escapes the
/// next character. `None` when a quote is never closed.
pub fn split(line: &str) -> Option<Vec<String>> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                in_word = true;
                loop {
                    match chars.next()? {
                        '\'' => break,
                        other => word.push(other),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next()? {
                        '"' => break,
                        '\\' => match chars.next()? {
                            escaped @ ('"' | '\\' | '$' | '`') => word.push(escaped),
                            other => {
                                word.push('\\');
                                word.push(other);
                            }
                        },
                        other => word.push(other),
                    }
                }
            }
            '\\' => {
                in_word = true;
                word.push(chars.next()?);
            }
            c if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            c => {
                in_word = true;
                word.push(c);
            }
        }
    }
    if in_word {
        words.push(word);
    }
    Some(words)
}

/// kubectl's short flags and their long names: either spelling is the same flag.
const KUBECTL_ALIASES: [(&str, &str); 5] = [
    ("-n", "--namespace"),
    ("-o", "--output"),
    ("-A", "--all-namespaces"),
    ("-f", "--filename"),
    ("-l", "--selector"),
];

fn canonical_flag(program: &str, flag: &str) -> String {
    if program == "kubectl"
        && let Some((_, long)) = KUBECTL_ALIASES.iter().find(|(short, _)| *short == flag)
    {
        return long.to_string();
    }
    flag.to_string()
}

/// Parses `words` given the flags known to take a value.
fn shape(words: &[String], valued: &BTreeSet<String>) -> Shape {
    // `NAME=value` assignments and `sudo` may come before the program, in any order.
    let prefix = words
        .iter()
        .take_while(|w| is_assignment(w) || *w == "sudo")
        .count();
    let env = words[..prefix]
        .iter()
        .filter(|w| is_assignment(w))
        .cloned()
        .collect();
    let mut words = words[prefix..].iter();
    let program = words.next().cloned().unwrap_or_default();
    let mut shape = Shape {
        env,
        words: vec![program.clone()],
        flags: BTreeSet::new(),
    };
    let mut only_positional = false;
    while let Some(word) = words.next() {
        if only_positional || !word.starts_with('-') || word == "-" {
            shape.words.push(word.clone());
        } else if word == "--" {
            only_positional = true;
        } else if let Some((name, value)) = word.split_once('=') {
            shape
                .flags
                .insert((canonical_flag(&program, name), Some(value.to_string())));
        } else {
            let name = canonical_flag(&program, word);
            let value = if valued.contains(&name) {
                words.next().cloned()
            } else {
                None
            };
            shape.flags.insert((name, value));
        }
    }
    shape
}

fn is_assignment(word: &str) -> bool {
    word.split_once('=').is_some_and(|(name, _)| {
        !name.is_empty()
            && !name.starts_with(|c: char| c.is_ascii_digit())
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    })
}

/// The flags written `--flag=value` in an expected answer.
fn valued_flags(expected: &[String]) -> BTreeSet<String> {
    let program = expected
        .iter()
        .find(|w| *w != "sudo" && !is_assignment(w))
        .map_or("", String::as_str);
    expected
        .iter()
        .filter(|w| w.starts_with('-'))
        .filter_map(|w| w.split_once('=').map(|(name, _)| name))
        .map(|name| canonical_flag(program, name))
        .collect()
}

/// Whether `given` is the same command as `expected` (see the module doc for what "same" is).
pub fn same_command(expected: &str, given: &str) -> bool {
    let (Some(expected), Some(given)) = (split(expected), split(given)) else {
        return false;
    };
    let valued = valued_flags(&expected);
    !given.is_empty() && shape(&expected, &valued) == shape(&given, &valued)
}

/// An expected answer as a learner would type it: single-dash flags take their value after a
/// space (`-n kube-system`, `openssl … -in cert.pem`), long flags keep `--flag=value`.
pub fn display(expected: &str) -> String {
    expected
        .split(' ')
        .map(|word| match word.split_once('=') {
            Some((flag, value)) if flag.starts_with('-') && !flag.starts_with("--") => {
                format!("{flag} {value}")
            }
            _ => word.to_string(),
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    const SNAPSHOT: &str = "etcdctl --endpoints=https://127.0.0.1:2379 --cacert=/etc/kubernetes/pki/etcd/ca.crt --cert=/etc/kubernetes/pki/etcd/server.crt --key=/etc/kubernetes/pki/etcd/server.key snapshot save /opt/backup/etcd.db";

    #[test]
    fn flags_in_any_order_and_either_value_spelling() {
        let given = "ETCDCTL_API=3 sudo etcdctl snapshot save /opt/backup/etcd.db --key /etc/kubernetes/pki/etcd/server.key \
                     --cert=/etc/kubernetes/pki/etcd/server.crt --cacert /etc/kubernetes/pki/etcd/ca.crt \
                     --endpoints https://127.0.0.1:2379";
        assert!(!same_command(SNAPSHOT, given), "an env assignment counts");
        assert!(same_command(&format!("ETCDCTL_API=3 {SNAPSHOT}"), given));
        assert!(same_command(
            SNAPSHOT,
            given.trim_start_matches("ETCDCTL_API=3 ")
        ));
        assert!(same_command(
            SNAPSHOT,
            &format!(
                "sudo {}",
                SNAPSHOT
                    .replace("--key=", "--key '")
                    .replace(".key ", ".key' ")
            )
        ));
    }

    #[test]
    fn positional_words_and_values_must_match() {
        assert!(!same_command(
            SNAPSHOT,
            &SNAPSHOT.replace("/opt/backup/etcd.db", "/tmp/etcd.db")
        ));
        assert!(!same_command(
            SNAPSHOT,
            &SNAPSHOT.replace("snapshot save", "save snapshot")
        ));
        assert!(!same_command(SNAPSHOT, &SNAPSHOT.replace(":2379", ":2380")));
        assert!(!same_command(
            SNAPSHOT,
            &SNAPSHOT.replace(" --key=/etc/kubernetes/pki/etcd/server.key", "")
        ));
        assert!(!same_command(SNAPSHOT, ""));
        assert!(
            !same_command(SNAPSHOT, "etcdctl 'snapshot save"),
            "an open quote"
        );
    }

    #[test]
    fn kubectl_short_and_long_flags_are_one_flag() {
        let expected = "kubectl -n=kube-system get pods -l=k8s-app=kube-dns";
        assert!(same_command(
            expected,
            "kubectl get pods -n kube-system -l k8s-app=kube-dns"
        ));
        assert!(same_command(
            expected,
            "kubectl get pods --selector=k8s-app=kube-dns --namespace kube-system"
        ));
        assert!(!same_command(
            expected,
            "kubectl get pods -n default -l k8s-app=kube-dns"
        ));
        // Only kubectl's: journalctl's -n is a line count, not a namespace.
        assert!(!same_command(
            "journalctl -u=kubelet -n=50",
            "journalctl -u kubelet --namespace 50"
        ));
        assert!(same_command(
            "journalctl -u=kubelet -n=50",
            "journalctl -n 50 -u kubelet"
        ));
    }

    #[test]
    fn boolean_flags_do_not_swallow_the_next_word() {
        let expected = "kubectl drain node01 --ignore-daemonsets --delete-emptydir-data";
        assert!(same_command(
            expected,
            "kubectl drain --ignore-daemonsets --delete-emptydir-data node01"
        ));
        assert!(!same_command(
            expected,
            "kubectl drain node01 --ignore-daemonsets"
        ));
    }

    #[test]
    fn shell_splitting() {
        assert_eq!(
            split(r#"kubectl get --raw='/readyz?verbose' "a b" c\ d "x\"y""#),
            Some(vec![
                "kubectl".into(),
                "get".into(),
                "--raw=/readyz?verbose".into(),
                "a b".into(),
                "c d".into(),
                "x\"y".into()
            ])
        );
        assert_eq!(split("a \"b"), None);
    }

    #[test]
    fn display_writes_short_flag_values_after_a_space() {
        assert_eq!(
            display("openssl x509 -noout -enddate -in=/etc/kubernetes/pki/apiserver.crt"),
            "openssl x509 -noout -enddate -in /etc/kubernetes/pki/apiserver.crt"
        );
        assert_eq!(
            display("kubectl -n=kube-system get pods -l=k8s-app=kube-dns --sort-by=.metadata.name"),
            "kubectl -n kube-system get pods -l k8s-app=kube-dns --sort-by=.metadata.name"
        );
    }
}
