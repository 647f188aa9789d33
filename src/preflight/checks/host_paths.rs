//! PF608: `hostPath` volumes that only AL2 nodes fill: the Docker socket and directories (no
//! Docker on AL2023, containerd only), bootstrap.sh and AL2's kubelet files.

use super::super::inventory::Inventory;
use super::super::{Finding, codes};
use crate::diagnostic::Severity;

/// Path prefix, severity, what is wrong there on AL2023. (`/etc/eks` itself exists on AL2023:
/// nodeadm keeps the image credential provider there.)
const PATHS: [(&str, Severity, &str); 6] = [
    ("/var/run/docker.sock", Severity::Error, "the Docker socket: AL2023 has no Docker daemon"),
    ("/run/docker.sock", Severity::Error, "the Docker socket: AL2023 has no Docker daemon"),
    (
        "/var/lib/docker",
        Severity::Warning,
        "Docker's data directory: empty on AL2023 (containerd keeps /var/lib/containerd)",
    ),
    ("/etc/docker", Severity::Warning, "Docker's configuration: AL2023 has none"),
    ("/etc/eks/bootstrap.sh", Severity::Warning, "bootstrap.sh: AL2023 has nodeadm instead"),
    (
        "/etc/kubernetes/kubelet/kubelet-config.json",
        Severity::Warning,
        "AL2's kubelet config file: nodeadm writes /etc/kubernetes/kubelet/config.json",
    ),
];

pub fn check(inv: &Inventory) -> Vec<Finding> {
    let Some(k) = &inv.kubernetes else { return Vec::new() };
    let mut out = Vec::new();
    for w in &k.workloads {
        for p in &w.host_paths {
            let p = p.trim_end_matches('/');
            if let Some((_, severity, what)) =
                PATHS.iter().find(|(prefix, ..)| p == *prefix || p.starts_with(&format!("{prefix}/")))
            {
                out.push(Finding::new(
                    &codes::HOST_PATHS,
                    *severity,
                    w.subject(),
                    format!("mounts hostPath {p}, {what}"),
                ));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::preflight::inventory::{KubeView, Workload};

    #[test]
    fn the_docker_socket_is_an_error() {
        let inv = Inventory {
            kubernetes: Some(KubeView {
                workloads: vec![Workload {
                    kind: "DaemonSet".into(),
                    namespace: "ci".into(),
                    name: "dind".into(),
                    host_paths: vec!["/var/run/docker.sock".into(), "/var/log".into(), "/etc/eks/".into()],
                    ..Default::default()
                }],
                ..Default::default()
            }),
            aws: None,
        };
        let f = check(&inv);
        assert_eq!(f.iter().map(|f| f.severity).collect::<Vec<_>>(), [Severity::Error]);
    }
}
