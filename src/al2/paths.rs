//! The one table of AL2 node paths user data wrote to, who read each on AL2 and what reads it
//! on AL2023 (`../shared/docs/al2-node.md` §1, §3, §4, §7, from `templates/al2/**` at amazon-eks-ami
//! 0ab84280; AL2023 side: nodeadm at 81fec2e8, docs §1–§3). Every write the node model sees is
//! translated or reported through its row, so one place says what each path means.

/// What a path is, as far as the model cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    /// `/etc/eks/bootstrap.sh`.
    BootstrapScript,
    /// `/etc/kubernetes/kubelet/kubelet-config.json` (KCJ).
    KubeletConfig,
    /// `/etc/systemd/system/kubelet.service`, and the containerd-path copy source.
    KubeletUnit,
    /// `/etc/systemd/system/kubelet.service.d/*.conf`.
    KubeletDropIn,
    /// `/etc/eks/containerd/containerd-config.toml`: bootstrap.sh's template.
    ContainerdTemplate,
    /// `/etc/containerd/config.toml`.
    ContainerdConfig,
    /// `/etc/containerd/config.d/*.toml`: merged by containerd's `imports`.
    ContainerdImport,
    /// `/etc/containerd/certs.d/**`: registry hosts files (`config_path`).
    ContainerdHosts,
    /// `/etc/systemd/system/containerd.service.d/*.conf`.
    ContainerdDropIn,
    /// `/etc/docker/**`, `/etc/sysconfig/docker`, docker.service and its drop-ins.
    Docker,
    /// `/etc/eks/eni-max-pods.txt`.
    EniMaxPods,
    /// `/etc/profile.d/*`, `/etc/environment`, shell rc files.
    LoginEnv,
    /// `/var/lib/kubelet/kubeconfig`, `/etc/kubernetes/pki/*`.
    Kubeconfig,
    /// `/etc/eks/image-credential-provider/*`.
    CredentialProvider,
    /// `sandbox-image.service` and its drop-ins.
    SandboxImage,
    /// Files AL2023 reads the same way (fstab, sysctl, limits, other units, user files).
    Same,
}

/// Who reads a path on AL2023.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reader {
    /// A NodeConfig field replaces the file.
    Field(&'static str),
    /// Nothing reads it; the setting is lost unless translated.
    Nothing,
    /// The same reader as on AL2; a shell part keeps working.
    Same,
}

pub struct Row {
    pub pattern: &'static str,
    pub kind: Kind,
    /// Who read it on AL2, and when.
    pub al2: &'static str,
    pub al2023: Reader,
    /// The AL2023 way, for the report.
    pub instead: &'static str,
}

