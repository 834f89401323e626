//! The files of a fresh kubeadm-shaped node, as kubeadm (1.35) would write them, with this
//! node's ports. Paths inside are node paths: the node's `/` is its directory.

use crate::catalog::Ports;

/// The node's address: everything listens on loopback so sandboxes never leave the machine.
pub const NODE_IP: &str = "127.0.0.1";

pub const CONTAINERD_SOCKET: &str = "/run/containerd/containerd.sock";

pub fn etcd_manifest(node: &str, ports: &Ports) -> String {
    let (c, p) = (ports.etcd_client, ports.etcd_peer);
    format!(
        r#"apiVersion: v1
kind: Pod
metadata:
  annotations:
    kubeadm.kubernetes.io/etcd.advertise-client-urls: https://{NODE_IP}:{c}
  labels:
    component: etcd
    tier: control-plane
  name: etcd
  namespace: kube-system
spec:
  containers:
  - command:
    - etcd
    - --advertise-client-urls=https://{NODE_IP}:{c}
    - --cert-file=/etc/kubernetes/pki/etcd/server.crt
    - --client-cert-auth=true
    - --data-dir=/var/lib/etcd
    - --initial-advertise-peer-urls=https://{NODE_IP}:{p}
    - --initial-cluster={node}=https://{NODE_IP}:{p}
    - --key-file=/etc/kubernetes/pki/etcd/server.key
    - --listen-client-urls=https://{NODE_IP}:{c}
    - --listen-peer-urls=https://{NODE_IP}:{p}
    - --name={node}
    - --peer-cert-file=/etc/kubernetes/pki/etcd/peer.crt
    - --peer-client-cert-auth=true
    - --peer-key-file=/etc/kubernetes/pki/etcd/peer.key
    - --peer-trusted-ca-file=/etc/kubernetes/pki/etcd/ca.crt
    - --snapshot-count=10000
    - --trusted-ca-file=/etc/kubernetes/pki/etcd/ca.crt
    image: registry.k8s.io/etcd:3.4.23-0
    name: etcd
    volumeMounts:
    - mountPath: /var/lib/etcd
      name: etcd-data
    - mountPath: /etc/kubernetes/pki/etcd
      name: etcd-certs
  hostNetwork: true
  priorityClassName: system-node-critical
  volumes:
  - hostPath:
      path: /etc/kubernetes/pki/etcd
      type: DirectoryOrCreate
    name: etcd-certs
  - hostPath:
      path: /var/lib/etcd
      type: DirectoryOrCreate
    name: etcd-data
"#
    )
}

