//! Runs a lab's typed steps on a backend. Every string field is a template rendered with the
//! node's layout first, so `{{ ports.etcd_client }}` means this node's port.

use std::collections::BTreeMap;
use std::time::Duration;

use base64::Engine as _;

use super::backend::{Backend, BackendError};
use super::changes::Changes;
use super::edit::{self, Format};
use super::keypath::KeyPath;
use crate::catalog::step::{ObjectKind, Step};
use crate::sandbox::state::UnitAction;
use crate::store::Verdict;

/// A step that failed: which one, and why.
#[derive(Debug, Clone, thiserror::Error)]
#[error("step {index} ({kind}) failed: {reason}")]
pub struct StepError {
    pub index: usize,
    pub kind: &'static str,
    pub reason: String,
}

/// Runs `steps` in order, stopping at the first failure.
pub async fn run_steps(backend: &Backend, steps: &[Step]) -> Result<(), StepError> {
    run_recorded(backend, steps, None).await
}

/// Runs a lab's setup, first recording what each step will change, so `reset` can put it back.
pub async fn run_setup(backend: &Backend, steps: &[Step]) -> Result<(), StepError> {
    let mut changes = Changes::load(backend);
    run_recorded(backend, steps, Some(&mut changes)).await
}

async fn run_recorded(
    backend: &Backend,
    steps: &[Step],
    mut changes: Option<&mut Changes>,
) -> Result<(), StepError> {
    for (i, step) in steps.iter().enumerate() {
        let failed = |reason| StepError {
            index: i + 1,
            kind: step_kind(step),
            reason,
        };
        if let Some(changes) = changes.as_deref_mut() {
            changes.record(backend, step).map_err(failed)?;
        }
        run_step(backend, step).await.map_err(failed)?;
    }
    Ok(())
}

pub fn step_kind(step: &Step) -> &'static str {
    match step {
        Step::WriteFile { .. } => "write_file",
        Step::SetKey { .. } => "set_key",
        Step::SetRuntimeEndpoint(_) => "set_runtime_endpoint",
        Step::RemoveKey { .. } => "remove_key",
        Step::ReplaceText { .. } => "replace_text",
        Step::SetFlag { .. } => "set_flag",
        Step::RemoveFlag { .. } => "remove_flag",
        Step::CopyPath { .. } => "copy_path",
        Step::MovePath { .. } => "move_path",
        Step::RemovePath(_) => "remove_path",
        Step::Keep(_) => "keep",
        Step::Start(_) => "start",
        Step::Stop(_) => "stop",
        Step::Restart(_) => "restart",
        Step::EtcdSnapshot { .. } => "etcd_snapshot",
        Step::EtcdRestore { .. } => "etcd_restore",
        Step::PutObject { .. } => "put_object",
        Step::DeleteObject { .. } => "delete_object",
        Step::MakeCert { .. } => "make_cert",
        Step::WaitFor { .. } => "wait_for",
        Step::Run(_) => "run",
    }
}

