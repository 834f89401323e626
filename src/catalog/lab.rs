//! The data of one lab, as written in `labs/<id>/lab.yaml`.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::check::Check;
use super::step::Step;

/// One scenario: what is broken, the task, its lesson, hints, the canonical fix and the checks
/// that grade it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Lab {
    pub id: String,
    pub title: String,
    pub domain: Domain,
    /// 1 (warm-up) to 5 (hard exam task).
    pub difficulty: u8,
    /// The time a prepared candidate needs; the exam clock and best times compare against it.
    pub minutes: u32,
    pub backends: Vec<BackendKind>,
    /// The id of the lesson in `content/lessons/` that teaches what the lab needs.
    pub lesson: String,
    /// The parts of the node the lab leaves broken (or that its fix replaces, as a restore
    /// replaces etcd's data). A lab that needs one of them is never drawn with it on a shared
    /// node.
    #[serde(default)]
    pub breaks: Vec<super::part::Part>,
    /// What the lab needs working besides what its checks already ask for (see
    /// `Check::needs`).
    #[serde(default)]
    pub needs: Vec<super::part::Part>,
    /// What the lab's steps make or change on a cluster, worked out when an exam first asks
    /// (`Lab::claims`), not at every start of ckalab.
    #[serde(skip)]
    claims: std::sync::OnceLock<std::collections::BTreeSet<String>>,
    /// What the sandbox's simulated workers cannot show for this lab (a probe that never runs,
    /// an autoscaler without metrics): there it grades the configuration only. `show` says so.
    #[serde(default)]
    pub configuration_only: Option<String>,
    /// How the breakage looks from outside, without saying what was broken (cold diagnosis).
    pub symptom: String,
    /// The task text: a tera template rendered with the backend's real paths, ports and names.
    pub task: String,
    /// Progressive hints, from the general direction to almost the answer.
    pub hints: Vec<String>,
    /// Different ways of breaking the same thing; one is drawn at start. Empty: one way only.
    #[serde(default)]
    pub variants: Vec<Variant>,
    pub setup: Vec<Step>,
    /// Checks that must fail right after setup, proving the break took effect.
    pub verify_broken: Vec<ExpectBroken>,
    /// The grading: every check must pass.
    pub checks: Vec<Check>,
    /// The canonical fix, as real steps.
    pub solution: Vec<Step>,
    /// A plausible but incomplete fix: after it the lab must still not pass.
    pub near_miss: Vec<Step>,
    /// Other valid fixes, each a command line as a learner types it in `ckalab shell` (paths
    /// relative to the node's `/`, so the same line works on both backends). The tests prove
    /// each one passes, so grading never rewards only the canonical spelling.
    #[serde(default)]
    pub learner_fixes: Vec<String>,
}

impl Lab {
    /// What the lab's steps make or change on a cluster (its namespaces, cluster-wide objects,
    /// node files): two labs that claim the same thing never share a cluster in an exam.
    pub fn claims(&self) -> &std::collections::BTreeSet<String> {
        self.claims.get_or_init(|| super::part::claims(self))
    }

    pub fn variant(&self, id: &str) -> Option<&Variant> {
        self.variants.iter().find(|v| v.id == id)
    }

    /// The lab's steps of one list followed by the variant's.
    fn joined<'a>(
        &'a self,
        variant: Option<&'a Variant>,
        pick: impl Fn(&'a Variant) -> &'a [Step],
        own: &'a [Step],
    ) -> Vec<Step> {
        own.iter()
            .chain(variant.map(pick).unwrap_or_default())
            .cloned()
            .collect()
    }

    pub fn setup_steps(&self, variant: Option<&Variant>) -> Vec<Step> {
        self.joined(variant, |v| &v.setup, &self.setup)
    }

    /// The variant's fix comes first: the lab's own solution steps wait for the outcome.
    pub fn solution_steps(&self, variant: Option<&Variant>) -> Vec<Step> {
        variant
            .map(|v| v.solution.clone())
            .unwrap_or_default()
            .into_iter()
            .chain(self.solution.iter().cloned())
            .collect()
    }

    pub fn near_miss_steps(&self, variant: Option<&Variant>) -> Vec<Step> {
        self.joined(variant, |v| &v.near_miss, &self.near_miss)
    }

    /// Every step of the lab, in any variant.
    pub fn every_step(&self) -> impl Iterator<Item = &Step> {
        self.setup
            .iter()
            .chain(&self.solution)
            .chain(&self.near_miss)
            .chain(
                self.variants
                    .iter()
                    .flat_map(|v| v.setup.iter().chain(&v.solution).chain(&v.near_miss)),
            )
    }

    /// Every check the lab grades or waits for, in any variant.
    pub fn every_check(&self) -> Vec<&Check> {
        let steps = self.every_step();
        let breaks = self
            .verify_broken
            .iter()
            .chain(self.variants.iter().flat_map(|v| &v.verify_broken));
        self.checks
            .iter()
            .chain(breaks.map(|b| &b.check))
            .chain(steps.filter_map(|step| match step {
                Step::WaitFor { check, .. } => Some(check),
                _ => None,
            }))
            .collect()
    }

