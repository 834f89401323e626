//! Dotted key paths into YAML/JSON and TOML documents:
//! `spec.volumes[name=etcd-data].hostPath.path`, `plugins."io.containerd.grpc.v1.cri".sandbox_image`,
//! `spec.containers[0].command`.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    /// A map key.
    Key(String),
    /// A list position.
    Index(usize),
    /// The list item whose `field` equals `value`.
    Select { field: String, value: String },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyPath(pub Vec<Segment>);

#[derive(Debug, Clone, thiserror::Error)]
#[error("the key path `{path}` is malformed: {reason}")]
pub struct KeyPathError {
    pub path: String,
    pub reason: String,
}

impl KeyPath {
    pub fn parse(path: &str) -> Result<KeyPath, KeyPathError> {
        let fail = |reason: &str| KeyPathError {
            path: path.to_string(),
            reason: reason.to_string(),
        };
        let mut segments = Vec::new();
        let mut chars = path.chars().peekable();
        let mut expect_key = true;
        while let Some(&c) = chars.peek() {
            match c {
                '.' if !expect_key => {
                    chars.next();
                    expect_key = true;
                }
                '[' => {
                    chars.next();
                    let inner: String = chars.by_ref().take_while(|&c| c != ']').collect();
                    if let Some((field, value)) = inner.split_once('=') {
                        segments.push(Segment::Select {
                            field: field.to_string(),
                            value: value.to_string(),
                        });
                    } else {
                        let index = inner
                            .parse()
                            .map_err(|_| fail("a [..] holds a number or field=value"))?;
                        segments.push(Segment::Index(index));
                    }
                    expect_key = false;
                }
                '"' if expect_key => {
                    chars.next();
                    let key: String = chars.by_ref().take_while(|&c| c != '"').collect();
                    segments.push(Segment::Key(key));
                    expect_key = false;
                }
                _ if expect_key => {
                    let mut key = String::new();
                    while let Some(&c) = chars.peek() {
                        if c == '.' || c == '[' || c == ']' {
                            break;
                        }
                        key.push(c);
                        chars.next();
                    }
                    if key.is_empty() {
                        return Err(fail("empty key"));
                    }
                    segments.push(Segment::Key(key));
                    expect_key = false;
                }
                _ => return Err(fail("expected `.` or `[` between keys")),
            }
        }
        if segments.is_empty() || expect_key {
            return Err(fail("it ends where a key should follow"));
        }
        Ok(KeyPath(segments))
    }
}

impl fmt::Display for KeyPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, segment) in self.0.iter().enumerate() {
            match segment {
                Segment::Key(k) if k.contains('.') => {
                    write!(f, "{}\"{k}\"", if i > 0 { "." } else { "" })?
                }
                Segment::Key(k) => write!(f, "{}{k}", if i > 0 { "." } else { "" })?,
                Segment::Index(n) => write!(f, "[{n}]")?,
                Segment::Select { field, value } => write!(f, "[{field}={value}]")?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::{KeyPath, Segment::*};

    #[test]
    fn parses_keys_indexes_selectors_and_quoted_keys() {
        assert_eq!(
            KeyPath::parse("spec.volumes[name=etcd-data].hostPath.path")
                .expect("valid")
                .0,
            [
                Key("spec".into()),
                Key("volumes".into()),
                Select {
                    field: "name".into(),
                    value: "etcd-data".into()
                },
                Key("hostPath".into()),
                Key("path".into())
            ]
        );
        assert_eq!(
            KeyPath::parse("plugins.\"io.containerd.grpc.v1.cri\".sandbox_image")
                .expect("valid")
                .0,
            [
                Key("plugins".into()),
                Key("io.containerd.grpc.v1.cri".into()),
                Key("sandbox_image".into())
            ]
        );
        assert_eq!(
            KeyPath::parse("spec.containers[0].command")
                .expect("valid")
                .0[2],
            Index(0)
        );
    }

    #[test]
    fn round_trips_through_display() {
        for path in [
            "a.b[0].c",
            "plugins.\"io.containerd.grpc.v1.cri\".x",
            "spec.volumes[name=etcd-data].hostPath.path",
        ] {
            assert_eq!(KeyPath::parse(path).expect("valid").to_string(), path);
        }
    }

    #[test]
    fn rejects_malformed_paths() {
        for path in ["", "a.", "a..b", "a[x]", "a]b"] {
            assert!(KeyPath::parse(path).is_err(), "{path}");
        }
    }
}
