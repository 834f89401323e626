//! Edits of node files as text: keys of TOML and YAML documents, literal text, and the flags of
//! a static pod manifest. Pure functions from text to text, so backends only read and write.

use serde_json::Value;
use toml_edit::{DocumentMut, Item};

use super::keypath::{KeyPath, Segment};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Toml,
    Yaml,
}

impl Format {
    /// The format a node path's extension says.
    pub fn of(path: &str) -> Option<Format> {
        match path.rsplit_once('.').map(|(_, ext)| ext) {
            Some("toml") => Some(Format::Toml),
            Some("yaml" | "yml" | "conf") => Some(Format::Yaml),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum EditError {
    /// The file does not parse in its format.
    #[error("it is not valid {format}: {reason}")]
    Parse {
        format: &'static str,
        reason: String,
    },
    /// The key path leads through something that is not a map or list.
    #[error("`{path}` does not lead to a value: {reason}")]
    Path { path: String, reason: String },
    /// `replace_text` did not find its text.
    #[error("it does not contain {0:?}")]
    TextNotFound(String),
    /// The manifest has no container command to edit.
    #[error("it has no spec.containers[0].command list")]
    NoCommand,
}

pub fn get_key(text: &str, format: Format, path: &KeyPath) -> Result<Option<Value>, EditError> {
    let doc = to_json(text, format)?;
    Ok(lookup(&doc, &path.0).cloned())
}

pub fn set_key(
    text: &str,
    format: Format,
    path: &KeyPath,
    value: &Value,
) -> Result<String, EditError> {
    match format {
        Format::Yaml => {
            let mut doc = parse_yaml(text)?;
            *lookup_mut(&mut doc, path, true)? = value.clone();
            to_yaml(&doc)
        }
        Format::Toml => {
            let mut doc = parse_toml(text)?;
            let (last, parents) = split_last_key(path)?;
            let mut table = doc.as_table_mut() as &mut dyn toml_edit::TableLike;
            for key in parents {
                let entry = table.entry(key).or_insert(toml_edit::table());
                table = entry
                    .as_table_like_mut()
                    .ok_or_else(|| path_error(path, "a parent is not a table"))?;
            }
            table.insert(last, Item::Value(json_to_toml(value)));
            Ok(doc.to_string())
        }
    }
}

pub fn remove_key(text: &str, format: Format, path: &KeyPath) -> Result<String, EditError> {
    match format {
        Format::Yaml => {
            let mut doc = parse_yaml(text)?;
            let (last, parents) = path
                .0
                .split_last()
                .ok_or_else(|| path_error(path, "empty"))?;
            let parent = lookup_mut(&mut doc, &KeyPath(parents.to_vec()), false);
            if let (Ok(Value::Object(map)), Segment::Key(key)) = (parent, last) {
                map.remove(key);
            }
            to_yaml(&doc)
        }
        Format::Toml => {
            let mut doc = parse_toml(text)?;
            let (last, parents) = split_last_key(path)?;
            let mut table = Some(doc.as_table_mut() as &mut dyn toml_edit::TableLike);
            for key in parents {
                table = table
                    .and_then(|t| t.get_mut(key))
                    .and_then(Item::as_table_like_mut);
            }
            if let Some(table) = table {
                table.remove(last);
            }
            Ok(doc.to_string())
        }
    }
}

pub fn replace_text(text: &str, from: &str, to: &str) -> Result<String, EditError> {
    if !text.contains(from) {
        return Err(EditError::TextNotFound(from.to_string()));
    }
    Ok(text.replace(from, to))
}

/// The first container's command of a static pod manifest.
pub fn command(manifest: &str) -> Result<Vec<String>, EditError> {
    let doc = parse_yaml(manifest)?;
    let list = doc
        .pointer("/spec/containers/0/command")
        .and_then(Value::as_array)
        .ok_or(EditError::NoCommand)?;
    Ok(list
        .iter()
        .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_string))
        .collect())
}

/// Sets `--flag=value` in the first container's command, replacing every `--flag=...` or
/// `--flag ...` already there, or appending it.
pub fn set_flag(manifest: &str, flag: &str, value: &str) -> Result<String, EditError> {
    edit_command(manifest, |args| {
        let setting = format!("{flag}={value}");
        match args.iter().position(|a| flag_name(a) == Some(flag)) {
            Some(i) => args[i] = setting,
            None => args.push(setting),
        }
    })
}

pub fn remove_flag(manifest: &str, flag: &str) -> Result<String, EditError> {
    edit_command(manifest, |args| args.retain(|a| flag_name(a) != Some(flag)))
}

/// `--name` of an argument `--name=value` or `--name`.
pub fn flag_name(arg: &str) -> Option<&str> {
    arg.starts_with("--")
        .then(|| arg.split_once('=').map_or(arg, |(name, _)| name))
}

fn edit_command(manifest: &str, edit: impl FnOnce(&mut Vec<String>)) -> Result<String, EditError> {
    let mut doc = parse_yaml(manifest)?;
    let list = doc
        .pointer_mut("/spec/containers/0/command")
        .and_then(Value::as_array_mut)
        .ok_or(EditError::NoCommand)?;
    let mut args: Vec<String> = list
        .iter()
        .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_string))
        .collect();
    edit(&mut args);
    *list = args.into_iter().map(Value::String).collect();
    to_yaml(&doc)
}

