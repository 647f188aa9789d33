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