pub fn apiserver_manifest(ports: &Ports) -> String {
    let (a, c) = (ports.apiserver, ports.etcd_client);
    format!(
        r#"apiVersion: v1
kind: Pod
metadata:
  annotations:
    kubeadm.kubernetes.io/kube-apiserver.advertise-address.endpoint: {NODE_IP}:{a}
  labels:
    component: kube-apiserver
    tier: control-plane
  name: kube-apiserver
  namespace: kube-system
spec:
  containers:
  - command:
    - kube-apiserver
    - --advertise-address={NODE_IP}
    - --allow-privileged=true
    - --authorization-mode=Node,RBAC
    - --bind-address={NODE_IP}
    - --client-ca-file=/etc/kubernetes/pki/ca.crt
    - --enable-admission-plugins=NodeRestriction
    - --enable-bootstrap-token-auth=true
    - --endpoint-reconciler-type=none
    - --etcd-cafile=/etc/kubernetes/pki/etcd/ca.crt
    - --etcd-certfile=/etc/kubernetes/pki/apiserver-etcd-client.crt
    - --etcd-keyfile=/etc/kubernetes/pki/apiserver-etcd-client.key
    - --etcd-servers=https://{NODE_IP}:{c}
    - --kubelet-client-certificate=/etc/kubernetes/pki/apiserver-kubelet-client.crt
    - --kubelet-client-key=/etc/kubernetes/pki/apiserver-kubelet-client.key
    - --kubelet-preferred-address-types=InternalIP,ExternalIP,Hostname
    - --proxy-client-cert-file=/etc/kubernetes/pki/front-proxy-client.crt
    - --proxy-client-key-file=/etc/kubernetes/pki/front-proxy-client.key
    - --requestheader-allowed-names=front-proxy-client
    - --requestheader-client-ca-file=/etc/kubernetes/pki/front-proxy-ca.crt
    - --requestheader-extra-headers-prefix=X-Remote-Extra-
    - --requestheader-group-headers=X-Remote-Group
    - --requestheader-username-headers=X-Remote-User
    - --secure-port={a}
    - --service-account-issuer=https://kubernetes.default.svc.cluster.local
    - --service-account-key-file=/etc/kubernetes/pki/sa.pub
    - --service-account-signing-key-file=/etc/kubernetes/pki/sa.key
    - --service-cluster-ip-range=10.96.0.0/12
    - --tls-cert-file=/etc/kubernetes/pki/apiserver.crt
    - --tls-private-key-file=/etc/kubernetes/pki/apiserver.key
    image: registry.k8s.io/kube-apiserver:v1.35.0
    name: kube-apiserver
    volumeMounts:
    - mountPath: /etc/ssl/certs
      name: ca-certs
      readOnly: true
    - mountPath: /etc/kubernetes/pki
      name: k8s-certs
      readOnly: true
  hostNetwork: true
  priorityClassName: system-node-critical
  volumes:
  - hostPath:
      path: /etc/ssl/certs
      type: DirectoryOrCreate
    name: ca-certs
  - hostPath:
      path: /etc/kubernetes/pki
      type: DirectoryOrCreate
    name: k8s-certs
"#
    )
}

/// kube-controller-manager's manifest as kubeadm writes it (its secure port moved, so two
/// sandboxes never collide).
pub fn controller_manager_manifest(ports: &Ports) -> String {
    control_plane_manifest(
        "kube-controller-manager",
        "controller-manager.conf",
        &[
            "--allocate-node-cidrs=true",
            "--authentication-kubeconfig=/etc/kubernetes/controller-manager.conf",
            "--authorization-kubeconfig=/etc/kubernetes/controller-manager.conf",
            "--bind-address=127.0.0.1",
            "--client-ca-file=/etc/kubernetes/pki/ca.crt",
            "--cluster-cidr=10.244.0.0/16",
            "--cluster-name=kubernetes",
            "--cluster-signing-cert-file=/etc/kubernetes/pki/ca.crt",
            "--cluster-signing-key-file=/etc/kubernetes/pki/ca.key",
            "--controllers=*,bootstrapsigner,tokencleaner",
            "--kubeconfig=/etc/kubernetes/controller-manager.conf",
            "--leader-elect=true",
            "--requestheader-client-ca-file=/etc/kubernetes/pki/front-proxy-ca.crt",
            "--root-ca-file=/etc/kubernetes/pki/ca.crt",
            &format!("--secure-port={}", ports.controller_manager),
            "--service-account-private-key-file=/etc/kubernetes/pki/sa.key",
            "--service-cluster-ip-range=10.96.0.0/12",
            "--use-service-account-credentials=true",
        ],
        true,
    )
}

/// kube-scheduler's manifest as kubeadm writes it (its secure port moved).
pub fn scheduler_manifest(ports: &Ports) -> String {
    control_plane_manifest(
        "kube-scheduler",
        "scheduler.conf",
        &[
            "--authentication-kubeconfig=/etc/kubernetes/scheduler.conf",
            "--authorization-kubeconfig=/etc/kubernetes/scheduler.conf",
            "--bind-address=127.0.0.1",
            "--kubeconfig=/etc/kubernetes/scheduler.conf",
            "--leader-elect=true",
            &format!("--secure-port={}", ports.scheduler),
        ],
        false,
    )
}

