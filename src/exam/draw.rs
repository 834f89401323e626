//! Drawing an exam's tasks: a domain by its CKA weight, then a lab of that domain, from the
//! labs the backend can run, each placed on a cluster; the same seed draws the same tasks in
//! the same order on the same clusters.

use crate::catalog::{BackendKind, Catalog, Domain, Lab};

/// The most clusters a sandbox exam runs at once: each is a control plane of its own (about
/// 600 MiB), and six fit the 6 GiB an exam may take.
pub const MAX_CLUSTERS: usize = 6;
/// Of those, the most that hold one task breaking its control plane: the others are shared.
pub const MAX_OWN_CLUSTERS: usize = 3;
/// The most tasks a shared cluster holds before the next task opens another.
pub const SHARED_CLUSTER_TASKS: usize = 8;

/// One drawn task.
#[derive(Debug, Clone, PartialEq)]
pub struct DrawnTask {
    pub lab_id: String,
    pub variant: Option<String>,
    /// A task's weight: the minutes a prepared candidate needs, as the CKA weighs longer tasks
    /// more.
    pub points: f64,
    /// The cluster it runs on, from 1.
    pub cluster: u32,
}

/// The clusters of an exam and the labs on each, as the exam does: a task that breaks a
/// control plane gets a cluster of its own; the others share clusters, never with a lab they
/// conflict with.
#[derive(Debug, Clone)]
pub struct Clusters<'c> {
    clusters: Vec<Cluster<'c>>,
    max: usize,
    max_own: usize,
}

#[derive(Debug, Clone)]
struct Cluster<'c> {
    labs: Vec<&'c Lab>,
    own: bool,
}

impl<'c> Clusters<'c> {
    /// Up to `max` clusters, `max_own` of them for tasks that break their control plane.
    pub fn new(max: usize, max_own: usize) -> Self {
        Clusters {
            clusters: Vec::new(),
            max,
            max_own,
        }
    }

    /// One cluster every task shares (kind's): labs that conflict are never drawn together.
    pub fn one_shared() -> Self {
        Clusters::new(1, 0)
    }

    /// The clusters of a sandbox exam.
    pub fn sandbox() -> Self {
        Clusters::new(MAX_CLUSTERS, MAX_OWN_CLUSTERS)
    }

    /// Whether `lab` takes a cluster of its own: it breaks its control plane, or it rewrites
    /// root's kubeconfig, where the exam's contexts are.
    fn needs_own(&self, lab: &Lab) -> bool {
        self.max_own > 0
            && (lab.breaks_control_plane()
                || lab
                    .claims()
                    .contains(&format!("file/{}", super::contexts::KUBECONFIG)))
    }

    /// Where `lab` would go (a cluster number from 1), if anywhere.
    pub fn place(&self, lab: &Lab) -> Option<u32> {
        let needs_own = self.needs_own(lab);
        let own = self
            .clusters
            .iter()
            .filter(|c| c.own && !c.labs.is_empty())
            .count();
        let own_room = own < self.max_own;
        // A cluster whose only task pre-flight rejected takes the replacement (its node is
        // built already), within the limit of clusters of their own.
        if let Some(i) = self.clusters.iter().position(|c| c.labs.is_empty())
            && (!needs_own || own_room)
        {
            return Some(i as u32 + 1);
        }
        let room = self.clusters.len() < self.max;
        let next = self.clusters.len() as u32 + 1;
        if needs_own {
            return (room && own_room).then_some(next);
        }
        let fits = |c: &Cluster| {
            !c.own
                && (self.max_own == 0 || c.labs.len() < SHARED_CLUSTER_TASKS)
                && c.labs.iter().all(|other| !other.conflicts_with(lab))
        };
        match self.clusters.iter().position(fits) {
            Some(i) => Some(i as u32 + 1),
            None => room.then_some(next),
        }
    }

    fn add(&mut self, cluster: u32, lab: &'c Lab) {
        let i = cluster as usize - 1;
        let own = self.needs_own(lab);
        if i == self.clusters.len() {
            self.clusters.push(Cluster {
                labs: Vec::new(),
                own,
            });
        }
        if self.clusters[i].labs.is_empty() {
            self.clusters[i].own = own;
        }
        self.clusters[i].labs.push(lab);
    }

