//! What a node looks like to the learner: where its files are, its ports, its name. Task texts
//! and step fields are tera templates rendered with it, so the learner reads real paths.

use serde::Serialize;

use super::lab::BackendKind;

#[derive(Debug, Clone, Serialize)]
pub struct NodeLayout {
    pub backend: BackendKind,
    /// The node's name (`ckalab-control-plane`, or the sandbox node directory's name).
    pub node_name: String,
    /// Prefix of every node path: empty on kind (paths are the container's own), the node
    /// directory on the sandbox.
    pub root: String,
    pub ports: Ports,
    /// `etcdctl` for etcd 3.4/3.5, `etcdutl` for 3.6, where `etcdctl snapshot restore` is gone.
    pub etcd_restore_tool: String,
    /// Where the kubelet's runtime endpoint is set: `kubeadm-flags.env` (a flag) on Kubernetes
    /// 1.27–1.33, `config.yaml` (`containerRuntimeEndpoint`) from 1.34.
    pub kubelet_endpoint_file: String,
    /// The node in a learner's words, with the versions that decide the above.
    pub description: String,
    /// The worker nodes' names, `{{ worker1 }}` and `{{ worker2 }}` in templates: `node01` and
    /// `node02` on the sandbox, kind's `<cluster>-worker` and `<cluster>-worker2`.
    pub workers: [String; 2],
}

use crate::kubelet::{CONFIG_FILE as KUBELET_CONFIG, FLAGS_FILE as KUBEADM_FLAGS};

#[derive(Debug, Clone, Copy, Serialize, serde::Deserialize)]
pub struct Ports {
    pub apiserver: u16,
    pub etcd_client: u16,
    pub etcd_peer: u16,
    /// etcd's plain-HTTP `/metrics` and `/health`, where kubeadm's probes look.
    pub etcd_metrics: u16,
    /// The secure ports of kube-controller-manager and kube-scheduler (health and metrics).
    pub controller_manager: u16,
    pub scheduler: u16,
}

impl Ports {
    /// The well-known ports of a kubeadm node.
    pub const KUBEADM: Ports = Ports {
        apiserver: 6443,
        etcd_client: 2379,
        etcd_peer: 2380,
        etcd_metrics: 2381,
        controller_manager: 10257,
        scheduler: 10259,
    };
}

impl NodeLayout {
    /// The layout of a kind cluster's control-plane node as kind v0.31 to v0.33 make it: Kubernetes
    /// 1.35 with etcd 3.6.
    pub fn kind(cluster: &str) -> NodeLayout {
        NodeLayout::kind_versions(cluster, 35, 6)
    }

    /// The layout of a kind control plane running Kubernetes 1.`k8s_minor` and etcd
    /// 3.`etcd_minor`: the files and tools the labs name follow the versions.
    pub fn kind_versions(cluster: &str, k8s_minor: u32, etcd_minor: u32) -> NodeLayout {
        NodeLayout {
            backend: BackendKind::Kind,
            node_name: format!("{cluster}-control-plane"),
            root: String::new(),
            ports: Ports::KUBEADM,
            etcd_restore_tool: if etcd_minor >= 6 {
                "etcdutl"
            } else {
                "etcdctl"
            }
            .to_string(),
            kubelet_endpoint_file: if k8s_minor >= 34 {
                KUBELET_CONFIG
            } else {
                KUBEADM_FLAGS
            }
            .to_string(),
            description: format!(
                "ckalab's kind cluster (Kubernetes 1.{k8s_minor}, etcd 3.{etcd_minor})"
            ),
            workers: [format!("{cluster}-worker"), format!("{cluster}-worker2")],
        }
    }

    /// The layout of a sandbox node under `root` (etcd 3.6: `etcdutl` restores).
    pub fn sandbox(root: &std::path::Path, ports: Ports) -> NodeLayout {
        NodeLayout {
            backend: BackendKind::Sandbox,
            node_name: root
                .file_name()
                .map_or_else(String::new, |n| n.to_string_lossy().into_owned()),
            root: root.display().to_string(),
            ports,
            etcd_restore_tool: "etcdutl".to_string(),
            kubelet_endpoint_file: KUBELET_CONFIG.to_string(),
            description: "the sandbox node (a Kubernetes 1.35 layout, etcd 3.6)".to_string(),
            workers: crate::backend::sandbox::workers::WORKERS.map(|(name, _)| name.to_string()),
        }
    }

    /// Renders a template (a task text, a step field) with this layout.
    pub fn render(&self, template: &str) -> Result<String, String> {
        if !template.contains("{{") && !template.contains("{%") {
            return Ok(template.to_string());
        }
        let mut context = tera::Context::new();
        context.insert("backend", &self.backend);
        context.insert("node", &self.node_name);
        context.insert("root", &self.root);
        context.insert("ports", &self.ports);
        context.insert("etcd_restore_tool", &self.etcd_restore_tool);
        context.insert("kubelet_endpoint_file", &self.kubelet_endpoint_file);
        context.insert("worker1", &self.workers[0]);
        context.insert("worker2", &self.workers[1]);
        // tera's top-level message is vague ("failed to render"); its sources say why.
        tera::Tera::one_off(template, &context, false)
            .map_err(|err| crate::error::with_causes(&err))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_kubelet_file_and_restore_tool_follow_the_versions() {
        let new = NodeLayout::kind_versions("ckalab", 35, 6);
        assert_eq!(new.kubelet_endpoint_file, KUBELET_CONFIG);
        assert_eq!(new.etcd_restore_tool, "etcdutl");
        let old = NodeLayout::kind_versions("ckalab", 31, 5);
        assert_eq!(old.kubelet_endpoint_file, KUBEADM_FLAGS);
        assert_eq!(old.etcd_restore_tool, "etcdctl");
        assert_eq!(
            old.render(
                "{{ etcd_restore_tool }} snapshot restore; edit {{ kubelet_endpoint_file }}"
            )
            .ok()
            .as_deref(),
            Some("etcdctl snapshot restore; edit /var/lib/kubelet/kubeadm-flags.env")
        );
    }
}
