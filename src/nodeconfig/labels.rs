//! Node label keys the kubelet may set on its own node: with the NodeRestriction admission
//! plugin (on in EKS) only a fixed list under `kubernetes.io`/`k8s.io` (Kubernetes docs,
//! "NodeRestriction"); and the prefix EKS keeps for itself (`eks.amazonaws.com/`, which the EKS
//! API refuses in a node group's labels).

/// Whether a kubelet may register its node with this label key.
pub fn kubelet_may_set(key: &str) -> bool {
    let Some((prefix, _)) = key.split_once('/') else { return true };
    let restricted = prefix == "kubernetes.io"
        || prefix.ends_with(".kubernetes.io")
        || prefix == "k8s.io"
        || prefix.ends_with(".k8s.io");
    if !restricted {
        return true;
    }
    if prefix == "node-restriction.kubernetes.io" {
        return false;
    }
    matches!(
        key,
        "kubernetes.io/hostname"
            | "kubernetes.io/arch"
            | "kubernetes.io/os"
            | "beta.kubernetes.io/arch"
            | "beta.kubernetes.io/os"
            | "beta.kubernetes.io/instance-type"
            | "node.kubernetes.io/instance-type"
    ) || matches!(
        prefix,
        "kubelet.kubernetes.io" | "node.kubernetes.io" | "topology.kubernetes.io" | "failure-domain.beta.kubernetes.io"
    )
}

/// Whether EKS keeps the key for itself (`eks.amazonaws.com/…`).
pub fn eks_reserved(key: &str) -> bool {
    key.split_once('/').is_some_and(|(p, _)| p == "eks.amazonaws.com" || p.ends_with(".eks.amazonaws.com"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn restricted_and_reserved_keys() {
        assert!(kubelet_may_set("team") && kubelet_may_set("example.com/role"));
        assert!(kubelet_may_set("node.kubernetes.io/lifecycle") && kubelet_may_set("topology.kubernetes.io/zone"));
        assert!(!kubelet_may_set("node-role.kubernetes.io/worker") && !kubelet_may_set("kubernetes.io/role"));
        assert!(eks_reserved("eks.amazonaws.com/nodegroup") && !eks_reserved("example.com/eks"));
    }
}
