use crate::engine::cluster::Backend;
use crate::engine::verdict::CheckResult;

/// Finds the runtime endpoint where the kubelet does (a kubeadm-flags.env flag beats
/// config.yaml) and calls CRI v1 `Version` on it.
pub async fn grade(backend: &dyn Backend, name: &str) -> CheckResult {
    let config = match backend.read_text(crate::kubelet::CONFIG_FILE).await {
        Ok(text) => match crate::engine::edit::parse_yaml(&text) {
            Ok(config) => config,
            Err(e) => {
                return CheckResult::fail(name, format!("the kubelet cannot read its config: {e}"));
            }
        },
        Err(fault) => return CheckResult::fault(name, &fault.context("the kubelet's config")),
    };
    // No flags file is fine: the kubelet then reads config.yaml alone.
    let flags = backend
        .read_text(crate::kubelet::FLAGS_FILE)
        .await
        .unwrap_or_default();
    let endpoint = crate::kubelet::effective_endpoint(&flags, &config);
    match backend.cri_version(&endpoint).await {
        Ok(runtime) => CheckResult::pass(name, format!("{endpoint} answers CRI v1 ({runtime})")),
        Err(fault) => CheckResult::fault(name, &fault),
    }
}
