//! PF601: the Kubernetes version against the AMIs that exist for it (EKS AMI deprecation FAQ:
//! 1.32 is the last minor with AL2 AMIs; AL2023 AMIs from 1.23).

use super::super::inventory::{Inventory, version};
use super::super::{Finding, codes};
use crate::diagnostic::Severity;

pub fn check(inv: &Inventory) -> Vec<Finding> {
    // The API server's version is the live one; EKS's says the same minor.
    let (raw, from) = match (
        inv.kubernetes.as_ref().and_then(|k| k.server_version.clone()),
        inv.aws.as_ref().and_then(|a| a.version.clone()),
    ) {
        (Some(v), _) => (v, "the API server"),
        (None, Some(v)) => (v, "EKS"),
        (None, None) => return Vec::new(),
    };
    let Some((1, minor, _)) = version(&raw) else {
        return vec![Finding::new(
            &codes::KUBERNETES_VERSION,
            Severity::Warning,
            "cluster",
            format!("{from} reports version `{raw}`, which is not a Kubernetes 1.x version"),
        )];
    };
    let al2_nodes = inv.kubernetes.as_ref().map_or(0, |k| k.nodes.iter().filter(|n| n.is_al2()).count());
    let al2_groups = inv.aws.as_ref().map_or(0, |a| {
        a.nodegroups.iter().filter(|g| g.ami_type.as_deref().is_some_and(|t| t.starts_with("AL2_"))).count()
    });
    let left = match (al2_nodes, al2_groups) {
        (0, 0) => String::new(),
        (n, 0) => format!("; {n} AL2 node(s) are left"),
        (0, g) => format!("; {g} AL2 managed node group(s) are left"),
        (n, g) => format!("; {n} AL2 node(s) and {g} AL2 managed node group(s) are left"),
    };
    let (severity, message) = match minor {
        m if m < 23 => (
            Severity::Error,
            format!(
                "Kubernetes 1.{m} ({from}): EKS publishes AL2023 AMIs from 1.23 only; upgrade the cluster before moving nodes"
            ),
        ),
        m if m >= 33 && !left.is_empty() => (
            Severity::Error,
            format!(
                "Kubernetes 1.{m} ({from}) has no AL2 AMIs{left}: they can be neither replaced nor upgraded, only moved to AL2023"
            ),
        ),
        32 if !left.is_empty() => (
            Severity::Warning,
            format!("Kubernetes 1.32 ({from}) is the last minor with AL2 AMIs{left}: move them before upgrading"),
        ),
        m => (Severity::Info, format!("Kubernetes 1.{m} ({from}){left}")),
    };
    vec![Finding::new(&codes::KUBERNETES_VERSION, severity, "cluster", message)]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::preflight::inventory::{KubeView, Node};

    fn at(v: &str, al2: usize) -> Inventory {
        let nodes = (0..al2)
            .map(|i| Node { name: format!("n{i}"), os_image: "Amazon Linux 2".into(), ..Default::default() })
            .collect();
        Inventory {
            kubernetes: Some(KubeView { server_version: Some(v.into()), nodes, ..Default::default() }),
            aws: None,
        }
    }

    #[test]
    fn the_version_decides_with_the_al2_nodes_left() {
        let sev = |v: &str, n: usize| check(&at(v, n))[0].severity;
        assert_eq!(sev("v1.33.1-eks-1", 2), Severity::Error);
        assert_eq!(sev("v1.33.1-eks-1", 0), Severity::Info);
        assert_eq!(sev("v1.32.0", 1), Severity::Warning);
        assert_eq!(sev("v1.22.17", 0), Severity::Error);
        assert_eq!(sev("v1.29.3", 1), Severity::Info);
        assert!(check(&at("v1.33.1", 2))[0].message.contains("2 AL2 node(s) are left"));
        assert!(check(&Inventory::default()).is_empty());
    }
}
