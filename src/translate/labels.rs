//! Node labels a target carries itself: advice that the target's API accepts. EKS refuses
//! `eks.amazonaws.com/` labels on a managed node group (it sets them), and the kubelet refuses the
//! NodeRestriction-restricted `kubernetes.io`/`k8s.io` keys (`nodeconfig::labels`), so those are
//! not to be copied onto the node group.

use crate::nodeconfig::labels::{eks_reserved, kubelet_may_set};
use crate::target::Target;

/// What to do with the labels of a `--node-labels=…` flag the target supplies, when some of
/// them must not be copied; `None` when the generic advice holds.
pub(super) fn advice(target: Target, flag: &str) -> Option<String> {
    let labels = flag.split_once('=')?.1;
    let keys: Vec<&str> = labels.split(',').filter_map(|kv| kv.split('=').next()).filter(|k| !k.is_empty()).collect();
    let eks: Vec<&str> = keys.iter().copied().filter(|k| eks_reserved(k)).collect();
    let refused: Vec<&str> = keys.iter().copied().filter(|k| !eks_reserved(k) && !kubelet_may_set(k)).collect();
    if eks.is_empty() && refused.is_empty() {
        return None;
    }
    let keep: Vec<&str> = keys.iter().copied().filter(|k| !eks.contains(k) && !refused.contains(k)).collect();
    let who = if target == Target::Karpenter { "the NodePool's template labels" } else { "the node group's `labels`" };
    let mut parts = Vec::new();
    if !keep.is_empty() {
        parts.push(format!("set {} in {who}", keep.join(", ")));
    }
    if !eks.is_empty() {
        parts.push(format!(
            "drop {}: EKS sets `eks.amazonaws.com/` labels itself and refuses them in a node group",
            eks.join(", ")
        ));
    }
    if !refused.is_empty() {
        parts.push(format!(
            "drop {}: the kubelet may not set these `kubernetes.io`/`k8s.io` keys (NodeRestriction)",
            refused.join(", ")
        ));
    }
    Some(parts.join("; "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reserved_labels_are_not_advised_for_the_node_group() {
        let a =
            advice(Target::Mng, "--node-labels=eks.amazonaws.com/nodegroup=ng,team=a,node-role.kubernetes.io/worker=")
                .unwrap();
        assert!(
            a.contains("set team in the node group")
                && a.contains("drop eks.amazonaws.com/nodegroup")
                && a.contains("drop node-role.kubernetes.io/worker"),
            "{a}"
        );
        assert!(advice(Target::Mng, "--node-labels=team=a").is_none());
    }
}