/// A control-plane static pod reading its kubeconfig (and, for the controller-manager, the
/// PKI) through hostPath volumes.
fn control_plane_manifest(component: &str, kubeconfig: &str, flags: &[&str], pki: bool) -> String {
    let command: String = flags.iter().map(|f| format!("    - {f}\n")).collect();
    let (pki_mount, pki_volume) = if pki {
        (
            "    - mountPath: /etc/kubernetes/pki\n      name: k8s-certs\n      readOnly: true\n",
            "  - hostPath:\n      path: /etc/kubernetes/pki\n      type: DirectoryOrCreate\n    name: k8s-certs\n",
        )
    } else {
        ("", "")
    };
    format!(
        r#"apiVersion: v1
kind: Pod
metadata:
  labels:
    component: {component}
    tier: control-plane
  name: {component}
  namespace: kube-system
spec:
  containers:
  - command:
    - {component}
{command}    image: registry.k8s.io/{component}:v1.35.0
    name: {component}
    volumeMounts:
{pki_mount}    - mountPath: /etc/kubernetes/{kubeconfig}
      name: kubeconfig
      readOnly: true
  hostNetwork: true
  priorityClassName: system-node-critical
  volumes:
{pki_volume}  - hostPath:
      path: /etc/kubernetes/{kubeconfig}
      type: FileOrCreate
    name: kubeconfig
"#
    )
}

/// containerd's config: version 2 like kind's, with its state kept inside the node directory.
pub fn containerd_config(root: &str) -> String {
    format!(
        r#"version = 2
root = "{root}/var/lib/containerd"
state = "{root}/run/containerd"

[grpc]
  address = "{root}{CONTAINERD_SOCKET}"

[ttrpc]
  address = "{root}{CONTAINERD_SOCKET}.ttrpc"

[debug]
  address = ""

[plugins]
  [plugins."io.containerd.grpc.v1.cri"]
    sandbox_image = "registry.k8s.io/pause:3.10"
"#
    )
}

/// The kubelet's config file, as kubeadm 1.35 writes it (the runtime endpoint lives here
/// since 1.34).
pub fn kubelet_config() -> String {
    format!(
        r#"apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
authentication:
  anonymous:
    enabled: false
  webhook:
    enabled: true
  x509:
    clientCAFile: /etc/kubernetes/pki/ca.crt
authorization:
  mode: Webhook
cgroupDriver: systemd
clusterDNS:
- 10.96.0.10
clusterDomain: cluster.local
containerRuntimeEndpoint: unix://{CONTAINERD_SOCKET}
healthzBindAddress: 127.0.0.1
healthzPort: 10248
rotateCertificates: true
staticPodPath: /etc/kubernetes/manifests
"#
    )
}

/// The flags kubeadm passes the kubelet on top of its config file. From 1.34 the runtime
/// endpoint is no longer among them, but an old runbook may add it back here (and it wins).
pub const KUBEADM_FLAGS: &str = "KUBELET_KUBEADM_ARGS=\"--node-ip=127.0.0.1\"\n";

/// crictl's own config, as kind nodes have it.
pub fn crictl_config() -> String {
    format!("runtime-endpoint: unix://{CONTAINERD_SOCKET}\n")
}

/// A kubeconfig for the node's API server as kubeadm writes one: `admin.conf` (what `kubectl`
/// and the graders use; group `kubeadm:cluster-admins`) or `super-admin.conf` (`system:masters`).
pub fn admin_kubeconfig(
    user: &str,
    ports: &Ports,
    ca_pem: &str,
    cert_pem: &str,
    key_pem: &str,
) -> String {
    use base64::Engine as _;
    let b64 = |text: &str| base64::engine::general_purpose::STANDARD.encode(text);
    format!(
        r#"apiVersion: v1
kind: Config
clusters:
- cluster:
    certificate-authority-data: {}
    server: https://{NODE_IP}:{}
  name: kubernetes
contexts:
- context:
    cluster: kubernetes
    user: {user}
  name: {user}@kubernetes
current-context: {user}@kubernetes
preferences: {{}}
users:
- name: {user}
  user:
    client-certificate-data: {}
    client-key-data: {}
"#,
        b64(ca_pem),
        ports.apiserver,
        b64(cert_pem),
        b64(key_pem)
    )
}
