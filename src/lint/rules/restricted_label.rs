//! NC213: the NodeRestriction admission plugin limits which `kubernetes.io`/`k8s.io` labels a
//! kubelet may set on its own node (Kubernetes docs, "NodeRestriction"; EKS enables it).

use crate::diagnostic::RuleMeta;
use crate::diagnostic::{Diagnostic, Severity};
use crate::lint::Context;

pub const META: RuleMeta = RuleMeta {
    code: "NC213",
    name: "restricted-node-label",
    severity: Severity::Error,
    summary: "a node label the kubelet may not set",
    explanation: "With the NodeRestriction admission plugin (on in EKS) a kubelet may only set \
labels under `kubernetes.io`/`k8s.io` from a fixed list (`kubernetes.io/arch`, \
`kubernetes.io/os`, `kubernetes.io/hostname`, `node.kubernetes.io/instance-type`, the \
`topology.kubernetes.io/` and `failure-domain.beta.kubernetes.io/` keys, and the \
`kubelet.kubernetes.io/` and `node.kubernetes.io/` prefixes); `node-restriction.kubernetes.io/` is \
reserved for administrators. A restricted label makes node registration fail.\n\nFix: use your \
own domain (`example.com/role`), or set it from the control plane.",
};

fn allowed(key: &str) -> bool {
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

pub fn check(cx: &Context, out: &mut Vec<Diagnostic>) {
    for (di, _, flag, span) in super::flags::items(cx) {
        let Some(labels) = flag.strip_prefix("--node-labels=") else { continue };
        for kv in labels.split(',') {
            let key = kv.split('=').next().unwrap_or_default();
            if allowed(key) {
                continue;
            }
            out.push(
                Diagnostic::new(
                    &META,
                    format!(
                        "label `{key}` is in a restricted domain: the kubelet may not set it and registration fails"
                    ),
                )
                .with_help("use your own domain, e.g. `example.com/role`")
                .with_span(span)
                .with_part(cx.part_index(cx.docs[di].part)),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::allowed;

    #[test]
    fn node_restriction_allow_list() {
        for ok in [
            "team",
            "example.com/role",
            "node.kubernetes.io/lifecycle",
            "topology.kubernetes.io/zone",
            "kubernetes.io/arch",
            "karpenter.k8s.aws/instance-family",
        ] {
            assert!(allowed(ok), "{ok}");
        }
        for bad in [
            "node-role.kubernetes.io/worker",
            "kubernetes.io/role",
            "node-restriction.kubernetes.io/pool",
            "example.k8s.io/x",
            "k8s.io/x",
        ] {
            assert!(!allowed(bad), "{bad}");
        }
    }
}
