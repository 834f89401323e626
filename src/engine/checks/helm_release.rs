//! A Helm release, read from where Helm keeps it: the newest Secret of type
//! `helm.sh/release.v1` labelled with the release's name, whose `release` field is the release
//! as gzipped JSON, base64-encoded once more by Helm. No helm binary is needed to grade.

use std::collections::BTreeMap;
use std::io::Read;

use base64::Engine as _;
use k8s_openapi::api::core::v1::Secret;
use kube::Api;
use kube::api::ListParams;
use serde_json::Value;

use crate::engine::api;
use crate::engine::cluster::Backend;
use crate::engine::keypath::KeyPath;
use crate::engine::verdict::CheckResult;

use super::{expect, object};

/// What a check wants of a release.
pub struct Wanted<'c> {
    pub status: &'c str,
    pub min_revision: u32,
    pub chart_version: Option<&'c str>,
    pub values: &'c BTreeMap<String, Value>,
}

pub async fn grade(
    backend: &dyn Backend,
    check: &str,
    namespace: &str,
    name: &str,
    want: &Wanted<'_>,
) -> CheckResult {
    let client = match object::client(backend, check).await {
        Ok(client) => client,
        Err(result) => return result,
    };
    let secrets: Api<Secret> = Api::namespaced(client, namespace);
    let by_release = ListParams::default().labels(&format!("owner=helm,name={name}"));
    let newest = match secrets.list(&by_release).await {
        Ok(list) => list.items.into_iter().max_by_key(|s| {
            s.metadata
                .labels
                .as_ref()
                .and_then(|l| l.get("version"))
                .and_then(|v| v.parse::<u32>().ok())
                .unwrap_or(0)
        }),
        Err(err) => return CheckResult::fault(check, &api::fault(&err)),
    };
    let Some(secret) = newest else {
        return CheckResult::fail(
            check,
            format!("there is no Helm release {name} in namespace {namespace}"),
        );
    };
    let release = match secret
        .data
        .as_ref()
        .and_then(|d| d.get("release"))
        .ok_or_else(|| "it has no release data".to_string())
        .and_then(|data| decode(&data.0))
    {
        Ok(release) => release,
        Err(why) => {
            let secret = secret.metadata.name.unwrap_or_default();
            return CheckResult::fail(
                check,
                format!("Secret {secret} is not a Helm release: {why}"),
            );
        }
    };
    let revision = release["version"].as_u64().unwrap_or(0);
    let status = release["info"]["status"].as_str().unwrap_or("unknown");
    let chart = &release["chart"]["metadata"];
    let shown = format!(
        "release {name} is {status} at revision {revision} (chart {}-{})",
        chart["name"].as_str().unwrap_or("?"),
        chart["version"].as_str().unwrap_or("?")
    );
    if status != want.status {
        return CheckResult::fail(check, format!("{shown}, not {}", want.status));
    }
    if revision < u64::from(want.min_revision) {
        return CheckResult::fail(
            check,
            format!("{shown}: revision {} or later was asked", want.min_revision),
        );
    }
    if let Some(version) = want.chart_version
        && chart["version"].as_str() != Some(version)
    {
        return CheckResult::fail(check, format!("{shown}, not chart version {version}"));
    }
    for (path, value) in want.values {
        let Ok(key) = KeyPath::parse(path) else {
            return CheckResult::invalid(
                check,
                format!("the lab's value path {path} is malformed"),
            );
        };
        if let Err(what) = expect::meets(
            expect::resolve(&release["config"], &key),
            &crate::catalog::check::Expect::Equals(value.clone()),
        ) {
            return CheckResult::fail(check, format!("{shown}; its value {path} {what}"));
        }
    }
    CheckResult::pass(check, shown)
}

/// A release from its Secret's `release` field: Helm's base64, then gzip, then JSON.
pub fn decode(data: &[u8]) -> Result<Value, String> {
    let gzipped = base64::engine::general_purpose::STANDARD
        .decode(data)
        .map_err(|e| format!("not base64: {e}"))?;
    let mut json = Vec::new();
    flate2::read::GzDecoder::new(gzipped.as_slice())
        .read_to_end(&mut json)
        .map_err(|e| format!("not gzip: {e}"))?;
    serde_json::from_slice(&json).map_err(|e| format!("not JSON: {e}"))
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    #[test]
    fn a_release_is_read_back_as_helm_stores_it() {
        let release = serde_json::json!({
            "name": "web", "version": 3,
            "info": {"status": "deployed"},
            "chart": {"metadata": {"name": "webapp", "version": "0.2.0"}},
            "config": {"replicaCount": 3, "image": {"tag": "1.27"}},
        });
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(release.to_string().as_bytes()).expect("gzip");
        let stored = base64::engine::general_purpose::STANDARD.encode(gz.finish().expect("gzip"));
        assert_eq!(decode(stored.as_bytes()), Ok(release));
        assert!(decode(b"not base64!").is_err());
    }
}
