//! A field of an object, and a field of what the API server would admit (a server-side dry
//! run): the value as stored, after defaults and admission, whatever command wrote it.

use crate::catalog::check::{Expect, Target};
use crate::engine::api;
use crate::engine::cluster::Backend;
use crate::engine::keypath::KeyPath;
use crate::engine::verdict::CheckResult;

use super::{expect, object};

/// The object's field at `path` meets `expect`.
pub async fn grade(
    backend: &dyn Backend,
    check: &str,
    target: &Target,
    path: &str,
    want: &Expect,
) -> CheckResult {
    let Ok(key) = KeyPath::parse(path) else {
        return CheckResult::invalid(check, format!("the lab's path {path} is malformed"));
    };
    let found = match object::fetch(backend, check, target).await {
        Ok(found) => found,
        Err(result) => return result,
    };
    match expect::meets(expect::resolve(&found, &key), want) {
        Ok(what) => CheckResult::pass(check, format!("{path} of {target} {what}")),
        Err(what) => CheckResult::fail(check, format!("{path} of {target} {what}")),
    }
}

/// The API server admits `manifest` (dry run) and the admitted object meets `expect` at
/// `path`.
pub async fn admitted(
    backend: &dyn Backend,
    check: &str,
    manifest: &str,
    path: &str,
    want: &Expect,
) -> CheckResult {
    let (manifest, key) = match (probe(backend, manifest), KeyPath::parse(path)) {
        (Ok(manifest), Ok(key)) => (manifest, key),
        (Err(e), _) => return CheckResult::invalid(check, e),
        (_, Err(e)) => return CheckResult::invalid(check, e.to_string()),
    };
    let client = match object::client(backend, check).await {
        Ok(client) => client,
        Err(result) => return result,
    };
    let what = describe_probe(&manifest);
    match api::object::dry_run_create(&client, &manifest).await {
        Ok(Ok(stored)) => {
            let stored = serde_json::to_value(stored).unwrap_or_default();
            match expect::meets(expect::resolve(&stored, &key), want) {
                Ok(how) => {
                    CheckResult::pass(check, format!("{what} is admitted; its {path} {how}"))
                }
                Err(how) => {
                    CheckResult::fail(check, format!("{what} is admitted, but its {path} {how}"))
                }
            }
        }
        Ok(Err(reason)) => CheckResult::fail(check, format!("{what} is refused: {reason}")),
        Err(fault) => CheckResult::fault(check, &fault),
    }
}

/// The API server refuses `manifest` (dry run) with a message containing `reason`.
pub async fn refused(
    backend: &dyn Backend,
    check: &str,
    manifest: &str,
    reason: &str,
) -> CheckResult {
    let manifest = match probe(backend, manifest) {
        Ok(manifest) => manifest,
        Err(e) => return CheckResult::invalid(check, e),
    };
    let client = match object::client(backend, check).await {
        Ok(client) => client,
        Err(result) => return result,
    };
    let what = describe_probe(&manifest);
    match api::object::dry_run_create(&client, &manifest).await {
        Ok(Ok(_)) => CheckResult::fail(check, format!("{what} is admitted")),
        Ok(Err(message)) if message.contains(reason) => {
            CheckResult::pass(check, format!("{what} is refused: {message}"))
        }
        Ok(Err(message)) => CheckResult::fail(
            check,
            format!("{what} is refused, but not for \"{reason}\": {message}"),
        ),
        Err(fault) => CheckResult::fault(check, &fault),
    }
}

/// The lab's probe object, rendered and parsed.
fn probe(backend: &dyn Backend, manifest: &str) -> Result<serde_json::Value, String> {
    let mut docs =
        crate::engine::steps::documents(backend.layout(), manifest).map_err(|f| f.to_string())?;
    match (docs.pop(), docs.is_empty()) {
        (Some(doc), true) => Ok(doc),
        _ => Err("the lab's probe must be exactly one object".into()),
    }
}

fn describe_probe(manifest: &serde_json::Value) -> String {
    match api::object::reference(manifest) {
        Ok(object) => format!("a new {object}"),
        Err(_) => "the probe object".into(),
    }
}
