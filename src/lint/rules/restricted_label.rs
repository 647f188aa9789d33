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

pub fn check(cx: &Context, out: &mut Vec<Diagnostic>) {
    for (di, _, flag, span) in super::flags::items(cx) {
        let Some(labels) = flag.strip_prefix("--node-labels=") else { continue };
        let Some(doc) = cx.docs.get(di) else { continue };
        for kv in labels.split(',') {
            let key = kv.split('=').next().unwrap_or_default();
            if crate::nodeconfig::labels::kubelet_may_set(key) {
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
                .with_part(cx.part_index(doc.part)),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::nodeconfig::labels::kubelet_may_set as allowed;

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
