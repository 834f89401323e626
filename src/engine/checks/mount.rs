//! A volume a container mounts, by where it is mounted: the learner names the volume as they
//! like, so the check follows the mount at `path` to its volume and compares the source.

use serde_json::Value;

use crate::catalog::check::Target;
use crate::engine::cluster::Backend;
use crate::engine::verdict::CheckResult;

use super::{expect, object};

pub async fn grade(
    backend: &dyn Backend,
    check: &str,
    target: &Target,
    container: Option<&str>,
    path: &str,
    volume: &Value,
    read_only: bool,
) -> CheckResult {
    let spec = match object::fetch_pod_spec(backend, check, target).await {
        Ok(spec) => spec,
        Err(result) => return result,
    };
    let trimmed = |p: &str| p.trim_end_matches('/').to_string();
    let mounts = object::containers(&spec)
        .filter(|c| container.is_none_or(|name| c["name"] == name))
        .flat_map(|c| {
            c["volumeMounts"]
                .as_array()
                .into_iter()
                .flatten()
                .map(move |m| (c["name"].as_str().unwrap_or_default(), m))
        })
        .filter(|(_, m)| m["mountPath"].as_str().map(trimmed) == Some(trimmed(path)));
    let mut last_problem = None;
    for (cname, mount) in mounts {
        let vname = mount["name"].as_str().unwrap_or_default();
        let Some(defined) = spec["volumes"]
            .as_array()
            .and_then(|volumes| volumes.iter().find(|v| v["name"] == vname))
        else {
            last_problem = Some(format!(
                "{cname} mounts volume {vname}, which is not defined"
            ));
            continue;
        };
        if !expect::includes(defined, volume) {
            last_problem = Some(format!(
                "{cname} mounts volume {vname} at {path}, but it is {}, not {}",
                source_of(defined),
                volume
            ));
            continue;
        }
        if read_only && mount["readOnly"] != true {
            last_problem = Some(format!(
                "{cname} mounts {vname} at {path} read-write, not read-only"
            ));
            continue;
        }
        return CheckResult::pass(
            check,
            format!(
                "{cname} mounts volume {vname} ({}) at {path}",
                source_of(defined)
            ),
        );
    }
    let nothing = match container {
        Some(c) => format!("container {c} of {target} mounts nothing at {path}"),
        None => format!("no container of {target} mounts anything at {path}"),
    };
    CheckResult::fail(check, last_problem.unwrap_or(nothing))
}

/// The volume's source, as `{"persistentVolumeClaim":{"claimName":"data"}}`.
fn source_of(volume: &Value) -> String {
    let mut source = volume.clone();
    if let Some(fields) = source.as_object_mut() {
        fields.remove("name");
    }
    source.to_string()
}
