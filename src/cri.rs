//! A CRI v1 client: the call the kubelet makes when it starts (`RuntimeService/Version` on its
//! configured runtime endpoint), over the runtime's unix socket with real gRPC. Errors read like
//! the kubelet's, so a learner sees in ckalab what `journalctl -u kubelet` shows on a real node.

use std::path::{Path, PathBuf};
use std::time::Duration;

use hyper_util::rt::TokioIo;
use tokio::net::UnixStream;
use tonic::transport::{Endpoint, Uri};

mod proto {
    tonic::include_proto!("runtime.v1");
}

use proto::VersionRequest;
use proto::runtime_service_client::RuntimeServiceClient;

/// How long one CRI call may take: the kubelet gives up on a silent runtime quickly too.
const TIMEOUT: Duration = Duration::from_secs(3);

/// The runtime's answer to `Version`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuntimeVersion {
    pub runtime_name: String,
    pub runtime_version: String,
    /// `v1` when the CRI v1 API is served.
    pub runtime_api_version: String,
}

/// Why the runtime did not answer, worded as the kubelet logs it.
#[derive(Debug, Clone, thiserror::Error)]
pub enum CriError {
    /// The endpoint is not a `unix://` URL.
    #[error("parse endpoint {endpoint:?}: protocol {scheme:?} not supported")]
    Scheme { endpoint: String, scheme: String },
    /// Nothing listens on the socket (or it cannot be reached).
    #[error(
        "validate CRI v1 runtime API for endpoint {endpoint:?}: rpc error: code = Unavailable desc = connection error: desc = \"transport: Error while dialing: dial unix {socket}: connect: {reason}\""
    )]
    Unavailable {
        endpoint: String,
        socket: String,
        reason: String,
    },
    /// The runtime answered with a gRPC error (`Unimplemented` when its CRI plugin is off).
    #[error(
        "validate CRI v1 runtime API for endpoint {endpoint:?}: rpc error: code = {code} desc = {message}"
    )]
    Rpc {
        endpoint: String,
        code: String,
        message: String,
    },
}

/// The socket path of a `unix://` endpoint, as a node path.
pub fn socket_path(endpoint: &str) -> Result<PathBuf, CriError> {
    match endpoint.split_once("://") {
        Some(("unix", path)) if path.starts_with('/') => Ok(PathBuf::from(path)),
        Some((scheme, _)) => Err(CriError::Scheme {
            endpoint: endpoint.to_string(),
            scheme: scheme.to_string(),
        }),
        // The kubelet still accepts a bare path, with a deprecation warning.
        None if endpoint.starts_with('/') => Ok(PathBuf::from(endpoint)),
        None => Err(CriError::Scheme {
            endpoint: endpoint.to_string(),
            scheme: String::new(),
        }),
    }
}

/// Calls `runtime.v1.RuntimeService/Version` on the socket at `host_socket` (where the node's
/// socket really is); `endpoint` is the configured endpoint, for messages.
pub async fn version(host_socket: &Path, endpoint: &str) -> Result<RuntimeVersion, CriError> {
    let node_socket = socket_path(endpoint)?;
    let unavailable = |reason: String| CriError::Unavailable {
        endpoint: endpoint.to_string(),
        socket: node_socket.display().to_string(),
        reason,
    };
    // Dial first ourselves: the io error is the learner's clue ("no such file or directory").
    let stream = UnixStream::connect(host_socket)
        .await
        .map_err(|e| unavailable(io_reason(&e)))?;
    let mut stream = Some(stream);
    let channel = Endpoint::from_static("http://localhost")
        .timeout(TIMEOUT)
        .connect_timeout(TIMEOUT)
        .connect_with_connector(tower::service_fn(move |_: Uri| {
            let stream = stream.take();
            async move {
                stream
                    .map(TokioIo::new)
                    .ok_or_else(|| std::io::Error::other("the connection is gone"))
            }
        }))
        .await
        .map_err(|e| unavailable(e.to_string()))?;
    let request = VersionRequest {
        version: "v1".to_string(),
    };
    let answer = tokio::time::timeout(TIMEOUT, RuntimeServiceClient::new(channel).version(request))
        .await
        .map_err(|_| rpc(endpoint, "DeadlineExceeded", "context deadline exceeded"))?
        .map_err(|status| rpc(endpoint, &format!("{:?}", status.code()), status.message()))?
        .into_inner();
    Ok(RuntimeVersion {
        runtime_name: answer.runtime_name,
        runtime_version: answer.runtime_version,
        runtime_api_version: answer.runtime_api_version,
    })
}

fn rpc(endpoint: &str, code: &str, message: &str) -> CriError {
    CriError::Rpc {
        endpoint: endpoint.to_string(),
        code: code.to_string(),
        message: message.to_string(),
    }
}

/// An io error the way Go prints it: "no such file or directory", "connection refused".
fn io_reason(err: &std::io::Error) -> String {
    match err.kind() {
        std::io::ErrorKind::NotFound => "no such file or directory".into(),
        std::io::ErrorKind::ConnectionRefused => "connection refused".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        _ => err.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_parse_like_the_kubelet() {
        assert_eq!(
            socket_path("unix:///run/containerd/containerd.sock").ok(),
            Some(PathBuf::from("/run/containerd/containerd.sock"))
        );
        let err = socket_path("tcp://127.0.0.1:1234").expect_err("tcp is refused");
        assert!(err.to_string().contains("protocol \"tcp\" not supported"));
    }

    #[tokio::test]
    async fn a_missing_socket_is_unavailable_with_the_node_path() {
        let dir = tempfile::tempdir().expect("tempdir");
        let err = version(
            &dir.path().join("dockershim.sock"),
            "unix:///var/run/dockershim.sock",
        )
        .await
        .expect_err("nothing listens");
        let text = err.to_string();
        assert!(text.contains("code = Unavailable"), "{text}");
        assert!(
            text.contains("dial unix /var/run/dockershim.sock: connect: no such file or directory"),
            "{text}"
        );
    }
}
