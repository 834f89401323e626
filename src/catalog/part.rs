//! The parts of a node and its control plane a lab can break or need working. An exam whose
//! tasks share a node never draws two labs where one breaks what the other needs: the relation
//! is derived from these declarations (and from what each check asks of the cluster), not kept
//! by hand.

use std::collections::BTreeSet;

use serde::Deserialize;

use super::check::{Check, Target};
use super::step::Step;
use super::{Lab, NodeLayout};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Part {
    Containerd,
    Kubelet,
    Etcd,
    KubeApiserver,
    KubeControllerManager,
    KubeScheduler,
    Coredns,
    /// The worker nodes taking pods: a taint or a cordon on one keeps other labs' pods away.
    Workers,
}

impl Part {
    /// The part a unit or static pod name stands for.
    pub fn named(name: &str) -> Option<Part> {
        Some(match name {
            "containerd" => Part::Containerd,
            "kubelet" => Part::Kubelet,
            "etcd" => Part::Etcd,
            "kube-apiserver" => Part::KubeApiserver,
            "kube-controller-manager" => Part::KubeControllerManager,
            "kube-scheduler" => Part::KubeScheduler,
            "coredns" => Part::Coredns,
            _ => return None,
        })
    }
}

impl Check {
    /// What must work for this check to be able to pass.
    pub fn needs(&self) -> Vec<Part> {
        use Part::*;
        match self {
            Check::ServiceActive(unit) => Part::named(unit).into_iter().collect(),
            Check::KubeletRuntime => vec![Kubelet, Containerd],
            // The kubelet reports Ready to the API server, which keeps it in etcd.
            Check::NodeReady => vec![Kubelet, Containerd, KubeApiserver, Etcd],
            // A static pod runs because the kubelet started it through the runtime.
            Check::StaticPodRunning(pod) => [Kubelet, Containerd]
                .into_iter()
                .chain(Part::named(pod))
                .collect(),
            Check::ApiserverReady | Check::ObjectExists { .. } => vec![KubeApiserver, Etcd],
            Check::EtcdHealthy => vec![Etcd],
            Check::PodPhase { .. } => vec![KubeApiserver, Etcd, KubeScheduler, Kubelet, Containerd],
            Check::Schedules { .. } => vec![KubeApiserver, Etcd, KubeScheduler],
            Check::CertValid { .. }
            | Check::FileKey { .. }
            | Check::Command(_)
            | Check::Shell { .. } => Vec::new(),
            // What the API server stores, as it stores it.
            Check::Field { .. }
            | Check::SameObject(_)
            | Check::FileMatchesKubectl { .. }
            | Check::EnvVar { .. }
            | Check::Mount { .. }
            | Check::Admitted { .. }
            | Check::Refused { .. }
            | Check::Placement { .. }
            | Check::Access { .. }
            | Check::HelmRelease { .. }
            | Check::JoinCommand { .. }
            | Check::Traffic { .. } => vec![KubeApiserver, Etcd],
            // Controllers make the pods, the scheduler places them, and a PVC is bound by the
            // controller-manager's volume controller.
            Check::WorkloadPods { .. }
            | Check::Rollout { .. }
            | Check::ClaimBound { .. }
            | Check::ServiceEndpoints { .. } => {
                vec![
                    KubeApiserver,
                    Etcd,
                    KubeControllerManager,
                    KubeScheduler,
                    Workers,
                ]
            }
        }
    }
}

impl Lab {
    /// What the lab needs working: what it declares, and what its checks ask of the cluster.
    pub fn needs_all(&self) -> BTreeSet<Part> {
        self.needs
            .iter()
            .copied()
            .chain(self.checks.iter().flat_map(Check::needs))
            .collect()
    }

    /// Whether the two labs cannot be set up on one cluster at once: one breaks what the other
    /// needs, or both make or change the same thing (a namespace, an object, a node file), so
    /// one's reset or checks would undo or see the other's.
    pub fn conflicts_with(&self, other: &Lab) -> bool {
        let blocks = |a: &Lab, b: &Lab| {
            let needed = b.needs_all();
            a.breaks.iter().any(|part| needed.contains(part))
        };
        self.id != other.id
            && (blocks(self, other)
                || blocks(other, self)
                || !self.claims().is_disjoint(other.claims()))
    }

    /// Whether the lab breaks a control-plane part (a component, etcd, the kubelet or the
    /// runtime): in an exam it gets a cluster of its own.
    pub fn breaks_control_plane(&self) -> bool {
        self.breaks
            .iter()
            .any(|part| !matches!(part, Part::Coredns | Part::Workers))
    }
}

