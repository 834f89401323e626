//! Asking a cluster's API server, the same way on every backend: one client configuration for
//! graders, objects addressed by apiVersion and kind through discovery, and the policy for what
//! a failed request means.

pub mod object;

use std::time::Duration;

use kube::config::{KubeConfigOptions, Kubeconfig};

use super::fault::Fault;

const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
const READ_TIMEOUT: Duration = Duration::from_secs(5);

/// A grader's client configuration from a kubeconfig file: the named context whatever the
/// file's current context (never the learner's own), retries off and short timeouts, so a
/// deliberately broken API server is graded in seconds instead of retried for minutes.
pub async fn grader_config(
    kubeconfig: &std::path::Path,
    context: Option<String>,
) -> Result<kube::Config, Fault> {
    let file = Kubeconfig::read_from(kubeconfig)
        .map_err(|e| Fault::grader(format!("cannot read {}: {e}", kubeconfig.display())))?;
    let options = KubeConfigOptions {
        context,
        ..KubeConfigOptions::default()
    };
    let mut config = kube::Config::from_custom_kubeconfig(file, &options)
        .await
        .map_err(|e| Fault::grader(format!("{}: {e}", kubeconfig.display())))?;
    // kube retries 429/503/504 with long back-off by default: a grader must not.
    config.default_retry = false;
    config.connect_timeout = Some(CONNECT_TIMEOUT);
    config.read_timeout = Some(READ_TIMEOUT);
    config.write_timeout = Some(READ_TIMEOUT);
    Ok(config)
}

/// The client kept in `slot`, made from `kubeconfig` the first time: for the node agent's loops,
/// which ask the API server every few seconds.
pub async fn cached_client(
    slot: &mut Option<kube::Client>,
    kubeconfig: &std::path::Path,
) -> Result<kube::Client, Fault> {
    if let Some(client) = slot {
        return Ok(client.clone());
    }
    let client = client(grader_config(kubeconfig, None).await?)?;
    *slot = Some(client.clone());
    Ok(client)
}

/// A client for a grader's configuration.
pub fn client(config: kube::Config) -> Result<kube::Client, Fault> {
    kube::Client::try_from(config)
        .map_err(|e| Fault::grader(format!("cannot build a Kubernetes client: {e}")))
}

/// What a failed request means. An API server that answered with an error, or did not answer
/// at all (refused, timed out, a certificate it should not serve), is the cluster's state:
/// the learner's to fix. A client ckalab could not even build is the grader's problem.
pub fn fault(err: &kube::Error) -> Fault {
    let why = crate::error::with_causes(err);
    match err {
        kube::Error::Api(status) => Fault::cluster(format!(
            "the API server answered {}: {}",
            status.code, status.message
        )),
        kube::Error::InferConfig(_)
        | kube::Error::InferKubeconfig(_)
        | kube::Error::Auth(_)
        | kube::Error::RustlsTls(_)
        | kube::Error::BuildRequest(_)
        | kube::Error::HttpError(_) => Fault::grader(format!("cannot ask the API server: {why}")),
        kube::Error::Discovery(_) => Fault::cluster(why),
        _ => Fault::cluster(format!("the API server does not answer: {why}")),
    }
}

/// The status code of an error the API server answered with.
pub fn status_code(err: &kube::Error) -> Option<u16> {
    match err {
        kube::Error::Api(status) => Some(status.code),
        _ => None,
    }
}