    /// What is wrong with the objects the lab's steps and checks name: YAML that does not parse
    /// into objects, a kind without an apiVersion, a key path that does not parse.
    pub fn object_problems(&self) -> Vec<String> {
        use super::check::Target;
        let layout = super::NodeLayout::sandbox(
            std::path::Path::new("/sandbox/node"),
            super::Ports::KUBEADM,
        );
        let mut problems = Vec::new();
        let mut yaml = |text: &str| match crate::engine::steps::documents(&layout, text) {
            Ok(docs) => {
                for doc in docs {
                    if let Err(fault) = crate::engine::api::object::reference(&doc) {
                        problems.push(fault.to_string());
                    }
                }
            }
            Err(fault) => problems.push(fault.to_string()),
        };
        let mut targets: Vec<&Target> = Vec::new();
        let mut paths: Vec<&str> = Vec::new();
        for step in self.every_step() {
            match step {
                Step::Apply(text) => yaml(text),
                Step::KeepObject(target) => targets.push(target),
                _ => {}
            }
        }
        for check in self.every_check() {
            match check {
                Check::Field { object, path, .. } => {
                    targets.push(object);
                    paths.push(path);
                }
                Check::WorkloadPods { object, .. }
                | Check::SameObject(object)
                | Check::EnvVar { object, .. }
                | Check::Mount { object, .. }
                | Check::Placement { object, .. }
                | Check::ServiceEndpoints {
                    pods_of: object, ..
                } => targets.push(object),
                Check::Admitted { object, path, .. } => {
                    yaml(object);
                    paths.push(path);
                }
                Check::Refused { object, .. } => yaml(object),
                _ => {}
            }
        }
        for target in targets {
            if target.api_version().is_none() {
                problems.push(format!(
                    "{target} needs an api_version: it is not a usual kind"
                ));
            }
        }
        for path in paths {
            if let Err(e) = crate::engine::keypath::KeyPath::parse(path) {
                problems.push(e.to_string());
            }
        }
        problems
    }

    pub fn expected_breaks(&self, variant: Option<&Variant>) -> Vec<ExpectBroken> {
        self.verify_broken
            .iter()
            .chain(
                variant
                    .map(|v| v.verify_broken.as_slice())
                    .unwrap_or_default(),
            )
            .cloned()
            .collect()
    }
}

/// One way of breaking a lab. Its steps run after the lab's own steps of the same list.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Variant {
    pub id: String,
    /// What this variant breaks, for status output and tests (not shown before the fix).
    pub description: String,
    pub setup: Vec<Step>,
    #[serde(default)]
    pub verify_broken: Vec<ExpectBroken>,
    pub solution: Vec<Step>,
    pub near_miss: Vec<Step>,
    /// This variant's other valid fixes (the lab's own apply to every variant).
    #[serde(default)]
    pub learner_fixes: Vec<String>,
}

impl Variant {
    /// The variant's own steps, for the catalog to fill in.
    pub fn steps_mut(&mut self) -> impl Iterator<Item = &mut Step> {
        self.setup
            .iter_mut()
            .chain(&mut self.solution)
            .chain(&mut self.near_miss)
    }
}

/// A check that must fail after setup, and the words its failure must contain, so a break that
/// failed for some other reason is caught.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectBroken {
    pub check: Check,
    #[serde(default)]
    pub reason: Option<String>,
}

/// The CKA curriculum domains, with the weights the exam gives them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Domain {
    Troubleshooting,
    ClusterArchitecture,
    ServicesNetworking,
    WorkloadsScheduling,
    Storage,
}

impl Domain {
    pub const ALL: [Domain; 5] = [
        Domain::Troubleshooting,
        Domain::ClusterArchitecture,
        Domain::ServicesNetworking,
        Domain::WorkloadsScheduling,
        Domain::Storage,
    ];

    pub fn id(self) -> &'static str {
        match self {
            Domain::Troubleshooting => "troubleshooting",
            Domain::ClusterArchitecture => "cluster-architecture",
            Domain::ServicesNetworking => "services-networking",
            Domain::WorkloadsScheduling => "workloads-scheduling",
            Domain::Storage => "storage",
        }
    }

    pub fn parse(s: &str) -> Option<Domain> {
        Domain::ALL.into_iter().find(|d| d.id() == s)
    }

    /// Share of the CKA exam's score, in percent.
    pub fn exam_weight(self) -> u32 {
        match self {
            Domain::Troubleshooting => 30,
            Domain::ClusterArchitecture => 25,
            Domain::ServicesNetworking => 20,
            Domain::WorkloadsScheduling => 15,
            Domain::Storage => 10,
        }
    }
}

impl fmt::Display for Domain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

/// Where labs run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum BackendKind {
    /// A real kind cluster (Docker or Podman).
    Kind,
    /// The real control plane as processes on a node directory, with workers kwok simulates.
    Sandbox,
}

/// Why a lab may run on kind only: what the sandbox's simulated workers cannot do.
pub const SANDBOX_LIMITS: &str = "the sandbox's workers node01 and node02 are simulated by kwok: \
     their pods get a phase and an IP but run no container, so real traffic, `kubectl exec`, \
     logs and DNS inside pods need kind";

impl BackendKind {
    pub fn id(self) -> &'static str {
        match self {
            BackendKind::Kind => "kind",
            BackendKind::Sandbox => "sandbox",
        }
    }
}

impl fmt::Display for BackendKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}