/// What a lab's steps make or change on a cluster, as comparable names: `namespace/dev` for
/// anything in a namespace of its own, `Deployment/default/web` in a shared namespace,
/// `PersistentVolume//pv-1` cluster-wide, `bundle/gateway-api`, `file//opt/course/a.txt`.
/// Rendered with kind's layout: only the names matter, and they are the same on every node.
pub fn claims(lab: &Lab) -> BTreeSet<String> {
    let layout = NodeLayout::kind("ckalab");
    let mut claims = BTreeSet::new();
    for step in lab.every_step() {
        match step {
            Step::Apply(yaml) => {
                let docs: Vec<serde_json::Value> = layout
                    .render(yaml)
                    .ok()
                    .and_then(|text| serde_saphyr::from_multiple(&text).ok())
                    .unwrap_or_default();
                for doc in docs.iter().filter(|d| !d.is_null()) {
                    let field =
                        |path: &str| doc.pointer(path).and_then(|v| v.as_str()).unwrap_or("");
                    claims.insert(object_claim(
                        field("/kind"),
                        field("/metadata/namespace"),
                        field("/metadata/name"),
                    ));
                }
            }
            Step::ApplyBundled(bundle) => {
                claims.insert(format!("bundle/{bundle}"));
            }
            Step::PutObject {
                kind,
                namespace,
                name,
                ..
            }
            | Step::PatchObject {
                kind,
                namespace,
                name,
                ..
            }
            | Step::DeleteObject {
                kind,
                namespace,
                name,
                ..
            }
            | Step::KeepObject(Target {
                kind,
                namespace,
                name,
                ..
            }) => {
                let render = |s: &str| layout.render(s).unwrap_or_else(|_| s.to_string());
                claims.insert(object_claim(kind, &render(namespace), &render(name)));
            }
            _ => {}
        }
        // Two labs that only keep a path (to put it back on reset: an answer folder such as
        // /opt/course) agree on what reset does with it; two that change it do not.
        if !matches!(step, Step::Keep(_)) {
            for path in step.paths().written {
                claims.insert(format!("file/{}", layout.render(path).unwrap_or_default()));
            }
        }
    }
    claims
}

/// The claim of one object: its namespace when that is the lab's own, else the object itself
/// (cluster-wide, or in a namespace every cluster has).
fn object_claim(kind: &str, namespace: &str, name: &str) -> String {
    if kind == "Namespace" {
        return format!("namespace/{name}");
    }
    match namespace {
        "" | "default" | "kube-system" | "kube-public" => format!("{kind}/{namespace}/{name}"),
        own => format!("namespace/{own}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lab_conflicts_with_one_that_breaks_what_its_checks_need() {
        let catalog = crate::catalog::Catalog::load().expect("the built-in catalog");
        let lab = |id| catalog.lab(id).expect("lab");
        // The API server down blocks every check that asks it; a dead runtime blocks every
        // static pod; a restore replaces the data the others' API checks read.
        for (a, b) in [
            ("apiserver-flags", "etcd-restore"),
            ("cri-plugin-disabled", "apiserver-flags"),
            ("runtime-endpoint", "expired-certs"),
            ("etcd-restore", "expired-certs"),
            // A tainted worker keeps the other labs' pods away.
            ("taint-toleration", "rollout-undo"),
        ] {
            assert!(lab(a).conflicts_with(lab(b)), "{a} and {b}");
            assert!(lab(b).conflicts_with(lab(a)), "symmetric: {b} and {a}");
        }
        assert!(!lab("etcd-restore").conflicts_with(lab("etcd-restore")));
    }

    #[test]
    fn labs_that_share_a_namespace_or_an_object_conflict() {
        let catalog = crate::catalog::Catalog::load().expect("the built-in catalog");
        let lab = |id| catalog.lab(id).expect("lab");
        assert!(lab("rbac-pod-reader").claims().contains("namespace/dev"));
        // Both deploy `web` in `shop`; both define objects in `dev`.
        for (a, b) in [
            ("node-drain", "svc-nodeport"),
            ("csr-user", "rbac-pod-reader"),
            ("crd-install", "crd-versions"),
        ] {
            assert!(lab(a).conflicts_with(lab(b)), "{a} and {b}");
        }
        assert!(!lab("svc-nodeport").conflicts_with(lab("rbac-pod-reader")));
        assert!(lab("apiserver-flags").breaks_control_plane());
        assert!(!lab("coredns-scaled-zero").breaks_control_plane());
        assert!(!lab("svc-nodeport").breaks_control_plane());
    }

    #[test]
    fn what_a_check_needs_follows_what_it_asks() {
        assert_eq!(
            Check::StaticPodRunning("kube-scheduler".into()).needs(),
            vec![Part::Kubelet, Part::Containerd, Part::KubeScheduler]
        );
        assert_eq!(Check::EtcdHealthy.needs(), vec![Part::Etcd]);
        assert!(Check::Command(vec!["true".into()]).needs().is_empty());
    }
}
