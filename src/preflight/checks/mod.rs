//! The preflight checks, one per file; each takes what was read and returns its findings.

mod al2_nodes;
mod cluster_version;
mod eksctl;
mod hop_limit;
mod host_paths;
mod imds;
mod java;
mod vpc_cni;

use super::Finding;
use super::codes;
use super::inventory::Inventory;
use crate::diagnostic::Severity;

pub use imds::needs_imds;

/// Every check, in code order; a side that was not read is said once per check that needs it.
pub fn all(inv: &Inventory) -> Vec<Finding> {
    let mut out = Vec::new();
    out.extend(cluster_version::check(inv));
    out.extend(al2_nodes::check(inv));
    out.extend(vpc_cni::check(inv));
    out.extend(eksctl::check(inv));
    out.extend(imds::check(inv));
    out.extend(hop_limit::check(inv));
    out.extend(java::check(inv));
    out.extend(host_paths::check(inv));
    if inv.kubernetes.is_none() {
        out.push(Finding::new(
            &codes::NOT_LOOKED_AT,
            Severity::Info,
            "Kubernetes API",
            "no kubeconfig was read: the node, workload, VPC CNI DaemonSet, IMDS, Java and host path checks did not run",
        ));
    }
    if inv.aws.is_none() {
        out.push(Finding::new(
            &codes::NOT_LOOKED_AT,
            Severity::Info,
            "AWS",
            "no cluster name or AWS credentials were given: the EKS version, add-on, node group, eksctl and launch template checks did not run",
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::preflight::inventory::{AwsView, KubeView};

    fn not_looked_at(inv: &Inventory) -> Vec<String> {
        all(inv).into_iter().filter(|f| f.code == "PF609").map(|f| f.subject).collect()
    }

    #[test]
    fn a_side_not_read_is_said_once() {
        assert_eq!(not_looked_at(&Inventory::default()), ["Kubernetes API", "AWS"]);
        let kube_only = Inventory { kubernetes: Some(KubeView::default()), ..Default::default() };
        assert_eq!(not_looked_at(&kube_only), ["AWS"]);
        let aws_only = Inventory { aws: Some(AwsView::default()), ..Default::default() };
        assert_eq!(not_looked_at(&aws_only), ["Kubernetes API"]);
        let both = Inventory { kubernetes: Some(KubeView::default()), aws: Some(AwsView::default()) };
        assert!(not_looked_at(&both).is_empty());
    }
}
