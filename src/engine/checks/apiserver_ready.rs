use crate::engine::api;
use crate::engine::cluster::Backend;
use crate::engine::verdict::CheckResult;

/// The API server answers `/readyz` over TLS verified against the cluster CA (ckalab's
/// kubeconfig carries that CA).
pub async fn grade(backend: &dyn Backend, name: &str) -> CheckResult {
    let client = match backend.client().await {
        Ok(client) => client,
        Err(fault) => return CheckResult::fault(name, &fault),
    };
    let request = match http::Request::get("/readyz").body(Vec::new()) {
        Ok(request) => request,
        Err(e) => return CheckResult::invalid(name, e.to_string()),
    };
    match client.request_text(request).await {
        Ok(body) => CheckResult::pass(name, format!("/readyz answered {}", body.trim())),
        Err(kube::Error::Api(status)) => CheckResult::fail(
            name,
            format!(
                "/readyz answered {}: {}",
                status.code,
                status.message.trim()
            ),
        ),
        Err(err) => CheckResult::fault(name, &api::fault(&err)),
    }
}