/// A step as the command or edit a learner would make, for `ckalab solution`.
pub fn describe(step: &Step, layout: &crate::catalog::NodeLayout) -> String {
    let r = |t: &str| layout.render(t).unwrap_or_else(|_| t.to_string());
    match step {
        Step::WriteFile { path, .. } => format!("write {}", r(path)),
        Step::SetKey { file, key, value } => format!("in {}, set {key}: {value}", r(file)),
        Step::SetRuntimeEndpoint(endpoint) => {
            let file = layout.path(&layout.kubelet_endpoint_file);
            if layout.kubelet_endpoint_file == crate::kubelet::FLAGS_FILE {
                format!(
                    "in {file}, set --container-runtime-endpoint={}",
                    r(endpoint)
                )
            } else {
                format!("in {file}, set containerRuntimeEndpoint: {}", r(endpoint))
            }
        }
        Step::RemoveKey { file, key } => format!("in {}, remove {key}", r(file)),
        Step::ReplaceText { file, from, to } => format!(
            "in {}, change `{}` to `{}`",
            r(file),
            r(from).trim(),
            r(to).trim()
        ),
        Step::SetFlag {
            manifest,
            flag,
            value,
        } => format!("in {}, set {}={}", r(manifest), r(flag), r(value)),
        Step::RemoveFlag { manifest, flag } => format!("in {}, remove {}", r(manifest), r(flag)),
        Step::CopyPath { from, to } => format!("cp {} {}", r(from), r(to)),
        Step::MovePath { from, to } => format!("mv {} {}", r(from), r(to)),
        Step::RemovePath(path) => format!("rm -r {}", r(path)),
        Step::Keep(path) => format!("(ckalab keeps {} as it is, for reset)", r(path)),
        Step::Start(unit) => format!("systemctl start {}", r(unit)),
        Step::Stop(unit) => format!("systemctl stop {}", r(unit)),
        Step::Restart(unit) if crate::sandbox::state::UNITS.contains(&unit.as_str()) => {
            format!("systemctl restart {unit}")
        }
        Step::Restart(pod) => format!(
            "restart the {pod} static pod (crictl stop its container; the kubelet starts a new one)"
        ),
        Step::EtcdSnapshot { to } => format!("etcdctl snapshot save {}", r(to)),
        Step::EtcdRestore { snapshot, data_dir } => {
            format!(
                "{} snapshot restore {} --data-dir {}",
                layout.etcd_restore_tool,
                r(snapshot),
                r(data_dir)
            )
        }
        Step::PutObject {
            kind,
            namespace,
            name,
            ..
        } => format!("create {kind:?} {namespace}/{name}"),
        Step::DeleteObject {
            kind,
            namespace,
            name,
        } => format!("delete {kind:?} {namespace}/{name}"),
        Step::MakeCert {
            cert, ca, to_days, ..
        } => format!(
            "issue a new {} for the same key and SANs, signed by {}, valid for {to_days} days (kubeadm certs renew, or openssl x509 -req)",
            r(cert),
            r(ca)
        ),
        Step::WaitFor {
            check,
            timeout_seconds,
        } => {
            format!(
                "wait up to {timeout_seconds}s until {}",
                super::checks::describe(check)
            )
        }
        Step::Run(argv) => argv.iter().map(|a| r(a)).collect::<Vec<_>>().join(" "),
    }
}