pub fn parse_yaml(text: &str) -> Result<Value, EditError> {
    serde_saphyr::from_str(text).map_err(|err| EditError::Parse {
        format: "YAML",
        reason: first_line(&err.to_string()),
    })
}

fn to_yaml(doc: &Value) -> Result<String, EditError> {
    serde_saphyr::to_string(doc).map_err(|err| EditError::Parse {
        format: "YAML",
        reason: err.to_string(),
    })
}

fn parse_toml(text: &str) -> Result<DocumentMut, EditError> {
    text.parse()
        .map_err(|err: toml_edit::TomlError| EditError::Parse {
            format: "TOML",
            reason: first_line(&err.to_string()),
        })
}

fn to_json(text: &str, format: Format) -> Result<Value, EditError> {
    match format {
        Format::Yaml => parse_yaml(text),
        Format::Toml => Ok(toml_item_to_json(parse_toml(text)?.as_item())),
    }
}

fn first_line(text: &str) -> String {
    text.lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or(text)
        .trim()
        .to_string()
}

fn path_error(path: &KeyPath, reason: &str) -> EditError {
    EditError::Path {
        path: path.to_string(),
        reason: reason.to_string(),
    }
}

fn split_last_key(path: &KeyPath) -> Result<(&str, Vec<&str>), EditError> {
    let keys: Option<Vec<&str>> = path
        .0
        .iter()
        .map(|s| match s {
            Segment::Key(k) => Some(k.as_str()),
            _ => None,
        })
        .collect();
    let mut keys = keys.ok_or_else(|| path_error(path, "TOML paths are keys only"))?;
    let last = keys.pop().ok_or_else(|| path_error(path, "empty"))?;
    Ok((last, keys))
}

fn lookup<'v>(doc: &'v Value, segments: &[Segment]) -> Option<&'v Value> {
    segments
        .iter()
        .try_fold(doc, |node, segment| match segment {
            Segment::Key(k) => node.get(k),
            Segment::Index(i) => node.get(i),
            Segment::Select { field, value } => node
                .as_array()?
                .iter()
                .find(|item| item.get(field).and_then(Value::as_str) == Some(value)),
        })
}

/// The value at `path`; with `create`, missing map keys are created on the way.
fn lookup_mut<'v>(
    doc: &'v mut Value,
    path: &KeyPath,
    create: bool,
) -> Result<&'v mut Value, EditError> {
    let mut node = doc;
    for segment in &path.0 {
        node = match segment {
            Segment::Key(k) => {
                if node.is_null() && create {
                    *node = Value::Object(Default::default());
                }
                let map = node
                    .as_object_mut()
                    .ok_or_else(|| path_error(path, &format!("`{k}` is not under a map")))?;
                if create {
                    map.entry(k.clone()).or_insert(Value::Null)
                } else {
                    map.get_mut(k)
                        .ok_or_else(|| path_error(path, &format!("no key `{k}`")))?
                }
            }
            Segment::Index(i) => node
                .get_mut(i)
                .ok_or_else(|| path_error(path, &format!("no item [{i}]")))?,
            Segment::Select { field, value } => node
                .as_array_mut()
                .and_then(|items| {
                    items
                        .iter_mut()
                        .find(|item| item.get(field).and_then(Value::as_str) == Some(value))
                })
                .ok_or_else(|| path_error(path, &format!("no item with {field}={value}")))?,
        };
    }
    Ok(node)
}

fn json_to_toml(value: &Value) -> toml_edit::Value {
    match value {
        Value::Bool(b) => (*b).into(),
        Value::Number(n) => n
            .as_i64()
            .map_or_else(|| n.as_f64().unwrap_or_default().into(), Into::into),
        Value::String(s) => s.as_str().into(),
        Value::Array(items) => toml_edit::Value::Array(items.iter().map(json_to_toml).collect()),
        Value::Object(map) => {
            let mut table = toml_edit::InlineTable::new();
            for (k, v) in map {
                table.insert(k, json_to_toml(v));
            }
            toml_edit::Value::InlineTable(table)
        }
        Value::Null => "".into(),
    }
}

fn toml_item_to_json(item: &Item) -> Value {
    match item {
        Item::None => Value::Null,
        Item::Value(v) => toml_value_to_json(v),
        Item::Table(t) => Value::Object(
            t.iter()
                .map(|(k, v)| (k.to_string(), toml_item_to_json(v)))
                .collect(),
        ),
        Item::ArrayOfTables(a) => Value::Array(
            a.iter()
                .map(|t| toml_item_to_json(&Item::Table(t.clone())))
                .collect(),
        ),
    }
}

