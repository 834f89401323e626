use clap::Args;

use super::{Spinner, find_lab, open_store, runtime};
use crate::catalog::lab::Variant;
use crate::catalog::{BackendKind, Catalog, Lab};
use crate::engine::run::verify_broken;
use crate::engine::steps::run_setup;
use crate::error::{Error, ExitStatus, Result};
use crate::home::Home;
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
        return Err(Error::UnsupportedBackend {
            lab: lab.id.clone(),
            backend: backend_kind,
            known: lab
                .backends
                .iter()
                .map(|b| b.id())
                .collect::<Vec<_>>()
                .join(", "),
        });
    }

    // A lab in progress ends here; its node is rebuilt (sandbox) or put back (kind) below.
    if let Some(previous) = Session::load(&home) {
        ui.line(ui.dim(format!("(ending the lab in progress: {})", previous.lab_id)))?;
        Session::clear(&home);
    }
    let progress = Spinner::new();
    let rt = runtime()?;
    let backend = rt.block_on(crate::backend::prepare(
        &home,
        backend_kind,
        None,
        &|phase| progress.phase(phase),
    ))?;
    progress.phase(&format!("breaking the node: {}", lab.title));
    let broken = rt.block_on(async {
        run_setup(backend.as_ref(), &lab.setup_steps(variant))
            .await
            .map_err(|e| e.to_string())?;
        progress.phase("verifying the break took effect");
        verify_broken(backend.as_ref(), lab, variant).await
    });
    progress.finish();

    let now = crate::clock::now();
    let attempt_id = store.start_attempt(
        &lab.id,
        variant.map(|v| v.id.as_str()),
        backend_kind.id(),
        args.blind,
        now,
    )?;
    if let Err(reason) = broken {
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
        target: backend.target(),
        started_at: now,
        blind: args.blind,
        hints_shown: 0,
        solution_revealed: false,
        passed_at: None,
    };
    session.save(&home)?;

    let layout = backend.layout();
    ui.line(ui.bold(format!("{} — {}", lab.id, lab.title)))?;
    ui.line(ui.dim(format!(
        "{} · about {} minutes · the clock is running",
        backend.describe(),
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
            "In `ckalab shell` the node's files are at their real paths (/etc/kubernetes, /var/lib/etcd, ...); on this machine they are under {}.",
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
            let (up, name) = crate::backend::kind_is_up(home);
            ui.line(ui.dim(if up {
                format!(
                    "(ckalab's kind cluster `{name}` is up: using the kind backend; `--backend sandbox` for the sandbox)"
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