    fn remove(&mut self, lab_id: &str) {
        for cluster in &mut self.clusters {
            cluster.labs.retain(|lab| lab.id != lab_id);
        }
    }
}

/// The draw in progress: every call to `next` gives the following task, so a task pre-flight
/// rejects is replaced by the next one the seed gives.
///
/// Within a domain, labs come in one fixed shuffled order, and a seed starts at its own place
/// in it: seeds 1, 2 and 3 draw different labs for as long as the library has enough of them.
pub struct Draw<'c> {
    rng: fastrand::Rng,
    seed: u64,
    labs: Vec<&'c Lab>,
    clusters: Clusters<'c>,
    /// The tasks each domain gives the exam, at the CKA's weights; empty: weights only.
    shares: Vec<(Domain, u32)>,
    /// What each domain still owes of its share.
    quotas: Vec<(Domain, u32)>,
    /// Labs drawn or rejected: never drawn again.
    used: Vec<&'c Lab>,
}

/// The seed of the one order labs are drawn in, the same for every exam.
const LAB_ORDER: u64 = 0xC4A_2026;

impl<'c> Draw<'c> {
    pub fn new(
        catalog: &'c Catalog,
        backend: BackendKind,
        clusters: Clusters<'c>,
        seed: u64,
    ) -> Self {
        let mut labs: Vec<&Lab> = catalog
            .labs()
            .iter()
            .filter(|lab| lab.backends.contains(&backend))
            .collect();
        fastrand::Rng::with_seed(LAB_ORDER).shuffle(&mut labs);
        Draw {
            rng: fastrand::Rng::with_seed(seed),
            seed,
            labs,
            clusters,
            shares: Vec::new(),
            quotas: Vec::new(),
            used: Vec::new(),
        }
    }

    /// An exam of `tasks` tasks: each domain with labs gives its share by the CKA's weights
    /// (largest remainders), at least one each when there are enough tasks.
    pub fn with_tasks(mut self, tasks: u32) -> Self {
        let domains: Vec<Domain> = Domain::ALL
            .into_iter()
            .filter(|d| self.labs.iter().any(|lab| lab.domain == *d))
            .collect();
        let total: u32 = domains.iter().map(|d| d.exam_weight()).sum();
        if total == 0 {
            return self;
        }
        let exact = |d: Domain| f64::from(tasks * d.exam_weight()) / f64::from(total);
        let mut quotas: Vec<(Domain, u32)> = domains
            .iter()
            .map(|&d| (d, exact(d).floor() as u32))
            .collect();
        let mut by_remainder = domains.clone();
        by_remainder.sort_by(|a, b| {
            let rest = |d: Domain| exact(d) - exact(d).floor();
            rest(*b).total_cmp(&rest(*a))
        });
        let mut left = tasks - quotas.iter().map(|(_, q)| q).sum::<u32>();
        for d in by_remainder.iter().cycle().take(domains.len() * 2) {
            if left == 0 {
                break;
            }
            if let Some((_, q)) = quotas.iter_mut().find(|(q_d, _)| q_d == d) {
                *q += 1;
                left -= 1;
            }
        }
        // Every domain at least once: the largest quotas give way.
        if tasks as usize >= domains.len() {
            while let Some(i) = quotas.iter().position(|(_, q)| *q == 0) {
                let largest = (0..quotas.len()).max_by_key(|&j| quotas[j].1).unwrap_or(i);
                quotas[largest].1 -= 1;
                quotas[i].1 += 1;
            }
        }
        self.shares = quotas.clone();
        self.quotas = quotas;
        self
    }

    /// Domains with no lab on this backend: their weight goes to the others.
    pub fn empty_domains(&self) -> Vec<Domain> {
        Domain::ALL
            .into_iter()
            .filter(|d| self.labs.iter().all(|lab| lab.domain != *d))
            .collect()
    }