fn toml_value_to_json(value: &toml_edit::Value) -> Value {
    use toml_edit::Value as T;
    match value {
        T::String(s) => Value::String(s.value().clone()),
        T::Integer(i) => Value::from(*i.value()),
        T::Float(f) => Value::from(*f.value()),
        T::Boolean(b) => Value::Bool(*b.value()),
        T::Datetime(d) => Value::String(d.value().to_string()),
        T::Array(a) => Value::Array(a.iter().map(toml_value_to_json).collect()),
        T::InlineTable(t) => Value::Object(
            t.iter()
                .map(|(k, v)| (k.to_string(), toml_value_to_json(v)))
                .collect(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn path(p: &str) -> KeyPath {
        KeyPath::parse(p).expect("valid path")
    }

    const CONTAINERD: &str = "version = 2\n# keep me\n\n[plugins.\"io.containerd.grpc.v1.cri\"]\n  sandbox_image = \"registry.k8s.io/pause:3.9\"\n";

    #[test]
    fn toml_keys_are_set_read_and_removed_keeping_comments() {
        let broken = set_key(
            CONTAINERD,
            Format::Toml,
            &path("disabled_plugins"),
            &json!(["io.containerd.grpc.v1.cri"]),
        )
        .expect("set");
        assert!(broken.contains("# keep me"));
        assert!(
            broken.contains("disabled_plugins = [\"io.containerd.grpc.v1.cri\"]"),
            "{broken}"
        );
        assert_eq!(
            get_key(&broken, Format::Toml, &path("disabled_plugins")).expect("get"),
            Some(json!(["io.containerd.grpc.v1.cri"]))
        );
        let nested = path("plugins.\"io.containerd.grpc.v1.cri\".sandbox_image");
        assert_eq!(
            get_key(&broken, Format::Toml, &nested).expect("get"),
            Some(json!("registry.k8s.io/pause:3.9"))
        );
        let fixed = remove_key(&broken, Format::Toml, &path("disabled_plugins")).expect("remove");
        assert_eq!(
            get_key(&fixed, Format::Toml, &path("disabled_plugins")).expect("get"),
            None
        );
    }

    const ETCD: &str = "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - command:\n    - etcd\n    - --data-dir=/var/lib/etcd\n    name: etcd\n  volumes:\n  - hostPath:\n      path: /etc/kubernetes/pki/etcd\n    name: etcd-certs\n  - hostPath:\n      path: /var/lib/etcd\n    name: etcd-data\n";

    #[test]
    fn yaml_keys_select_list_items_by_field() {
        let key = path("spec.volumes[name=etcd-data].hostPath.path");
        let moved =
            set_key(ETCD, Format::Yaml, &key, &json!("/var/lib/etcd-restored")).expect("set");
        assert_eq!(
            get_key(&moved, Format::Yaml, &key).expect("get"),
            Some(json!("/var/lib/etcd-restored"))
        );
        assert_eq!(
            get_key(
                &moved,
                Format::Yaml,
                &path("spec.volumes[name=etcd-certs].hostPath.path")
            )
            .expect("get"),
            Some(json!("/etc/kubernetes/pki/etcd"))
        );
        assert!(
            set_key(
                ETCD,
                Format::Yaml,
                &path("spec.volumes[name=nope].hostPath.path"),
                &json!("x")
            )
            .is_err()
        );
    }

    #[test]
    fn flags_are_set_replaced_and_removed() {
        let added = set_flag(ETCD, "--listen-metrics-urls", "http://127.0.0.1:2381").expect("add");
        let replaced = set_flag(&added, "--data-dir", "/var/lib/etcd-new").expect("replace");
        assert_eq!(
            command(&replaced).expect("command"),
            [
                "etcd",
                "--data-dir=/var/lib/etcd-new",
                "--listen-metrics-urls=http://127.0.0.1:2381"
            ]
        );
        let removed = remove_flag(&replaced, "--data-dir").expect("remove");
        assert_eq!(
            command(&removed).expect("command"),
            ["etcd", "--listen-metrics-urls=http://127.0.0.1:2381"]
        );
    }

    #[test]
    fn replace_text_requires_the_text() {
        assert_eq!(
            replace_text("a --x=1", "--x=1", "--x=2").expect("replace"),
            "a --x=2"
        );
        assert!(matches!(
            replace_text("a", "b", "c"),
            Err(EditError::TextNotFound(_))
        ));
    }

    #[test]
    fn malformed_files_are_errors() {
        assert!(matches!(
            get_key("a = [", Format::Toml, &path("a")),
            Err(EditError::Parse { .. })
        ));
        assert!(matches!(
            get_key("a: [", Format::Yaml, &path("a")),
            Err(EditError::Parse { .. })
        ));
    }
}