/// Longest pattern first where patterns nest; `*` matches within one path segment, a trailing
/// `/` matches the whole tree.
pub const TABLE: &[Row] = &[
    Row {
        pattern: "/etc/eks/bootstrap.sh",
        kind: Kind::BootstrapScript,
        al2: "the bootstrap.sh call that followed the edit",
        al2023: Reader::Nothing,
        instead: "on AL2023 /etc/eks/bootstrap.sh is a stub that exits 1; what the edit changed is translated into NodeConfig fields",
    },
    Row {
        pattern: "/etc/kubernetes/kubelet/kubelet-config.json",
        kind: Kind::KubeletConfig,
        al2: "kubelet --config, at every start; bootstrap.sh rewrote clusterDNS, evictionHard, kubeReserved, providerID, maxPods and the cgroup keys",
        al2023: Reader::Field("spec.kubelet.config"),
        instead: "nodeadm writes /etc/kubernetes/kubelet/config.json itself and merges spec.kubelet.config over it as a drop-in",
    },
    Row {
        pattern: "/etc/systemd/system/kubelet.service.d/",
        kind: Kind::KubeletDropIn,
        al2: "systemd, after kubelet.service, in file-name order: Environment=KUBELET_EXTRA_ARGS/KUBELET_ARGS reached the kubelet command line",
        al2023: Reader::Field("spec.kubelet.flags / spec.kubelet.config"),
        instead: "AL2023's kubelet.service runs `kubelet $NODEADM_KUBELET_ARGS` from an EnvironmentFile nodeadm writes; KUBELET_EXTRA_ARGS is read by nothing",
    },
    Row {
        pattern: "/etc/systemd/system/kubelet.service",
        kind: Kind::KubeletUnit,
        al2: "systemd; on the containerd path bootstrap.sh copied /etc/eks/containerd/kubelet-containerd.service over it",
        al2023: Reader::Field("spec.kubelet.flags / spec.kubelet.config"),
        instead: "nodeadm owns the kubelet unit and its command line; kubelet settings go in spec.kubelet",
    },
    Row {
        pattern: "/etc/eks/containerd/kubelet-containerd.service",
        kind: Kind::KubeletUnit,
        al2: "bootstrap.sh, which copied it over kubelet.service",
        al2023: Reader::Field("spec.kubelet.flags / spec.kubelet.config"),
        instead: "nodeadm owns the kubelet unit and its command line; kubelet settings go in spec.kubelet",
    },
    Row {
        pattern: "/etc/eks/containerd/containerd-config.toml",
        kind: Kind::ContainerdTemplate,
        al2: "bootstrap.sh, which substituted SANDBOX_IMAGE and copied it to /etc/containerd/config.toml",
        al2023: Reader::Field("spec.containerd.config"),
        instead: "/etc/eks/containerd does not exist on AL2023; spec.containerd.config is merged over the config nodeadm generates",
    },
    Row {
        pattern: "/etc/containerd/config.toml",
        kind: Kind::ContainerdConfig,
        al2: "containerd at its next start; bootstrap.sh replaced it with its template when they differed",
        al2023: Reader::Field("spec.containerd.config"),
        instead: "nodeadm writes /etc/containerd/config.toml itself (again whenever the config phase re-runs); spec.containerd.config is merged into it",
    },
    Row {
        pattern: "/etc/containerd/config.d/",
        kind: Kind::ContainerdImport,
        al2: "containerd, through `imports` in the AMI's config (a plugin table there replaced the main config's)",
        al2023: Reader::Field("spec.containerd.config"),
        instead: "nodeadm's containerd config has no `imports`, so config.d is ignored; the tables go in spec.containerd.config",
    },
    Row {
        pattern: "/etc/containerd/certs.d/",
        kind: Kind::ContainerdHosts,
        al2: "containerd's CRI registry (`config_path` includes /etc/containerd/certs.d)",
        al2023: Reader::Same,
        instead: "nodeadm's config also sets config_path to /etc/containerd/certs.d, and scripts run before containerd starts: kept",
    },
    Row {
        pattern: "/etc/systemd/system/containerd.service.d/",
        kind: Kind::ContainerdDropIn,
        al2: "systemd, for containerd's environment (proxies)",
        al2023: Reader::Field("spec.instance.environment.containerd"),
        instead: "nodeadm writes containerd's environment from spec.instance.environment",
    },
    Row {
        pattern: "/etc/systemd/system/sandbox-image.service",
        kind: Kind::SandboxImage,
        al2: "sandbox-image.service, which pulled the pause image from ECR at every boot",
        al2023: Reader::Nothing,
        instead: "the AL2023 AMI caches the pause image (localhost/kubernetes/pause); there is no sandbox-image.service",
    },
    Row {
        pattern: "/etc/systemd/system/sandbox-image.service.d/",
        kind: Kind::SandboxImage,
        al2: "sandbox-image.service (its environment, e.g. a proxy for the ECR pull)",
        al2023: Reader::Nothing,
        instead: "the AL2023 AMI caches the pause image (localhost/kubernetes/pause); there is no sandbox-image.service",
    },
    Row {
        pattern: "/etc/systemd/system/docker.service.d/",
        kind: Kind::Docker,
        al2: "systemd, for dockerd's environment (docker era only)",
        al2023: Reader::Nothing,
        instead: "AL2023 has no Docker; containerd's environment is spec.instance.environment.containerd",
    },
    Row {
        pattern: "/etc/docker/",
        kind: Kind::Docker,
        al2: "dockerd, only on AMIs for Kubernetes 1.23 and older (the docker runtime)",
        al2023: Reader::Nothing,
        instead: "AL2023 has no Docker; log rotation is kubelet's containerLogMaxSize/containerLogMaxFiles, ulimits are containerd.baseRuntimeSpec, registry mirrors are /etc/containerd/certs.d hosts files",
    },
    Row {
        pattern: "/etc/sysconfig/docker",
        kind: Kind::Docker,
        al2: "docker.service's EnvironmentFile (docker era only)",
        al2023: Reader::Nothing,
        instead: "AL2023 has no Docker",
    },
    Row {
        pattern: "/etc/systemd/system/docker.service",
        kind: Kind::Docker,
        al2: "systemd, docker era only",
        al2023: Reader::Nothing,
        instead: "AL2023 has no Docker; containerd's environment is spec.instance.environment.containerd",
    },
    Row {
        pattern: "/etc/eks/eni-max-pods.txt",
        kind: Kind::EniMaxPods,
        al2: "bootstrap.sh, for maxPods and the kubeReserved memory it derived",
        al2023: Reader::Nothing,
        instead: "nodeadm embeds its instance table; set spec.kubelet.config.maxPods or maxPodsExpression",
    },
    Row {
        pattern: "/etc/profile.d/",
        kind: Kind::LoginEnv,
        al2: "login shells only (not cloud-init scripts, bootstrap.sh or services, unless sourced)",
        al2023: Reader::Same,
        instead: "the same on AL2023: login shells only; services take spec.instance.environment",
    },
    Row {
        pattern: "/etc/environment",
        kind: Kind::LoginEnv,
        al2: "PAM sessions, and units that name it in EnvironmentFile=",
        al2023: Reader::Same,
        instead: "the same on AL2023; nodeadm's services take spec.instance.environment",
    },
    Row {
        pattern: "/var/lib/kubelet/kubeconfig",
        kind: Kind::Kubeconfig,
        al2: "the kubelet (bootstrap.sh, when called, filled in the endpoint and name)",
        al2023: Reader::Field("spec.cluster"),
        instead: "nodeadm-config writes the kubeconfig from spec.cluster before any script runs",
    },
    Row {
        pattern: "/etc/kubernetes/pki/",
        kind: Kind::Kubeconfig,
        al2: "the kubelet (bootstrap.sh, when called, wrote ca.crt)",
        al2023: Reader::Field("spec.cluster.certificateAuthority"),
        instead: "nodeadm-config writes the CA from spec.cluster.certificateAuthority",
    },
    Row {
        pattern: "/etc/eks/image-credential-provider/",
        kind: Kind::CredentialProvider,
        al2: "the kubelet's image credential provider flags",
        al2023: Reader::Nothing,
        instead: "nodeadm writes its own credential provider config and rewrites it whenever the config phase runs",
    },
];

