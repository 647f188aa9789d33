use crate::diagnostic::RuleMeta;
use crate::diagnostic::{Diagnostic, Severity, Span};
use crate::lint::Context;
use crate::userdata::PartKind;

pub const META: RuleMeta = RuleMeta {
    code: "UD110",
    name: "no-nodeconfig",
    severity: Severity::Error,
    summary: "the user data has no NodeConfig, and nobody else supplies one",
    explanation: "nodeadm configures an AL2023 node only from `application/node.eks.aws` parts \
(or a bare NodeConfig document). With none, it logs `could not find NodeConfig within UserData`, \
has no cluster details, and the node never joins. That is fine only when someone else appends \
the NodeConfig: a managed node group on an EKS AMI (`--target mng`) or Karpenter \
(`--target karpenter`). For self-managed nodes and managed node groups with a custom AMI it is an \
error.\n\nFix: add a part with `Content-Type: application/node.eks.aws` holding a NodeConfig with \
the cluster section (`eks-userdata convert` writes one from AL2 bootstrap.sh flags).",
};

pub fn check(cx: &Context, out: &mut Vec<Diagnostic>) {
    if !cx.needs_cluster() || cx.env.nodeconfig_parts().next().is_some() {
        return;
    }
    // A payload that could not even be decoded already has its own finding.
    if cx.env.parts.is_empty() && !cx.env.payload.is_empty()
        || cx.env.defects.iter().any(|d| matches!(d, crate::userdata::Defect::InvalidGzip { part: None, .. }))
    {
        return;
    }
    let msg = if cx.env.payload.iter().all(u8::is_ascii_whitespace) {
        "the user data is empty: nodeadm finds no NodeConfig and the node never joins".to_string()
    } else if !cx.env.is_multipart() && cx.env.parts.first().is_some_and(|p| p.kind == PartKind::ShellScript) {
        "the user data is a shell script with no NodeConfig: nodeadm finds no configuration and the node never joins"
            .to_string()
    } else {
        "no part has `Content-Type: application/node.eks.aws`: nodeadm finds no NodeConfig and the node never joins"
            .to_string()
    };
    out.push(
        Diagnostic::new(&META, msg)
            .with_help(format!(
                "add an application/node.eks.aws part with the cluster section (`eks-userdata convert` writes one); with --target {} nobody else supplies it",
                cx.target
            ))
            .with_span(Span::payload(0, 0)),
    );
}
