//! Drawing an exam's tasks: a domain by its CKA weight, then a lab of that domain, from the
//! labs the backend can run; the same seed draws the same tasks in the same order.

use crate::catalog::{BackendKind, Catalog, Domain, Lab};

/// One drawn task.
#[derive(Debug, Clone, PartialEq)]
pub struct DrawnTask {
    pub lab_id: String,
    pub variant: Option<String>,
    /// A task's weight: the minutes a prepared candidate needs, as the CKA weighs longer tasks
    /// more.
    pub points: f64,
}

/// The draw in progress: every call to `next` gives the following task, so a task pre-flight
/// rejects is replaced by the next one the seed gives.
pub struct Draw<'c> {
    rng: fastrand::Rng,
    labs: Vec<&'c Lab>,
    /// Whether tasks share one node (kind), so conflicting labs may not be drawn together.
    shared_node: bool,
    /// Labs drawn or rejected: never drawn again.
    used: Vec<&'c Lab>,
    kept: Vec<&'c Lab>,
}

impl<'c> Draw<'c> {
    pub fn new(catalog: &'c Catalog, backend: BackendKind, shared_node: bool, seed: u64) -> Self {
        Draw {
            rng: fastrand::Rng::with_seed(seed),
            labs: catalog
                .labs()
                .iter()
                .filter(|lab| lab.backends.contains(&backend))
                .collect(),
            shared_node,
            used: Vec::new(),
            kept: Vec::new(),
        }
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
            .filter(|lab| !self.shared_node || self.kept.iter().all(|k| !k.conflicts_with(lab)))
            .collect()
    }

    /// Takes back the last drawn task (pre-flight rejected it): it is never drawn again.
    pub fn reject(&mut self, lab_id: &str) {
        self.kept.retain(|lab| lab.id != lab_id);
    }
}

impl Iterator for Draw<'_> {
    type Item = DrawnTask;

    /// The next task, or `None` when no lab is left that fits.
    fn next(&mut self) -> Option<DrawnTask> {
        let available = self.available();
        let weights: Vec<(Domain, u32)> = Domain::ALL
            .into_iter()
            .filter(|d| available.iter().any(|lab| lab.domain == *d))
            .map(|d| (d, d.exam_weight()))
            .collect();
        let total: u32 = weights.iter().map(|(_, w)| w).sum();
        if total == 0 {
            return None;
        }
        let mut pick = self.rng.u32(..total);
        let domain = weights
            .iter()
            .find(|(_, w)| {
                let hit = pick < *w;
                pick = pick.saturating_sub(*w);
                hit
            })
            .map(|(d, _)| *d)?;
        let in_domain: Vec<&Lab> = available
            .into_iter()
            .filter(|lab| lab.domain == domain)
            .collect();
        let lab = in_domain[self.rng.usize(..in_domain.len())];
        let variant = (!lab.variants.is_empty()).then(|| {
            lab.variants[self.rng.usize(..lab.variants.len())]
                .id
                .clone()
        });
        self.used.push(lab);
        self.kept.push(lab);
        Some(DrawnTask {
            lab_id: lab.id.clone(),
            variant,
            points: f64::from(lab.minutes),
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
        let mut draw = Draw::new(catalog, BackendKind::Sandbox, shared, seed);
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

    #[test]
    fn a_rejected_task_is_replaced_by_another_lab() {
        let catalog = catalog();
        let mut draw = Draw::new(&catalog, BackendKind::Kind, true, 3);
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
