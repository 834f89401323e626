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
}

#[derive(Debug, Clone, Serialize)]
pub struct Ports {
    pub apiserver: u16,
    pub etcd_client: u16,
    pub etcd_peer: u16,
}

impl Ports {
    /// The well-known ports of a kubeadm node.
    pub const KUBEADM: Ports = Ports {
        apiserver: 6443,
        etcd_client: 2379,
        etcd_peer: 2380,
    };
}

impl NodeLayout {
    /// The layout of a kind cluster's control-plane node with etcd 3.6 (Kubernetes ≥ 1.34).
    pub fn kind(cluster: &str) -> NodeLayout {
        NodeLayout {
            backend: BackendKind::Kind,
            node_name: format!("{cluster}-control-plane"),
            root: String::new(),
            ports: Ports::KUBEADM,
            etcd_restore_tool: "etcdutl".to_string(),
        }
    }

    /// The layout of a sandbox node under `root` (Debian's etcd 3.4: `etcdctl` restores).
    pub fn sandbox(root: &std::path::Path, ports: Ports) -> NodeLayout {
        NodeLayout {
            backend: BackendKind::Sandbox,
            node_name: root
                .file_name()
                .map_or_else(String::new, |n| n.to_string_lossy().into_owned()),
            root: root.display().to_string(),
            ports,
            etcd_restore_tool: "etcdctl".to_string(),
        }
    }

    /// Where a node path really is for the learner.
    pub fn path(&self, node_path: &str) -> String {
        format!("{}{node_path}", self.root)
    }

    /// Renders a template (a task text, a step field) with this layout.
    pub fn render(&self, template: &str) -> Result<String, String> {
        let mut context = tera::Context::new();
        context.insert("backend", &self.backend);
        context.insert("node", &self.node_name);
        context.insert("root", &self.root);
        context.insert("ports", &self.ports);
        context.insert("etcd_restore_tool", &self.etcd_restore_tool);
        tera::Tera::one_off(template, &context, false).map_err(|err| {
            // tera's top-level message is vague ("failed to render"); its sources say why.
            let mut text = err.to_string();
            let mut source = std::error::Error::source(&err);
            while let Some(inner) = source {
                text.push_str(": ");
                text.push_str(&inner.to_string());
                source = inner.source();
            }
            text
        })
    }
}
