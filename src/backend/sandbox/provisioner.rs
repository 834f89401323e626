//! The sandbox's storage provisioner, as kind ships it beside its default StorageClass
//! `standard` (made with the other add-ons): it answers for `rancher.io/local-path` as kind's
//! local-path-provisioner does. For each claim of such a class (once the scheduler has picked a
//! node, with WaitForFirstConsumer) it creates a hostPath PersistentVolume on that node,
//! pre-bound to the claim, and the controller-manager's volume controller binds them; a released
//! volume whose policy is Delete is deleted. No directory is made: the workers are simulated. It
//! resizes nothing, as local-path does not.

use std::path::PathBuf;

use serde_json::{Value, json};

use crate::engine::api;
use crate::engine::fault::Fault;

/// The provisioner name kind's default class uses.
pub const PROVISIONER: &str = "rancher.io/local-path";
/// Where local-path keeps volumes on kind's nodes.
const VOLUMES_DIR: &str = "/var/local-path-provisioner";
const PROVISIONED_BY: &str = "pv.kubernetes.io/provisioned-by";
const SELECTED_NODE: &str = "volume.kubernetes.io/selected-node";

/// kind's default StorageClass.
pub fn default_class() -> Value {
    json!({
        "apiVersion": "storage.k8s.io/v1",
        "kind": "StorageClass",
        "metadata": {
            "name": "standard",
            "annotations": {"storageclass.kubernetes.io/is-default-class": "true"},
        },
        "provisioner": PROVISIONER,
        "reclaimPolicy": "Delete",
        "volumeBindingMode": "WaitForFirstConsumer",
    })
}

pub struct Provisioner {
    kubeconfig: PathBuf,
    client: Option<kube::Client>,
}

impl Provisioner {
    pub fn new(kubeconfig: PathBuf) -> Provisioner {
        Provisioner {
            kubeconfig,
            client: None,
        }
    }

    /// Provisions what claims wait for, deletes what is released.
    pub async fn tick(&mut self) -> Result<(), Fault> {
        let client = api::cached_client(&mut self.client, &self.kubeconfig).await?;
        let classes = api::object::list(&client, "storage.k8s.io/v1", "StorageClass", "", None)
            .await?
            .into_iter()
            .map(|class| serde_json::to_value(class).unwrap_or_default())
            .filter(|class| class["provisioner"] == PROVISIONER)
            .collect::<Vec<_>>();
        let claims = api::object::list(&client, "v1", "PersistentVolumeClaim", "", None).await?;
        for claim in claims {
            let claim = serde_json::to_value(claim).unwrap_or_default();
            let class = classes
                .iter()
                .find(|class| class["metadata"]["name"] == claim["spec"]["storageClassName"]);
            if let Some(volume) = class.and_then(|class| volume_for(&claim, class)) {
                api::object::ensure(&client, &volume).await?;
            }
        }
        for volume in api::object::list(&client, "v1", "PersistentVolume", "", None).await? {
            let volume = serde_json::to_value(volume).unwrap_or_default();
            if volume["metadata"]["annotations"][PROVISIONED_BY] == PROVISIONER
                && volume["status"]["phase"] == "Released"
                && volume["spec"]["persistentVolumeReclaimPolicy"] == "Delete"
            {
                let name = volume["metadata"]["name"].as_str().unwrap_or_default();
                let object = api::object::reference(&json!({
                    "apiVersion": "v1", "kind": "PersistentVolume", "metadata": {"name": name},
                }))?;
                api::object::delete(&client, &object).await?;
            }
        }
        Ok(())
    }
}

/// The volume a pending claim of `class` gets, once it can: on the node the scheduler picked
/// (WaitForFirstConsumer) or on the first worker (Immediate).
pub fn volume_for(claim: &Value, class: &Value) -> Option<Value> {
    let text = |v: &Value| v.as_str().unwrap_or_default().to_string();
    if claim["status"]["phase"] != "Pending"
        || claim["spec"]["volumeName"].is_string()
        || claim["metadata"]["deletionTimestamp"].is_string()
    {
        return None;
    }
    let node = match claim["metadata"]["annotations"][SELECTED_NODE].as_str() {
        Some(node) => node.to_string(),
        None if class["volumeBindingMode"] == "WaitForFirstConsumer" => return None,
        None => super::workers::WORKERS[0].0.to_string(),
    };
    let (namespace, name, uid) = (
        text(&claim["metadata"]["namespace"]),
        text(&claim["metadata"]["name"]),
        text(&claim["metadata"]["uid"]),
    );
    let size = claim["spec"]["resources"]["requests"]["storage"].clone();
    let policy = class["reclaimPolicy"].as_str().unwrap_or("Delete");
    Some(json!({
        "apiVersion": "v1",
        "kind": "PersistentVolume",
        "metadata": {
            "name": format!("pvc-{uid}"),
            "annotations": {PROVISIONED_BY: PROVISIONER},
        },
        "spec": {
            "capacity": {"storage": size},
            "accessModes": claim["spec"]["accessModes"],
            "volumeMode": claim["spec"]["volumeMode"].as_str().unwrap_or("Filesystem"),
            "persistentVolumeReclaimPolicy": policy,
            "storageClassName": class["metadata"]["name"],
            "claimRef": {
                "apiVersion": "v1",
                "kind": "PersistentVolumeClaim",
                "namespace": namespace,
                "name": name,
                "uid": uid,
            },
            "hostPath": {
                "path": format!("{VOLUMES_DIR}/pvc-{uid}_{namespace}_{name}"),
                "type": "DirectoryOrCreate",
            },
            "nodeAffinity": {"required": {"nodeSelectorTerms": [{"matchExpressions": [
                {"key": "kubernetes.io/hostname", "operator": "In", "values": [node]},
            ]}]}},
        },
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claim(annotations: Value) -> Value {
        json!({
            "metadata": {"name": "data", "namespace": "web", "uid": "u1", "annotations": annotations},
            "spec": {"storageClassName": "standard", "accessModes": ["ReadWriteOnce"],
                     "resources": {"requests": {"storage": "1Gi"}}},
            "status": {"phase": "Pending"},
        })
    }

    #[test]
    fn a_claim_gets_a_volume_on_the_node_the_scheduler_picked() {
        let class = default_class();
        assert_eq!(
            volume_for(&claim(json!({})), &class),
            None,
            "waits for a consumer"
        );
        let volume = volume_for(&claim(json!({SELECTED_NODE: "node02"})), &class).expect("a PV");
        assert_eq!(volume["metadata"]["name"], "pvc-u1");
        assert_eq!(volume["spec"]["capacity"]["storage"], "1Gi");
        assert_eq!(volume["spec"]["claimRef"]["name"], "data");
        assert_eq!(volume["spec"]["persistentVolumeReclaimPolicy"], "Delete");
        assert_eq!(
            volume["spec"]["nodeAffinity"]["required"]["nodeSelectorTerms"][0]["matchExpressions"]
                [0]["values"][0],
            "node02"
        );
        let mut immediate = class.clone();
        immediate["volumeBindingMode"] = "Immediate".into();
        let volume = volume_for(&claim(json!({})), &immediate).expect("a PV at once");
        assert_eq!(
            volume["spec"]["hostPath"]["path"],
            "/var/local-path-provisioner/pvc-u1_web_data"
        );
        let mut bound = claim(json!({}));
        bound["status"]["phase"] = "Bound".into();
        assert_eq!(volume_for(&bound, &immediate), None);
    }
}
