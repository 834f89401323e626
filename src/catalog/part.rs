//! The parts of a node and its control plane a lab can break or need working. An exam whose
//! tasks share a node never draws two labs where one breaks what the other needs: the relation
//! is derived from these declarations (and from what each check asks of the cluster), not kept
//! by hand.

use std::collections::BTreeSet;

use serde::Deserialize;

use super::Lab;
use super::check::Check;

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

    /// Whether the two labs cannot be broken on one node at once: one breaks what the other
    /// needs.
    pub fn conflicts_with(&self, other: &Lab) -> bool {
        let blocks = |a: &Lab, b: &Lab| {
            let needed = b.needs_all();
            a.breaks.iter().any(|part| needed.contains(part))
        };
        self.id != other.id && (blocks(self, other) || blocks(other, self))
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
    fn what_a_check_needs_follows_what_it_asks() {
        assert_eq!(
            Check::StaticPodRunning("kube-scheduler".into()).needs(),
            vec![Part::Kubelet, Part::Containerd, Part::KubeScheduler]
        );
        assert_eq!(Check::EtcdHealthy.needs(), vec![Part::Etcd]);
        assert!(Check::Command(vec!["true".into()]).needs().is_empty());
    }
}