async fn run_step(backend: &Backend, step: &Step) -> Result<(), String> {
    let layout = backend.layout();
    let r = |text: &str| layout.render(text);
    let err = |e: BackendError| e.to_string();
    match step {
        Step::WriteFile { path, content } => backend.write(&r(path)?, &r(content)?).map_err(err),
        Step::SetKey { file, key, value } => {
            let file = r(file)?;
            let value = render_value(&layout, value)?;
            edit_file(backend, &file, |text, format| {
                edit::set_key(text, format, &parse_key(key)?, &value).map_err(|e| e.to_string())
            })
        }
        Step::SetRuntimeEndpoint(endpoint) => {
            let endpoint = r(endpoint)?;
            let file = layout.kubelet_endpoint_file.clone();
            if file == crate::kubelet::FLAGS_FILE {
                let text = backend.read(&file).unwrap_or_default();
                backend
                    .write(&file, &crate::kubelet::set_endpoint_flag(&text, &endpoint))
                    .map_err(err)
            } else {
                edit_file(backend, &file, |text, format| {
                    let key = parse_key("containerRuntimeEndpoint")?;
                    edit::set_key(text, format, &key, &endpoint.clone().into())
                        .map_err(|e| e.to_string())
                })
            }
        }
        Step::RemoveKey { file, key } => edit_file(backend, &r(file)?, |text, format| {
            edit::remove_key(text, format, &parse_key(key)?).map_err(|e| e.to_string())
        }),
        Step::ReplaceText { file, from, to } => {
            let (file, from, to) = (r(file)?, r(from)?, r(to)?);
            let text = backend.read(&file).map_err(err)?;
            let new = edit::replace_text(&text, &from, &to).map_err(|e| format!("{file}: {e}"))?;
            backend.write(&file, &new).map_err(err)
        }
        Step::SetFlag {
            manifest,
            flag,
            value,
        } => {
            let (file, flag, value) = (r(manifest)?, r(flag)?, r(value)?);
            let text = backend.read(&file).map_err(err)?;
            backend
                .write(
                    &file,
                    &edit::set_flag(&text, &flag, &value).map_err(|e| format!("{file}: {e}"))?,
                )
                .map_err(err)
        }
        Step::RemoveFlag { manifest, flag } => {
            let (file, flag) = (r(manifest)?, r(flag)?);
            let text = backend.read(&file).map_err(err)?;
            backend
                .write(
                    &file,
                    &edit::remove_flag(&text, &flag).map_err(|e| format!("{file}: {e}"))?,
                )
                .map_err(err)
        }
        Step::CopyPath { from, to } => backend.copy(&r(from)?, &r(to)?).map_err(err),
        Step::MovePath { from, to } => backend.rename(&r(from)?, &r(to)?).map_err(err),
        Step::RemovePath(path) => backend.remove(&r(path)?).map_err(err),
        // Recording it (before any step runs) was the whole point.
        Step::Keep(_) => Ok(()),
        Step::Start(unit) => unit_action(backend, &r(unit)?, UnitAction::Start).await,
        Step::Stop(unit) => unit_action(backend, &r(unit)?, UnitAction::Stop).await,
        Step::Restart(unit) => unit_action(backend, &r(unit)?, UnitAction::Restart).await,
        Step::EtcdSnapshot { to } => {
            let to = r(to)?;
            if let Backend::Kind(kind) = backend {
                return kind.snapshot_save(&to);
            }
            let host = backend.host_path(&to);
            if let Some(parent) = host.parent() {
                std::fs::create_dir_all(parent).map_err(|e| format!("{to}: {e}"))?;
            }
            backend
                .etcd()
                .map_err(err)?
                .snapshot_save(&host)
                .await
                .map_err(|e| e.to_string())
        }
        Step::EtcdRestore { snapshot, data_dir } => {
            let (snapshot, data_dir) = (r(snapshot)?, r(data_dir)?);
            if let Backend::Kind(kind) = backend {
                return kind.snapshot_restore(&snapshot, &data_dir);
            }
            crate::sandbox::etcdctl::snapshot_restore(
                &backend.host_path(&snapshot),
                &backend.host_path(&data_dir),
            )
            .await
            .map_err(|e| e.to_string())
        }
        Step::PutObject {
            kind,
            namespace,
            name,
            data,
        } => {
            let (namespace, name) = (r(namespace)?, r(name)?);
            let data = data
                .iter()
                .map(|(k, v)| Ok((k.clone(), r(v)?)))
                .collect::<Result<BTreeMap<_, _>, String>>()?;
            let value = object_json(*kind, &namespace, &name, &data);
            if let Backend::Kind(cluster) = backend {
                return cluster.put_object(&value, &namespace);
            }
            backend
                .etcd()
                .map_err(err)?
                .put(&object_key(*kind, &namespace, &name), &value)
                .await
                .map_err(|e| e.to_string())
        }
        Step::DeleteObject {
            kind,
            namespace,
            name,
        } => {
            let (namespace, name) = (r(namespace)?, r(name)?);
            if let Backend::Kind(cluster) = backend {
                return cluster.delete_object(*kind, &namespace, &name);
            }
            backend
                .etcd()
                .map_err(err)?
                .delete(&object_key(*kind, &namespace, &name))
                .await
                .map_err(|e| e.to_string())
        }
        Step::MakeCert {
            cert,
            key,
            ca,
            ca_key,
            like,
            from_days,
            to_days,
        } => {
            if let Backend::Kind(cluster) = backend {
                return cluster.reissue(
                    &r(cert)?,
                    &r(key)?,
                    &r(ca)?,
                    &r(ca_key)?,
                    &r(like)?,
                    *from_days,
                    *to_days,
                );
            }
            let path = |p: &String| r(p).map(|p| backend.host_path(&p));
            crate::pki::reissue(
                &path(cert)?,
                &path(key)?,
                &path(ca)?,
                &path(ca_key)?,
                &path(like)?,
                *from_days,
                *to_days,
                std::time::SystemTime::now(),
            )
            .map_err(|e| e.to_string())
        }
        Step::WaitFor {
            check,
            timeout_seconds,
        } => {
            let deadline = tokio::time::Instant::now() + Duration::from_secs(*timeout_seconds);
            loop {
                let result = super::checks::grade(backend, check).await;
                if result.verdict == Verdict::Pass {
                    return Ok(());
                }
                if tokio::time::Instant::now() >= deadline {
                    return Err(format!(
                        "waited {timeout_seconds}s for \"{}\": {}",
                        result.name, result.message
                    ));
                }
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        }
        Step::Run(argv) => {
            let argv = argv.iter().map(|a| r(a)).collect::<Result<Vec<_>, _>>()?;
            let output = backend.run(&argv).await.map_err(err)?;
            if output.status.success() {
                Ok(())
            } else {
                Err(format!(
                    "`{}` exited with {}: {}",
                    argv.join(" "),
                    output.status,
                    String::from_utf8_lossy(&output.stderr).trim()
                ))
            }
        }
    }
}

fn parse_key(key: &str) -> Result<KeyPath, String> {
    KeyPath::parse(key).map_err(|e| e.to_string())
}

fn edit_file(
    backend: &Backend,
    file: &str,
    edit: impl FnOnce(&str, Format) -> Result<String, String>,
) -> Result<(), String> {
    let format = Format::of(file)
        .ok_or_else(|| format!("{file}: cannot tell TOML from YAML by its name"))?;
    let text = backend.read(file).map_err(|e| e.to_string())?;
    let new = edit(&text, format).map_err(|e| format!("{file}: {e}"))?;
    backend.write(file, &new).map_err(|e| e.to_string())
}

/// Strings inside a JSON value are templates too.
fn render_value(
    layout: &crate::catalog::NodeLayout,
    value: &serde_json::Value,
) -> Result<serde_json::Value, String> {
    use serde_json::Value;
    Ok(match value {
        Value::String(s) => Value::String(layout.render(s)?),
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|v| render_value(layout, v))
                .collect::<Result<_, _>>()?,
        ),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| Ok((k.clone(), render_value(layout, v)?)))
                .collect::<Result<_, String>>()?,
        ),
        other => other.clone(),
    })
}

