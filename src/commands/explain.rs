use clap::Args;

use crate::catalog::Catalog;
use crate::error::{ExitStatus, Result};
use crate::ui::Ui;

/// Explain a Kubernetes component (`etcd`, `apiserver`, `kubelet`, ...): the lesson about it.
#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// The component: a lesson id or a common name for it.
    component: String,
}

pub fn run(ui: &mut Ui, args: ExplainArgs) -> Result<ExitStatus> {
    let catalog = Catalog::load()?;
    super::learn::render(ui, &catalog, &args.component)
}