    fn available(&self) -> Vec<&'c Lab> {
        self.labs
            .iter()
            .copied()
            .filter(|lab| self.used.iter().all(|u| u.id != lab.id))
            .filter(|lab| self.clusters.place(lab).is_some())
            .collect()
    }

    /// Takes back the last drawn task (pre-flight rejected it): it is never drawn again, and
    /// its domain owes a task again.
    pub fn reject(&mut self, lab_id: &str) {
        self.clusters.remove(lab_id);
        let domain = self
            .used
            .iter()
            .find(|lab| lab.id == lab_id)
            .map(|lab| lab.domain);
        if let Some((_, q)) = self.quotas.iter_mut().find(|(d, _)| Some(*d) == domain) {
            *q += 1;
        }
    }

    /// The domain of the next task: by the quotas still owed, else by the CKA's weights.
    fn domain(&mut self, available: &[&Lab]) -> Option<Domain> {
        let has_labs = |d: &Domain| available.iter().any(|lab| lab.domain == *d);
        let owed: Vec<(Domain, u32)> = self
            .quotas
            .iter()
            .copied()
            .filter(|(d, q)| *q > 0 && has_labs(d))
            .collect();
        let weights = match owed.is_empty() {
            false => owed,
            true => Domain::ALL
                .into_iter()
                .filter(has_labs)
                .map(|d| (d, d.exam_weight()))
                .collect(),
        };
        let total: u32 = weights.iter().map(|(_, w)| w).sum();
        if total == 0 {
            return None;
        }
        let mut pick = self.rng.u32(..total);
        weights
            .iter()
            .find(|(_, w)| {
                let hit = pick < *w;
                pick = pick.saturating_sub(*w);
                hit
            })
            .map(|(d, _)| *d)
    }
}

