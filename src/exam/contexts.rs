//! The exam's kube contexts, as the CKA names its clusters: every sandbox cluster's node gets
//! a kubeconfig at root's `~/.kube/config` holding a context for each of the exam's clusters
//! (`exam-1`, `exam-2`, ...), its own the current one, so `kubectl config use-context exam-2`
//! works on any of them, as on the exam's terminal.

use serde_json::{Value, json};

use crate::catalog::BackendKind;
use crate::engine::cluster::Backend;
use crate::engine::fault::Fault;

/// Where root's kubectl looks when `KUBECONFIG` is unset, as kubeadm tells you to copy it.
pub const KUBECONFIG: &str = "/root/.kube/config";

/// The kube context of exam cluster `cluster`, whose control-plane node is `node`: on kind,
/// the one cluster's own context (`kind-ckalab`) whatever the task.
pub fn context(node: &dyn Backend, cluster: u32) -> String {
    match node.kind() {
        BackendKind::Sandbox => sandbox_context(cluster),
        BackendKind::Kind => {
            kind_context(node.layout().node_name.trim_end_matches("-control-plane"))
        }
    }
}

/// The context kind writes for its cluster `name`.
pub fn kind_context(name: &str) -> String {
    format!("kind-{name}")
}

/// A sandbox exam cluster's context, named as its node is.
pub fn sandbox_context(cluster: u32) -> String {
    format!("exam-{cluster}")
}

/// Writes the exam's kubeconfig on every cluster's node, or on `only` (sandbox clusters only:
/// kind's is the learner's own kubeconfig already).
pub async fn write(nodes: &[(u32, &dyn Backend)], only: Option<u32>) -> Result<(), Fault> {
    let mut entries = Vec::new();
    for (cluster, node) in nodes {
        if node.kind() != BackendKind::Sandbox {
            return Ok(());
        }
        let admin: Value = serde_saphyr::from_str(
            &node.read_text("/etc/kubernetes/admin.conf").await?,
        )
        .map_err(|e| {
            Fault::grader(format!(
                "admin.conf of cluster {cluster} does not parse: {e}"
            ))
        })?;
        entries.push((sandbox_context(*cluster), admin));
    }
    for (cluster, node) in nodes.iter().filter(|(c, _)| only.is_none_or(|o| o == *c)) {
        let config = merged(&entries, &sandbox_context(*cluster));
        let text = serde_json::to_string_pretty(&config).unwrap_or_default();
        node.write(KUBECONFIG, text.as_bytes()).await?;
    }
    Ok(())
}

/// One kubeconfig with each admin.conf's cluster and user under the exam's names.
fn merged(entries: &[(String, Value)], current: &str) -> Value {
    let first = |admin: &Value, list: &str, field: &str| admin[list][0][field].clone();
    json!({
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": entries.iter().map(|(name, admin)| json!({"name": name, "cluster": first(admin, "clusters", "cluster")})).collect::<Vec<_>>(),
        "users": entries.iter().map(|(name, admin)| json!({"name": format!("{name}-admin"), "user": first(admin, "users", "user")})).collect::<Vec<_>>(),
        "contexts": entries.iter().map(|(name, _)| json!({"name": name, "context": {"cluster": name, "user": format!("{name}-admin")}})).collect::<Vec<_>>(),
        "current-context": current,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_cluster_gets_a_context_and_its_own_is_current() {
        let admin = |server: &str| {
            json!({
                "clusters": [{"name": "kubernetes", "cluster": {"server": server, "certificate-authority-data": "Q0E="}}],
                "users": [{"name": "kubernetes-admin", "user": {"client-certificate-data": "Q0VSVA=="}}],
            })
        };
        let entries = vec![
            ("exam-1".to_string(), admin("https://127.0.0.1:40001")),
            ("exam-2".to_string(), admin("https://127.0.0.1:40002")),
        ];
        let config = merged(&entries, "exam-2");
        assert_eq!(config["current-context"], "exam-2");
        assert_eq!(
            config["clusters"][1]["cluster"]["server"],
            "https://127.0.0.1:40002"
        );
        assert_eq!(config["contexts"][0]["context"]["user"], "exam-1-admin");
        assert_eq!(
            config["users"][0]["user"]["client-certificate-data"],
            "Q0VSVA=="
        );
    }
}
