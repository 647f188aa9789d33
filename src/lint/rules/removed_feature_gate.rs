//! NC224: a kubelet feature gate Kubernetes has removed (kubernetes/website "Feature Gates
//! (removed)", derived into `al2/removed-feature-gates.tsv`). The kubelet checks gates before it
//! starts and exits on one it does not recognise, so the node never joins.

use crate::al2::feature_gates;
use crate::diagnostic::RuleMeta;
use crate::diagnostic::{Diagnostic, Severity};
use crate::lint::Context;
use crate::nodeconfig::pointer::Pointer as _;

pub const META: RuleMeta = RuleMeta {
    code: "NC224",
    name: "removed-feature-gate",
    severity: Severity::Error,
    summary: "a kubelet feature gate Kubernetes has removed",
    explanation: "Kubernetes removes a feature gate some releases after its feature went GA (or \
was dropped); from then on the kubelet rejects it (`unrecognized feature gate`) and does not start, \
so the node never joins. AL2 nodes on old Kubernetes versions accepted gates such as \
`CSIMigrationAWS` (removed after 1.26) or `DynamicKubeletConfig` (after 1.25); AL2023 AMIs run \
newer kubelets. The table comes from the Kubernetes website's list of removed gates.\n\nFix: \
delete the gate: its feature is always on (or gone) on the kubelet that rejects it. Without \
`--kubernetes-version` the rule assumes Kubernetes 1.30, the oldest version it treats as current.",
};

pub fn check(cx: &Context, out: &mut Vec<Diagnostic>) {
    let minor = cx.kubernetes_version.unwrap_or(feature_gates::AL2023_MIN_MINOR);
    for doc in &cx.docs {
        let Some(gates) =
            doc.value().and_then(|v| v.at("/spec/kubelet/config/featureGates")).and_then(|v| v.as_object())
        else {
            continue;
        };
        for gate in gates.keys() {
            let Some(last) = feature_gates::last_minor(gate).filter(|l| *l < minor) else { continue };
            let pointer = format!("/spec/kubelet/config/featureGates/{gate}");
            out.push(
                Diagnostic::new(
                    &META,
                    match cx.kubernetes_version {
                        Some(_) => format!("feature gate `{gate}` was removed after Kubernetes 1.{last}: the kubelet of Kubernetes 1.{minor} rejects it and does not start"),
                        None => format!("feature gate `{gate}` was removed after Kubernetes 1.{last}: the kubelet of current AMIs (Kubernetes 1.{minor} and later) rejects it and does not start"),
                    },
                )
                .with_help("delete the gate; its feature is always on (or gone) in this kubelet")
                .with_span(doc.span_or_start(&pointer, true))
                .with_part(cx.part_index(doc.part))
                .with_pointer(&pointer),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::{LintOptions, lint};
    use crate::{Source, Target};

    fn codes(gates: &str, version: Option<u32>) -> usize {
        let doc = format!(
            "apiVersion: node.eks.aws/v1alpha1\nkind: NodeConfig\nspec:\n  kubelet:\n    config:\n      featureGates:\n{gates}"
        );
        let r = lint(
            &Source::new("t", doc),
            &LintOptions { target: Target::Mng, kubernetes_version: version, ..Default::default() },
        );
        r.findings.iter().filter(|f| f.diagnostic.code == "NC224").count()
    }

    #[test]
    fn removed_gates_are_errors_for_the_kubelet_version() {
        assert_eq!(codes("        CSIMigrationAWS: true\n        RotateKubeletServerCertificate: true\n", None), 1);
        assert_eq!(codes("        SeccompDefault: true\n", Some(28)), 0, "still recognised by 1.28");
        assert_eq!(codes("        SeccompDefault: true\n", Some(29)), 1);
    }
}
