//! The files of an AL2 EKS node that decide its kubelet and containerd, as the AMI shipped them
//! (al2-node §1; contents from `templates/al2/runtime/{kubelet-config.json,
//! kubelet-containerd.service,containerd-config.toml}` at amazon-eks-ami 0ab84280, written here
//! as the values they hold) and as user data and bootstrap.sh changed them. Each file remembers
//! its last writer, so the report can say whose value the node ran with.

use std::collections::BTreeMap;

pub const KCJ: &str = "/etc/kubernetes/kubelet/kubelet-config.json";
pub const KUBELET_UNIT: &str = "/etc/systemd/system/kubelet.service";
pub const KUBELET_UNIT_CONTAINERD: &str = "/etc/eks/containerd/kubelet-containerd.service";
pub const KUBELET_DROP_INS: &str = "/etc/systemd/system/kubelet.service.d/";
pub const CONTAINERD_TEMPLATE: &str = "/etc/eks/containerd/containerd-config.toml";
pub const CONTAINERD_CONFIG: &str = "/etc/containerd/config.toml";
pub const CONTAINERD_IMPORTS: &str = "/etc/containerd/config.d/";
pub const CONTAINERD_DROP_INS: &str = "/etc/systemd/system/containerd.service.d/";
pub const BOOTSTRAP: &str = "/etc/eks/bootstrap.sh";
pub const ENI_MAX_PODS: &str = "/etc/eks/eni-max-pods.txt";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Content {
    Known(String),
    /// Only the node knows (a download, a runtime value): why.
    Unknown(String),
}