impl Iterator for Draw<'_> {
    type Item = DrawnTask;

    /// The next task, or `None` when no lab is left that fits.
    fn next(&mut self) -> Option<DrawnTask> {
        let available = self.available();
        let domain = self.domain(&available)?;
        // The seed's place in the domain's order: seeds next to each other start a quota
        // apart, so their exams share no lab while the domain has enough.
        let in_domain: Vec<&Lab> = self
            .labs
            .iter()
            .copied()
            .filter(|lab| lab.domain == domain)
            .collect();
        let share = self
            .shares
            .iter()
            .find(|(d, _)| *d == domain)
            .map_or(1, |(_, q)| u64::from(*q).max(1));
        let start = (self.seed.wrapping_mul(share) % in_domain.len() as u64) as usize;
        let lab = in_domain
            .iter()
            .cycle()
            .skip(start)
            .take(in_domain.len())
            .copied()
            .find(|lab| available.iter().any(|a| a.id == lab.id))?;
        let variant = (!lab.variants.is_empty()).then(|| {
            lab.variants[self.rng.usize(..lab.variants.len())]
                .id
                .clone()
        });
        let cluster = self.clusters.place(lab)?;
        self.clusters.add(cluster, lab);
        self.used.push(lab);
        if let Some((_, q)) = self.quotas.iter_mut().find(|(d, _)| *d == domain) {
            *q = q.saturating_sub(1);
        }
        Some(DrawnTask {
            lab_id: lab.id.clone(),
            variant,
            points: f64::from(lab.minutes),
            cluster,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catalog() -> Catalog {
        Catalog::load().expect("the embedded catalog loads")
    }

    fn draw_all(catalog: &Catalog, shared: bool, seed: u64, n: usize) -> Vec<DrawnTask> {
        let clusters = match shared {
            true => Clusters::one_shared(),
            false => Clusters::new(usize::MAX, usize::MAX),
        };
        let mut draw = Draw::new(catalog, BackendKind::Sandbox, clusters, seed);
        (0..n).map_while(|_| draw.next()).collect()
    }

    #[test]
    fn the_same_seed_draws_the_same_exam() {
        let catalog = catalog();
        assert_eq!(
            draw_all(&catalog, false, 42, 5),
            draw_all(&catalog, false, 42, 5)
        );
        let seeds: Vec<Vec<DrawnTask>> = (0..8).map(|s| draw_all(&catalog, false, s, 3)).collect();
        assert!(
            seeds.iter().any(|d| d != &seeds[0]),
            "different seeds draw different exams"
        );
    }

    #[test]
    fn each_lab_once_and_every_task_runs_on_the_backend() {
        let catalog = catalog();
        let drawn = draw_all(&catalog, false, 7, catalog.labs().len() + 1);
        assert_eq!(drawn.len(), catalog.labs().len(), "every lab, once");
        let mut ids: Vec<&str> = drawn.iter().map(|t| t.lab_id.as_str()).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), drawn.len());
        let flags = drawn
            .iter()
            .find(|t| t.lab_id == "apiserver-flags")
            .expect("drawn");
        assert!(flags.variant.is_some(), "a lab with variants gets one");
    }

    #[test]
    fn a_shared_node_never_gets_conflicting_labs() {
        let catalog = catalog();
        for seed in 0..20 {
            let drawn = draw_all(&catalog, true, seed, 5);
            for a in &drawn {
                for b in &drawn {
                    let (lab, other) = (
                        catalog.lab(&a.lab_id).expect("lab"),
                        catalog.lab(&b.lab_id).expect("lab"),
                    );
                    assert!(
                        a == b || !lab.conflicts_with(other),
                        "seed {seed}: {} and {} conflict",
                        a.lab_id,
                        b.lab_id
                    );
                }
            }
            // The five node-level seed labs conflict with each other: one of them fits.
            let seeds = [
                "cri-plugin-disabled",
                "runtime-endpoint",
                "apiserver-flags",
                "expired-certs",
                "etcd-restore",
            ];
            let node_level = drawn
                .iter()
                .filter(|t| seeds.contains(&t.lab_id.as_str()))
                .count();
            assert!(node_level <= 1, "seed {seed}: {drawn:?}");
        }
    }

    /// A default sandbox exam: 16 tasks.
    fn exam(catalog: &Catalog, seed: u64) -> Vec<DrawnTask> {
        Draw::new(catalog, BackendKind::Sandbox, Clusters::sandbox(), seed)
            .with_tasks(16)
            .take(16)
            .collect()
    }

    #[test]
    fn a_default_exam_takes_every_domain_at_its_weight_on_several_clusters() {
        let catalog = catalog();
        for seed in 0..100 {
            let tasks = exam(&catalog, seed);
            assert_eq!(tasks.len(), 16, "seed {seed}");
            let lab = |t: &DrawnTask| catalog.lab(&t.lab_id).expect("lab");
            let count = |d: Domain| tasks.iter().filter(|t| lab(t).domain == d).count();
            // 30/25/20/15/10 % of 16, largest remainders first.
            assert_eq!(
                Domain::ALL.map(count),
                [5, 4, 3, 2, 2].map(|n| n as usize),
                "seed {seed}: {:?}: {:?}",
                Domain::ALL,
                tasks
                    .iter()
                    .map(|t| format!("{}@{}", t.lab_id, t.cluster))
                    .collect::<Vec<_>>()
            );
            let clusters: Vec<u32> = tasks.iter().map(|t| t.cluster).collect();
            let most = *clusters.iter().max().expect("tasks") as usize;
            assert!(
                (2..=MAX_CLUSTERS).contains(&most),
                "seed {seed}: {most} clusters"
            );
            for a in &tasks {
                for b in tasks.iter().filter(|b| b != &a && b.cluster == a.cluster) {
                    assert!(
                        !lab(a).breaks_control_plane()
                            && !lab(a).claims().contains("file//root/.kube/config"),
                        "seed {seed}: {} breaks its control plane but shares cluster {} with {}",
                        a.lab_id,
                        a.cluster,
                        b.lab_id
                    );
                    assert!(
                        !lab(a).conflicts_with(lab(b)),
                        "seed {seed}: {} and {}",
                        a.lab_id,
                        b.lab_id
                    );
                }
            }
        }
    }

    #[test]
    fn three_seeds_draw_clearly_different_exams() {
        let catalog = catalog();
        let exams: Vec<Vec<String>> = (1..=3)
            .map(|seed| exam(&catalog, seed).into_iter().map(|t| t.lab_id).collect())
            .collect();
        // What the library's size forces: a domain with fewer labs than two exams take of it.
        let forced: usize = Domain::ALL
            .into_iter()
            .map(|d| {
                let labs = catalog
                    .labs()
                    .iter()
                    .filter(|lab| lab.domain == d && lab.backends.contains(&BackendKind::Sandbox))
                    .count();
                let taken = exams[0]
                    .iter()
                    .filter(|id| catalog.lab(id).expect("lab").domain == d)
                    .count();
                (2 * taken).saturating_sub(labs)
            })
            .sum();
        for (i, a) in exams.iter().enumerate() {
            for b in &exams[i + 1..] {
                let shared: Vec<&String> = a.iter().filter(|id| b.contains(id)).collect();
                // One more at most: a lab that cannot sit beside those drawn (no cluster left
                // for it, or a conflict) makes the draw take the next one in its domain's order.
                assert!(
                    shared.len() <= forced + 1,
                    "{a:?} and {b:?} share {shared:?}; the library forces {forced}"
                );
            }
        }
    }

    #[test]
    fn an_emptied_cluster_takes_a_replacement_within_the_own_clusters_limit() {
        let catalog = catalog();
        let lab = |id: &str| catalog.lab(id).expect("lab");
        let (own, other_own, shared) = (
            lab("scheduler-down"),
            lab("apiserver-crash-logs"),
            lab("rbac-pod-reader"),
        );
        assert!(own.breaks_control_plane() && other_own.breaks_control_plane());
        let mut clusters = Clusters::new(6, 1);
        clusters.add(clusters.place(own).expect("room"), own);
        clusters.add(clusters.place(shared).expect("room"), shared);
        clusters.remove(&shared.id);
        assert_eq!(
            clusters.place(other_own),
            None,
            "the emptied shared cluster would be a second cluster of its own"
        );
        assert_eq!(clusters.place(shared), Some(2), "a shared task takes it");
        clusters.remove(&own.id);
        assert_eq!(clusters.place(other_own), Some(1), "the emptied own one");
    }

    #[test]
    fn a_rejected_task_is_replaced_by_another_lab() {
        let catalog = catalog();
        let mut draw = Draw::new(&catalog, BackendKind::Kind, Clusters::one_shared(), 3);
        let first = draw.next().expect("a task");
        draw.reject(&first.lab_id);
        let second = draw.next().expect("a replacement");
        assert_ne!(first.lab_id, second.lab_id);
    }

    #[test]
    fn an_exam_draws_every_domain_that_has_labs() {
        let catalog = catalog();
        let drawn: Vec<Domain> = (0..10)
            .flat_map(|seed| draw_all(&catalog, false, seed, 16))
            .map(|task| catalog.lab(&task.lab_id).expect("lab").domain)
            .collect();
        for domain in Domain::ALL {
            let has_labs = catalog
                .labs()
                .iter()
                .any(|lab| lab.domain == domain && lab.backends.contains(&BackendKind::Sandbox));
            assert_eq!(drawn.contains(&domain), has_labs, "{domain}");
        }
        assert!(drawn.contains(&Domain::WorkloadsScheduling) && drawn.contains(&Domain::Storage));
    }

    #[test]
    fn weights_follow_the_cka_domains() {
        // Over many seeds, the first task's domain follows the CKA weights (troubleshooting
        // 30%).
        let catalog = catalog();
        let troubleshooting = (0..2000)
            .filter(|&seed| {
                let task = &draw_all(&catalog, false, seed, 1)[0];
                catalog.lab(&task.lab_id).expect("lab").domain == Domain::Troubleshooting
            })
            .count();
        let share = troubleshooting as f64 / 2000.0;
        // A domain without labs gives its weight to the others.
        let weighed: u32 = Domain::ALL
            .into_iter()
            .filter(|d| {
                catalog
                    .labs()
                    .iter()
                    .any(|lab| lab.domain == *d && lab.backends.contains(&BackendKind::Sandbox))
            })
            .map(Domain::exam_weight)
            .sum();
        let expected = 30.0 / f64::from(weighed);
        assert!(
            (share - expected).abs() < 0.04,
            "troubleshooting share {share}, expected {expected}"
        );
    }
}
