//! What kubeadm and kind install beside the control plane: kubeadm's CoreDNS add-on (the
//! `coredns` Deployment in `kube-system` and its `kube-dns` Service) and kind's default
//! StorageClass. They are made once per node, as a cluster is made once: a learner who scales
//! CoreDNS to zero or deletes the class keeps that change.

use std::path::PathBuf;

use serde_json::Value;

use crate::engine::api;
use crate::engine::fault::Fault;

/// kubeadm's CoreDNS manifests, with the sandbox's DNS IP and domain.
const COREDNS: &str = include_str!("coredns.yaml");

/// Every add-on object, in the order they are created (a ServiceAccount before its pods).
pub fn objects() -> Vec<Value> {
    let mut objects: Vec<Value> =
        serde_saphyr::from_multiple(COREDNS).expect("the CoreDNS add-on manifests parse (tested)");
    objects.retain(|doc| !doc.is_null());
    objects.push(super::provisioner::default_class());
    objects
}

pub struct Addons {
    kubeconfig: PathBuf,
    /// Written once every add-on exists.
    made: PathBuf,
    client: Option<kube::Client>,
}

impl Addons {
    pub fn new(kubeconfig: PathBuf, made: PathBuf) -> Addons {
        Addons {
            kubeconfig,
            made,
            client: None,
        }
    }

    /// Creates the add-ons that do not exist yet, until all have been made once.
    pub async fn tick(&mut self) -> Result<(), Fault> {
        if self.made.exists() {
            return Ok(());
        }
        let client = api::cached_client(&mut self.client, &self.kubeconfig).await?;
        for object in objects() {
            api::object::ensure(&client, &object).await?;
        }
        let _ = std::fs::write(&self.made, b"coredns standard-storage-class\n");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kubeadm_coredns_and_kind_storage_class() {
        let names: Vec<String> = objects()
            .iter()
            .map(|o| format!("{}/{}", o["kind"], o["metadata"]["name"]).replace('"', ""))
            .collect();
        assert_eq!(
            names,
            [
                "ServiceAccount/coredns",
                "ClusterRole/system:coredns",
                "ClusterRoleBinding/system:coredns",
                "ConfigMap/coredns",
                "Deployment/coredns",
                "Service/kube-dns",
                "StorageClass/standard",
            ]
        );
        let service = &objects()[5];
        assert_eq!(service["spec"]["clusterIP"], "10.96.0.10");
        assert_eq!(service["spec"]["selector"]["k8s-app"], "kube-dns");
    }
}