fn matches(pattern: &str, path: &str) -> bool {
    if let Some(dir) = pattern.strip_suffix('/') {
        return path.starts_with(pattern) || path == dir;
    }
    pattern == path
}

/// The row for a path (a normalised absolute path).
pub fn row(path: &str) -> Option<&'static Row> {
    let path = normalise(path);
    TABLE.iter().filter(|r| matches(r.pattern, &path)).max_by_key(|r| r.pattern.len())
}

/// What a path is (`Same` when the table does not name it).
pub fn kind(path: &str) -> Kind {
    row(path).map_or(Kind::Same, |r| r.kind)
}

/// `//` and `/./` collapsed; a trailing `/` kept off.
pub fn normalise(path: &str) -> String {
    let mut out = String::new();
    for seg in path.split('/') {
        if seg.is_empty() || seg == "." {
            continue;
        }
        out.push('/');
        out.push_str(seg);
    }
    if out.is_empty() { "/".into() } else { out }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_find_their_row() {
        assert_eq!(kind("/etc/systemd/system/kubelet.service.d/40-extra.conf"), Kind::KubeletDropIn);
        assert_eq!(kind("/etc/systemd/system/kubelet.service"), Kind::KubeletUnit);
        assert_eq!(kind("/etc/containerd//config.d/spegel.toml"), Kind::ContainerdImport);
        assert_eq!(kind("/etc/containerd/certs.d/docker.io/hosts.toml"), Kind::ContainerdHosts);
        assert_eq!(kind("/etc/kubernetes/kubelet/kubelet-config.json"), Kind::KubeletConfig);
        assert_eq!(kind("/etc/docker/daemon.json"), Kind::Docker);
        assert_eq!(kind("/etc/fstab"), Kind::Same);
        assert_eq!(kind("/etc/systemd/system/sandbox-image.service.d/proxy.conf"), Kind::SandboxImage);
        assert_eq!(kind("/etc/systemd/system/docker.service.d/http-proxy.conf"), Kind::Docker);
    }

    #[test]
    fn every_row_says_what_replaces_it() {
        for r in TABLE {
            assert!(r.pattern.starts_with('/') && !r.al2.is_empty() && !r.instead.is_empty(), "{}", r.pattern);
        }
    }
}
