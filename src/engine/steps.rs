//! Runs a lab's typed steps on a backend. Every string field is a template rendered with the
//! node's layout first, so `{{ ports.etcd_client }}` means this node's port.

use std::collections::BTreeMap;
use std::time::Duration;

use base64::Engine as _;

use super::cluster::{Backend, ObjectRef};
use super::edit::{self, Format};
use super::fault::Fault;
use super::keypath::KeyPath;
use super::node::{COMMAND_TIMEOUT, UNITS, UnitAction};
use super::undo::UndoLog;
use super::verdict::Verdict;
use crate::catalog::step::Step;

/// A step that failed: which one, and why.
#[derive(Debug, Clone, thiserror::Error)]
#[error("step {index} ({kind}) failed: {fault}")]
pub struct StepError {
    pub index: usize,
    pub kind: &'static str,
    pub fault: Fault,
}

/// Runs `steps` in order, stopping at the first failure.
pub async fn run_steps(backend: &dyn Backend, steps: &[Step]) -> Result<(), StepError> {
    run_recorded(backend, steps, None).await
}

/// Runs a lab's setup, first recording what each step will change, so `reset` can put it back.
pub async fn run_setup(backend: &dyn Backend, steps: &[Step]) -> Result<(), StepError> {
    let mut changes = UndoLog::load(backend).await;
    run_recorded(backend, steps, Some(&mut changes)).await
}

async fn run_recorded(
    backend: &dyn Backend,
    steps: &[Step],
    mut changes: Option<&mut UndoLog>,
) -> Result<(), StepError> {
    for (i, step) in steps.iter().enumerate() {
        let failed = |fault| StepError {
            index: i + 1,
            kind: step_kind(step),
            fault,
        };
        if let Some(changes) = changes.as_deref_mut() {
            changes.record(backend, step).await.map_err(failed)?;
        }
        run_step(backend, step).await.map_err(failed)?;
        if let Some(changes) = changes.as_deref_mut() {
            changes.remember_uids(backend, step).await.map_err(failed)?;
        }
    }
    Ok(())
}

pub fn step_kind(step: &Step) -> &'static str {
    match step {
        Step::WriteFile { .. } => "write_file",
        Step::CopyLabFiles { .. } => "copy_lab_files",
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
        Step::Enable(_) => "enable",
        Step::Disable(_) => "disable",
        Step::Restart(_) => "restart",
        Step::EtcdSnapshot { .. } => "etcd_snapshot",
        Step::EtcdRestore { .. } => "etcd_restore",
        Step::PutObject { .. } => "put_object",
        Step::PatchObject { .. } => "patch_object",
        Step::DeleteObject { .. } => "delete_object",
        Step::MakeCert { .. } => "make_cert",
        Step::WaitFor { .. } => "wait_for",
        Step::Apply(_) => "apply",
        Step::ApplyBundled(_) => "apply_bundled",
        Step::Kubectl(_) => "kubectl",
        Step::KeepObject(_) => "keep_object",
        Step::Run(_) => "run",
    }
}