impl Content {
    pub fn known(&self) -> Option<&str> {
        match self {
            Content::Known(s) => Some(s),
            Content::Unknown(_) => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Writer {
    Ami,
    Bootstrap,
    /// A user-data command (its index in the script).
    User(usize),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct File {
    pub content: Content,
    pub writer: Writer,
    /// The last write happened inside a branch or `&&`/`||` list: it may not have run.
    pub conditional: bool,
}

#[derive(Debug, Clone, Default)]
pub struct Fs {
    pub files: BTreeMap<String, File>,
}

/// The AMI's kubelet-config.json (al2-node §3.4), pretty-printed as the AMI file is.
pub fn ami_kubelet_config() -> String {
    static TEXT: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    TEXT.get_or_init(build_ami_kubelet_config).clone()
}

fn build_ami_kubelet_config() -> String {
    let v = serde_json::json!({
        "kind": "KubeletConfiguration",
        "apiVersion": "kubelet.config.k8s.io/v1beta1",
        "address": "0.0.0.0",
        "authentication": {
            "anonymous": {"enabled": false},
            "webhook": {"cacheTTL": "2m0s", "enabled": true},
            "x509": {"clientCAFile": "/etc/kubernetes/pki/ca.crt"}
        },
        "authorization": {"mode": "Webhook", "webhook": {"cacheAuthorizedTTL": "5m0s", "cacheUnauthorizedTTL": "30s"}},
        "clusterDomain": "cluster.local",
        "hairpinMode": "hairpin-veth",
        "readOnlyPort": 0,
        "cgroupDriver": "cgroupfs",
        "cgroupRoot": "/",
        "featureGates": {"RotateKubeletServerCertificate": true},
        "protectKernelDefaults": true,
        "serializeImagePulls": false,
        "serverTLSBootstrap": true,
        "tlsCipherSuites": [
            "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
            "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305", "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
            "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305", "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
            "TLS_RSA_WITH_AES_256_GCM_SHA384", "TLS_RSA_WITH_AES_128_GCM_SHA256"
        ]
    });
    let mut s = serde_json::to_string_pretty(&v).unwrap_or_default();
    s.push('\n');
    s
}

/// The kubelet unit bootstrap.sh installs on the containerd path (al2-node §3.1).
pub fn ami_kubelet_unit_containerd() -> String {
    [
        "[Unit]",
        "Description=Kubernetes Kubelet",
        "After=containerd.service sandbox-image.service",
        "Requires=containerd.service sandbox-image.service",
        "",
        "[Service]",
        "Slice=runtime.slice",
        "ExecStartPre=/sbin/iptables -P FORWARD ACCEPT -w 5",
        "ExecStart=/usr/bin/kubelet \\",
        "    --config /etc/kubernetes/kubelet/kubelet-config.json \\",
        "    --kubeconfig /var/lib/kubelet/kubeconfig \\",
        "    --container-runtime-endpoint unix:///run/containerd/containerd.sock \\",
        "    --image-credential-provider-config /etc/eks/image-credential-provider/config.json \\",
        "    --image-credential-provider-bin-dir /etc/eks/image-credential-provider \\",
        "    $KUBELET_ARGS \\",
        "    $KUBELET_EXTRA_ARGS",
        "",
        "Restart=on-failure",
        "",
        "[Install]",
        "WantedBy=multi-user.target",
        "",
    ]
    .join("\n")
}

/// The unit the AMI installs at /etc/systemd/system/kubelet.service (`al2/runtime/kubelet.service`,
/// the dockerd variant, al2-node §1 and §3.1); bootstrap.sh copies the containerd variant over it.
pub fn ami_kubelet_unit_dockerd() -> String {
    [
        "[Unit]",
        "Description=Kubernetes Kubelet",
        "Documentation=https://github.com/kubernetes/kubernetes",
        "After=docker.service iptables-restore.service",
        "Requires=docker.service",
        "",
        "[Service]",
        "ExecStart=/usr/bin/kubelet \\",
        "    --config /etc/kubernetes/kubelet/kubelet-config.json \\",
        "    --kubeconfig /var/lib/kubelet/kubeconfig \\",
        "    --container-runtime docker \\",
        "    --network-plugin cni \\",
        "    --image-credential-provider-config /etc/eks/image-credential-provider/config.json \\",
        "    --image-credential-provider-bin-dir /etc/eks/image-credential-provider \\",
        "    $KUBELET_ARGS \\",
        "    $KUBELET_EXTRA_ARGS",
        "",
        "Restart=always",
        "RestartSec=5",
        "KillMode=process",
        "",
        "[Install]",
        "WantedBy=multi-user.target",
        "",
    ]
    .join("\n")
}

/// The containerd template bootstrap.sh fills in (al2-node §4.1, schema version 2).
pub fn ami_containerd_template() -> String {
    [
        "version = 2",
        "root = \"/var/lib/containerd\"",
        "state = \"/run/containerd\"",
        "imports = [\"/etc/containerd/config.d/*.toml\"]",
        "",
        "[grpc]",
        "address = \"/run/containerd/containerd.sock\"",
        "",
        "[plugins.\"io.containerd.grpc.v1.cri\".containerd]",
        "default_runtime_name = \"runc\"",
        "discard_unpacked_layers = true",
        "",
        "[plugins.\"io.containerd.grpc.v1.cri\"]",
        "sandbox_image = \"SANDBOX_IMAGE\"",
        "",
        "[plugins.\"io.containerd.grpc.v1.cri\".registry]",
        "config_path = \"/etc/containerd/certs.d:/etc/docker/certs.d\"",
        "",
        "[plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.runc]",
        "runtime_type = \"io.containerd.runc.v2\"",
        "",
        "[plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.runc.options]",
        "SystemdCgroup = true",
        "",
        "[plugins.\"io.containerd.grpc.v1.cri\".cni]",
        "bin_dir = \"/opt/cni/bin\"",
        "conf_dir = \"/etc/cni/net.d\"",
        "",
    ]
    .join("\n")
}

impl Fs {
    /// The node as the AMI boots it, before any user data.
    pub fn ami() -> Fs {
        let mut fs = Fs::default();
        let mut put = |p: &str, c: String| {
            fs.files
                .insert(p.to_string(), File { content: Content::Known(c), writer: Writer::Ami, conditional: false });
        };
        put(KCJ, ami_kubelet_config());
        put(KUBELET_UNIT, ami_kubelet_unit_dockerd());
        put(KUBELET_UNIT_CONTAINERD, ami_kubelet_unit_containerd());
        put(CONTAINERD_TEMPLATE, ami_containerd_template());
        put(BOOTSTRAP, super::bootstrap_script::skeleton());
        // Amazon Linux ships /etc/environment empty (the `setup` package); scripts append to it.
        put("/etc/environment", String::new());
        fs
    }

    pub fn get(&self, path: &str) -> Option<&File> {
        self.files.get(path)
    }

    pub fn content(&self, path: &str) -> Option<&Content> {
        self.files.get(path).map(|f| &f.content)
    }

    pub fn put(&mut self, path: &str, content: Content, writer: Writer, conditional: bool) {
        self.files.insert(path.to_string(), File { content, writer, conditional });
    }

    pub fn remove(&mut self, path: &str) {
        self.files.remove(path);
    }

    /// Files directly in a directory (`dir` ends with `/`), in file-name order.
    pub fn dir(&self, dir: &str) -> Vec<(&str, &File)> {
        self.files
            .iter()
            .filter(|(p, _)| p.strip_prefix(dir).is_some_and(|rest| !rest.is_empty() && !rest.contains('/')))
            .map(|(p, f)| (p.as_str(), f))
            .collect()
    }
}