async fn unit_action(backend: &Backend, unit: &str, action: UnitAction) -> Result<(), String> {
    let backend_ref = backend;
    let unit = unit.to_string();
    // The sandbox waits on the agent with blocking sleeps: keep them off the async thread.
    tokio::task::block_in_place(|| backend_ref.unit(&unit, action)).map_err(|e| e.to_string())
}

/// The etcd key the API server stores an object under.
pub fn object_key(kind: ObjectKind, namespace: &str, name: &str) -> String {
    format!("/registry/{}/{namespace}/{name}", plural(kind))
}

pub fn plural(kind: ObjectKind) -> &'static str {
    match kind {
        ObjectKind::ConfigMap => "configmaps",
        ObjectKind::Secret => "secrets",
    }
}

/// The object as JSON, the encoding the API server also accepts from storage. Secret data is
/// base64, as in the API.
pub fn object_json(
    kind: ObjectKind,
    namespace: &str,
    name: &str,
    data: &BTreeMap<String, String>,
) -> String {
    let (kind_name, data) = match kind {
        ObjectKind::ConfigMap => ("ConfigMap", serde_json::json!(data)),
        ObjectKind::Secret => {
            let encoded: BTreeMap<&String, String> = data
                .iter()
                .map(|(k, v)| (k, base64::engine::general_purpose::STANDARD.encode(v)))
                .collect();
            ("Secret", serde_json::json!(encoded))
        }
    };
    let mut object = serde_json::json!({
        "apiVersion": "v1",
        "kind": kind_name,
        "metadata": {"name": name, "namespace": namespace},
        "data": data,
    });
    if kind == ObjectKind::Secret {
        object["type"] = "Opaque".into();
    }
    object.to_string()
}
