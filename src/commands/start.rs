use std::time::Duration;

use clap::Args;

use super::{Spinner, find_lab, open_store, runtime};
use crate::catalog::lab::Variant;
use crate::catalog::{BackendKind, Catalog, Lab};
use crate::engine::backend::Backend;
use crate::engine::checks;
use crate::engine::steps::run_setup;
use crate::error::{Error, ExitStatus, Result};
use crate::home::Home;
use crate::sandbox::SandboxNode;
use crate::session::Session;
use crate::store::{CheckOutcome, Verdict};
use crate::ui::Ui;

/// Start a lab: build (or rebuild) the node, break it, verify the break, and show the task.
#[derive(Debug, Args)]
pub struct StartArgs {
    /// The lab's id (`ckalab labs` lists them).
    lab: String,

    /// Where to run it: `kind` (ckalab's kind cluster, picked when it is up) or `sandbox`
    /// (picked otherwise; needs no Docker).
    #[arg(long, value_parser = ["sandbox", "kind"])]
    backend: Option<String>,

    /// Show only the symptom, not the task: diagnose cold, as on a real incident.
    #[arg(long)]
    blind: bool,

    /// Pick the lab's variant (for labs that break in several ways), instead of drawing one.
    #[arg(long)]
    variant: Option<String>,

    /// Seed for drawing the variant, so the same seed gives the same break.
    #[arg(long)]
    seed: Option<u64>,
}