/// A step as the command or edit a learner would make, for `ckalab solution`.
pub fn describe(step: &Step, layout: &crate::catalog::NodeLayout) -> String {
    let r = |t: &str| layout.render(t).unwrap_or_else(|_| t.to_string());
    match step {
        Step::WriteFile { path, .. } => format!("write {}", r(path)),
        Step::CopyLabFiles { from, to, .. } => {
            format!("copy the lab's {from}/ to {}", r(to))
        }
        Step::SetKey { file, key, value } => format!("in {}, set {key}: {value}", r(file)),
        Step::SetRuntimeEndpoint(endpoint) => {
            let file = &layout.kubelet_endpoint_file;
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
        Step::Enable(unit) => format!("systemctl enable {}", r(unit)),
        Step::Disable(unit) => format!("systemctl disable {}", r(unit)),
        Step::Restart(unit) if UNITS.contains(&unit.as_str()) => {
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
        } => format!(
            "kubectl create {} {name} -n {namespace}",
            kind.to_lowercase()
        ),
        Step::PatchObject {
            kind,
            namespace,
            name,
            patch,
            ..
        } => {
            let namespace = match namespace.as_str() {
                "" => String::new(),
                ns => format!(" -n {ns}"),
            };
            format!(
                "kubectl patch {} {name}{namespace} --type merge -p '{patch}'",
                kind.to_lowercase()
            )
        }
        Step::DeleteObject {
            kind,
            namespace,
            name,
            ..
        } => format!(
            "kubectl delete {} {name} -n {namespace}",
            kind.to_lowercase()
        ),
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
        Step::Apply(yaml) => {
            let names = documents(layout, yaml)
                .map(|docs| {
                    docs.iter()
                        .filter_map(|doc| super::api::object::reference(doc).ok())
                        .map(|object| object.to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                })
                .unwrap_or_default();
            format!("kubectl apply --server-side -f - ({names})")
        }
        Step::ApplyBundled(bundle) => format!("kubectl apply --server-side -f <{bundle} CRDs>"),
        Step::Kubectl(args) => format!("kubectl {}", r(args)),
        Step::KeepObject(target) => format!("(ckalab keeps {target} as it is, for reset)"),
        Step::Run(argv) => argv.iter().map(|a| r(a)).collect::<Vec<_>>().join(" "),
    }
}

/// The objects of a YAML text (documents separated by `---`), rendered as templates first.
pub fn documents(
    layout: &crate::catalog::NodeLayout,
    yaml: &str,
) -> Result<Vec<serde_json::Value>, Fault> {
    let text = layout.render(yaml).map_err(Fault::Grader)?;
    let docs: Vec<serde_json::Value> = serde_saphyr::from_multiple(&text)
        .map_err(|e| Fault::grader(format!("the lab's YAML does not parse: {e}")))?;
    Ok(docs.into_iter().filter(|doc| !doc.is_null()).collect())
}

/// The objects of a bundle ckalab ships beside its binaries.
pub fn bundled(bundle: &str) -> Result<Vec<serde_json::Value>, Fault> {
    let file = match bundle {
        "gateway-api" => crate::binaries::GATEWAY_API_CRDS,
        other => {
            return Err(Fault::grader(format!(
                "no bundle named {other} (gateway-api)"
            )));
        }
    };
    let path = crate::binaries::find(file).ok_or_else(|| {
        Fault::grader(format!(
            "{file} is not built yet: run {}",
            crate::binaries::BUILD_COMMAND
        ))
    })?;
    let text = std::fs::read_to_string(&path)
        .map_err(|e| Fault::grader(format!("{}: {e}", path.display())))?;
    let docs: Vec<serde_json::Value> = serde_saphyr::from_multiple(&text)
        .map_err(|e| Fault::grader(format!("{}: {e}", path.display())))?;
    Ok(docs.into_iter().filter(|doc| !doc.is_null()).collect())
}

/// Where kubeadm writes the cluster admin's kubeconfig, on every node ckalab drives.
pub const ADMIN_KUBECONFIG: &str = "/etc/kubernetes/admin.conf";

/// kubectl's argv for a command line as a learner types it, with the admin kubeconfig.
pub fn kubectl_argv(args: &str) -> Result<Vec<String>, Fault> {
    let words = crate::catalog::command_line::split(args)
        .ok_or_else(|| Fault::grader(format!("the lab's kubectl line does not parse: {args}")))?;
    Ok([
        "kubectl".to_string(),
        format!("--kubeconfig={ADMIN_KUBECONFIG}"),
    ]
    .into_iter()
    .chain(words)
    .collect())
}

/// Runs an argv on the node; a non-zero exit is the cluster's answer, with its stderr.
pub async fn run_on_node(backend: &dyn Backend, argv: &[String]) -> Result<String, Fault> {
    let output = backend.exec(argv, COMMAND_TIMEOUT).await?;
    if output.status.success() {
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    } else {
        Err(Fault::cluster(format!(
            "`{}` exited with {}: {}",
            argv.join(" "),
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        )))
    }
}

async fn run_step(backend: &dyn Backend, step: &Step) -> Result<(), Fault> {
    let layout = backend.layout();
    // A template that does not render is the lab's own bug.
    let r = |text: &str| layout.render(text).map_err(Fault::Grader);
    match step {
        Step::WriteFile { path, content } => backend.write(&r(path)?, r(content)?.as_bytes()).await,
        Step::CopyLabFiles { files, .. } => {
            for (path, content) in files {
                backend.write(&r(path)?, content.as_bytes()).await?;
            }
            Ok(())
        }
        Step::SetKey { file, key, value } => {
            let value = render_value(layout, value).map_err(Fault::Grader)?;
            let key = parse_key(key)?;
            edit_file(backend, &r(file)?, |text, format| {
                edit::set_key(text, format, &key, &value).map_err(|e| e.to_string())
            })
            .await
        }
        Step::SetRuntimeEndpoint(endpoint) => {
            let endpoint = r(endpoint)?;
            let file = layout.kubelet_endpoint_file.clone();
            if file == crate::kubelet::FLAGS_FILE {
                let text = backend.read_text(&file).await.unwrap_or_default();
                let text = crate::kubelet::set_endpoint_flag(&text, &endpoint);
                backend.write(&file, text.as_bytes()).await
            } else {
                let key = parse_key("containerRuntimeEndpoint")?;
                edit_file(backend, &file, |text, format| {
                    edit::set_key(text, format, &key, &endpoint.clone().into())
                        .map_err(|e| e.to_string())
                })
                .await
            }
        }
        Step::RemoveKey { file, key } => {
            let key = parse_key(key)?;
            edit_file(backend, &r(file)?, |text, format| {
                edit::remove_key(text, format, &key).map_err(|e| e.to_string())
            })
            .await
        }
        Step::ReplaceText { file, from, to } => {
            let (from, to) = (r(from)?, r(to)?);
            edit_file(backend, &r(file)?, |text, _| {
                edit::replace_text(text, &from, &to).map_err(|e| e.to_string())
            })
            .await
        }
        Step::SetFlag {
            manifest,
            flag,
            value,
        } => {
            let (flag, value) = (r(flag)?, r(value)?);
            edit_file(backend, &r(manifest)?, |text, _| {
                edit::set_flag(text, &flag, &value).map_err(|e| e.to_string())
            })
            .await
        }
        Step::RemoveFlag { manifest, flag } => {
            let flag = r(flag)?;
            edit_file(backend, &r(manifest)?, |text, _| {
                edit::remove_flag(text, &flag).map_err(|e| e.to_string())
            })
            .await
        }
        Step::CopyPath { from, to } => backend.copy(&r(from)?, &r(to)?).await,
        Step::MovePath { from, to } => backend.rename(&r(from)?, &r(to)?).await,
        Step::RemovePath(path) => backend.remove(&r(path)?).await,
        // Recording it (before any step runs) was the whole point.
        Step::Keep(_) => Ok(()),
        Step::Start(unit) => unit_action(backend, &r(unit)?, UnitAction::Start).await,
        Step::Stop(unit) => unit_action(backend, &r(unit)?, UnitAction::Stop).await,
        Step::Enable(unit) => unit_action(backend, &r(unit)?, UnitAction::Enable).await,
        Step::Disable(unit) => unit_action(backend, &r(unit)?, UnitAction::Disable).await,
        Step::Restart(unit) => unit_action(backend, &r(unit)?, UnitAction::Restart).await,
        Step::EtcdSnapshot { to } => backend.etcd_snapshot_save(&r(to)?).await,
        Step::EtcdRestore { snapshot, data_dir } => {
            backend
                .etcd_snapshot_restore(&r(snapshot)?, &r(data_dir)?)
                .await
        }
        Step::PutObject {
            api_version,
            kind,
            namespace,
            name,
            data,
        } => {
            let data = data
                .iter()
                .map(|(k, v)| Ok((k.clone(), r(v)?)))
                .collect::<Result<BTreeMap<_, _>, Fault>>()?;
            let object = data_object(api_version, kind, &r(namespace)?, &r(name)?, &data);
            backend.put_object(&object).await
        }
        Step::PatchObject {
            api_version,
            kind,
            namespace,
            name,
            patch,
        } => {
            let object = object_ref(layout, api_version, kind, namespace, name)?;
            let patch = render_value(layout, patch).map_err(Fault::Grader)?;
            backend.patch_object(&object, &patch).await
        }
        Step::DeleteObject {
            api_version,
            kind,
            namespace,
            name,
        } => {
            let object = object_ref(layout, api_version, kind, namespace, name)?;
            backend.delete_object(&object).await
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
            let paths = [r(cert)?, r(key)?, r(ca)?, r(ca_key)?, r(like)?];
            make_cert(backend, &paths, *from_days, *to_days).await
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
                    return Err(Fault::cluster(format!(
                        "waited {timeout_seconds}s for \"{}\": {}",
                        result.name, result.message
                    )));
                }
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        }
        Step::Run(argv) => {
            let argv = argv.iter().map(|a| r(a)).collect::<Result<Vec<_>, _>>()?;
            run_on_node(backend, &argv).await.map(drop)
        }
        Step::Apply(yaml) => {
            let client = backend.client().await?;
            for doc in documents(layout, yaml)? {
                super::api::object::apply(&client, &doc).await?;
                if doc["kind"] == "Namespace" {
                    let name = doc["metadata"]["name"].as_str().unwrap_or_default();
                    default_service_account(&client, name).await?;
                }
            }
            Ok(())
        }
        Step::ApplyBundled(bundle) => {
            let client = backend.client().await?;
            for doc in bundled(bundle)? {
                super::api::object::apply(&client, &doc).await?;
            }
            Ok(())
        }
        Step::Kubectl(args) => run_on_node(backend, &kubectl_argv(&r(args)?)?)
            .await
            .map(drop),
        // Recording it (before any step runs) was the whole point.
        Step::KeepObject(_) => Ok(()),
    }
}

/// Waits until the controller-manager has made a new namespace's `default` ServiceAccount: until
/// then the API server refuses every pod in it.
async fn default_service_account(client: &kube::Client, namespace: &str) -> Result<(), Fault> {
    let account = ObjectRef {
        api_version: "v1".into(),
        kind: "ServiceAccount".into(),
        namespace: namespace.into(),
        name: "default".into(),
    };
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while super::api::object::get(client, &account).await?.is_none() {
        if tokio::time::Instant::now() >= deadline {
            return Err(Fault::cluster(format!(
                "namespace {namespace} has no default ServiceAccount after 60 s: is the controller-manager running?"
            )));
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    Ok(())
}

/// Issues a new certificate for an existing key the way `kubeadm certs renew` does: the
/// files are read off the node, signed here, and the new certificate written back.
async fn make_cert(
    backend: &dyn Backend,
    [cert, key, ca, ca_key, like]: &[String; 5],
    from_days: i64,
    to_days: i64,
) -> Result<(), Fault> {
    let dir =
        tempfile::tempdir().map_err(|e| Fault::grader(format!("a temporary directory: {e}")))?;
    let local = |name: &str| dir.path().join(name);
    for (path, name) in [
        (key, "key.pem"),
        (ca, "ca.crt"),
        (ca_key, "ca.key"),
        (like, "like.crt"),
    ] {
        let bytes = backend.read(path).await?;
        std::fs::write(local(name), bytes).map_err(|e| Fault::grader(e.to_string()))?;
    }
    crate::pki::reissue(
        &local("new.crt"),
        &local("key.pem"),
        &local("ca.crt"),
        &local("ca.key"),
        &local("like.crt"),
        from_days,
        to_days,
        std::time::SystemTime::now(),
    )
    .map_err(|e| Fault::cluster(e.to_string()))?;
    let pem = std::fs::read(local("new.crt")).map_err(|e| Fault::grader(e.to_string()))?;
    backend.write(cert, &pem).await
}

/// The object a step names, its namespace and name rendered.
pub(super) fn object_ref(
    layout: &crate::catalog::NodeLayout,
    api_version: &str,
    kind: &str,
    namespace: &str,
    name: &str,
) -> Result<ObjectRef, Fault> {
    let r = |text: &str| layout.render(text).map_err(Fault::Grader);
    Ok(ObjectRef {
        api_version: api_version.to_string(),
        kind: kind.to_string(),
        namespace: r(namespace)?,
        name: r(name)?,
    })
}

fn parse_key(key: &str) -> Result<KeyPath, Fault> {
    KeyPath::parse(key).map_err(|e| Fault::grader(format!("the lab's key {key}: {e}")))
}

/// Reads a file, edits its text and writes it back. The format comes from the file's name.
async fn edit_file(
    backend: &dyn Backend,
    file: &str,
    edit: impl FnOnce(&str, Format) -> Result<String, String>,
) -> Result<(), Fault> {
    let format = Format::of(file).unwrap_or(Format::Yaml);
    let text = backend.read_text(file).await?;
    let new = edit(&text, format).map_err(|e| Fault::cluster(format!("{file}: {e}")))?;
    backend.write(file, new.as_bytes()).await
}

/// Strings inside a JSON value are templates too.
pub fn render_value(
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

async fn unit_action(backend: &dyn Backend, unit: &str, action: UnitAction) -> Result<(), Fault> {
    if UNITS.contains(&unit) {
        return backend.unit(unit, action).await;
    }
    if action != UnitAction::Restart {
        return Err(Fault::grader(format!(
            "{unit} is a static pod: only restart applies (move its manifest away to stop it)"
        )));
    }
    backend.restart_static_pod(unit).await
}

/// An object that holds `data`, as its manifest would say it. A Secret's data is base64 in the
/// API, so its clear values are encoded.
pub fn data_object(
    api_version: &str,
    kind: &str,
    namespace: &str,
    name: &str,
    data: &BTreeMap<String, String>,
) -> serde_json::Value {
    let mut object = serde_json::json!({
        "apiVersion": api_version,
        "kind": kind,
        "metadata": {"name": name, "namespace": namespace},
        "data": data,
    });
    if kind == "Secret" {
        let encoded: BTreeMap<&String, String> = data
            .iter()
            .map(|(k, v)| (k, base64::engine::general_purpose::STANDARD.encode(v)))
            .collect();
        object["data"] = serde_json::json!(encoded);
        object["type"] = "Opaque".into();
    }
    object
}