pub fn run(ui: &mut Ui, args: StartArgs) -> Result<ExitStatus> {
    let catalog = Catalog::load()?;
    let lab = find_lab(&catalog, &args.lab)?;
    let variant = pick_variant(lab, args.variant.as_deref(), args.seed)?;
    let home = Home::from_env()?;
    home.ensure()?;
    let store = open_store()?;
    let backend_kind = choose_backend(ui, &home, args.backend.as_deref())?;
    if !lab.backends.contains(&backend_kind) {
        return Err(Error::System(format!(
            "lab `{}` does not run on the {backend_kind} backend\nhint: its backends are {}",
            lab.id,
            lab.backends
                .iter()
                .map(|b| b.id())
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }

    // A lab in progress ends here; its node is rebuilt (sandbox) or put back (kind) below.
    if let Some(previous) = Session::load(&home) {
        ui.line(ui.dim(format!("(ending the lab in progress: {})", previous.lab_id)))?;
        Session::clear(&home);
    }
    let progress = Spinner::new();
    let rt = runtime()?;
    let backend = match backend_kind {
        BackendKind::Sandbox => {
            progress
                .phase("building the sandbox node: PKI, manifests, containerd and kubelet config");
            let node = SandboxNode::create(&home)?;
            progress.phase("starting containerd, the kubelet, etcd and the API server");
            node.start_agent()?;
            let backend = Backend::Sandbox(node);
            rt.block_on(wait_healthy(&backend, Duration::from_secs(60)))?;
            backend
        }
        BackendKind::Kind => {
            progress.phase("checking ckalab's kind cluster");
            let backend = super::open_backend(&home, BackendKind::Kind, None)?;
            // An earlier lab's changes go first, so breaks never stack up.
            progress.phase("putting back what an earlier lab changed");
            super::reset::put_back_and_restart(&backend)?;
            progress.phase("waiting for a healthy control plane");
            rt.block_on(wait_healthy(&backend, Duration::from_secs(180)))?;
            backend
        }
    };

    progress.phase(&format!("breaking the node: {}", lab.title));
    rt.block_on(run_setup(&backend, &lab.setup_steps(variant)))?;
    progress.phase("verifying the break took effect");
    let verified = rt.block_on(verify_broken(&backend, lab, variant));
    progress.finish();

    let now = crate::clock::now();
    let attempt_id = store.start_attempt(
        &lab.id,
        variant.map(|v| v.id.as_str()),
        backend_kind.id(),
        args.blind,
        now,
    )?;
    if let Err(reason) = verified {
        let mut store = store;
        let outcome = CheckOutcome {
            name: "the break took effect".into(),
            verdict: Verdict::Invalid,
            message: reason.clone(),
        };
        store.record_grading(attempt_id, now, Verdict::Invalid, &[outcome])?;
        ui.error(&format!("the lab could not be set up: {reason}\nThis attempt is recorded as INVALID, not as a failure.\nhint: `ckalab reset`, then start again; if it repeats, please report it"));
        return Ok(ExitStatus::Invalid);
    }
    let session = Session {
        attempt_id,
        lab_id: lab.id.clone(),
        variant: variant.map(|v| v.id.clone()),
        backend: backend_kind,
        kind: match &backend {
            Backend::Kind(kind) => Some(kind.target()),
            Backend::Sandbox(_) => None,
        },
        started_at: now,
        blind: args.blind,
        hints_shown: 0,
        solution_revealed: false,
        passed_at: None,
    };
    session
        .save(&home)
        .map_err(|e| Error::System(format!("cannot save the session: {e}")))?;

    let layout = backend.layout();
    ui.line(ui.bold(format!("{} — {}", lab.id, lab.title)))?;
    let node = match backend_kind {
        BackendKind::Sandbox => format!("sandbox node {}", layout.root),
        BackendKind::Kind => format!("kind node {}", layout.node_name),
    };
    ui.line(ui.dim(format!(
        "{node} · about {} minutes · the clock is running",
        lab.minutes
    )))?;
    ui.line("")?;
    if args.blind {
        ui.line(ui.bold("Symptom (cold diagnosis: find the cause yourself)"))?;
        ui.line(lab.symptom.trim())?;
    } else {
        ui.line(ui.bold("Task"))?;
        ui.line(layout.render(&lab.task).unwrap_or_default().trim())?;
    }
    ui.line("")?;
    if backend_kind == BackendKind::Sandbox {
        ui.line(format!(
            "The node's / is {}: a path like /etc/kubernetes in a manifest is that directory's etc/kubernetes.",
            layout.root
        ))?;
    }
    ui.line("Open a shell on the node: `ckalab shell` (systemctl, journalctl, crictl, etcdctl work there).")?;
    ui.line(format!(
        "Lesson: `ckalab learn {}` · hints: `ckalab hint` · grade: `ckalab check`",
        lab.lesson
    ))?;
    Ok(ExitStatus::Success)
}

/// The backend asked for, or kind when ckalab's cluster is up and the sandbox otherwise; says
/// which when it chose.
pub(super) fn choose_backend(
    ui: &mut Ui,
    home: &Home,
    wanted: Option<&str>,
) -> Result<BackendKind> {
    match wanted {
        Some("kind") => Ok(BackendKind::Kind),
        Some(_) => Ok(BackendKind::Sandbox),
        None => {
            let cluster = super::kind_cluster(home);
            // No kind, no docker, or no cluster: all mean the sandbox.
            let up = cluster.exists().unwrap_or(false);
            ui.line(ui.dim(if up {
                format!(
                    "(ckalab's kind cluster `{}` is up: using the kind backend; `--backend sandbox` for the sandbox)",
                    cluster.name
                )
            } else {
                "(no ckalab kind cluster is up: using the sandbox backend)".to_string()
            }))?;
            Ok(if up {
                BackendKind::Kind
            } else {
                BackendKind::Sandbox
            })
        }
    }
}

fn pick_variant<'l>(
    lab: &'l Lab,
    wanted: Option<&str>,
    seed: Option<u64>,
) -> Result<Option<&'l Variant>> {
    if lab.variants.is_empty() && wanted.is_none() {
        return Ok(None);
    }
    if let Some(name) = wanted {
        return lab
            .variant(name)
            .map(Some)
            .ok_or_else(|| Error::UnknownVariant {
                lab: lab.id.clone(),
                name: name.to_string(),
                known: lab
                    .variants
                    .iter()
                    .map(|v| v.id.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            });
    }
    let mut rng = seed.map_or_else(fastrand::Rng::new, fastrand::Rng::with_seed);
    Ok(Some(&lab.variants[rng.usize(..lab.variants.len())]))
}

/// A node is healthy when it is Ready, etcd is healthy and the API server answers.
pub async fn wait_healthy(backend: &Backend, timeout: Duration) -> Result<()> {
    use crate::catalog::check::Check;
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let mut last = None;
        for check in [Check::NodeReady, Check::EtcdHealthy, Check::ApiserverReady] {
            let result = checks::grade(backend, &check).await;
            if result.verdict != Verdict::Pass {
                last = Some(result);
                break;
            }
        }
        let Some(failing) = last else { return Ok(()) };
        if failing.verdict == Verdict::Invalid || tokio::time::Instant::now() >= deadline {
            let reason = format!("{}: {}", failing.name, failing.message);
            return Err(match backend {
                Backend::Sandbox(_) => Error::Sandbox(crate::sandbox::SandboxError::Build {
                    path: backend.host_path("/"),
                    reason: format!("the fresh node is not healthy: {reason}"),
                }),
                Backend::Kind(_) => Error::System(format!(
                    "ckalab's kind cluster is not healthy: {reason}\nhint: `ckalab cluster status` shows its nodes; `ckalab cluster down` then `up` rebuilds it"
                )),
            });
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Polls the lab's expected breaks until each fails for its reason (a kubelet notices a change
/// within seconds, not at once), or gives up after 45 s with what it saw.
pub async fn verify_broken(
    backend: &Backend,
    lab: &Lab,
    variant: Option<&Variant>,
) -> std::result::Result<(), String> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(45);
    loop {
        let mut problem = None;
        for expected in lab.expected_breaks(variant) {
            let result = checks::grade(backend, &expected.check).await;
            let reason_ok = expected
                .reason
                .as_deref()
                .is_none_or(|r| result.message.contains(r));
            if result.verdict != Verdict::Fail || !reason_ok {
                let wanted = expected
                    .reason
                    .map(|r| format!(" with \"{r}\""))
                    .unwrap_or_default();
                problem = Some(format!(
                    "\"{}\" should fail{wanted}, but: {} ({})",
                    result.name,
                    result.message,
                    result.verdict.as_str()
                ));
                break;
            }
        }
        match problem {
            None => return Ok(()),
            Some(p) if tokio::time::Instant::now() >= deadline => return Err(p),
            Some(_) => tokio::time::sleep(Duration::from_millis(250)).await,
        }
    }
}
