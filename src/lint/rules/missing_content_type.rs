use crate::diagnostic::RuleMeta;
use crate::diagnostic::{Diagnostic, Severity};
use crate::lint::Context;
use crate::userdata::Defect;

pub const META: RuleMeta = RuleMeta {
    code: "UD107",
    name: "missing-content-type",
    severity: Severity::Warning,
    summary: "a part has no Content-Type header",
    explanation: "A part without Content-Type is `text/plain` (RFC 2045 §5.2). nodeadm only reads \
parts typed `application/node.eks.aws`, so a NodeConfig here is ignored; cloud-init runs the \
part only if its first line says what it is (`#!`, `#cloud-config`, …).\n\nFix: give every part \
a Content-Type: `application/node.eks.aws` for NodeConfig, `text/x-shellscript` for scripts, \
`text/cloud-config` for cloud-config.",
};

pub fn check(cx: &Context, out: &mut Vec<Diagnostic>) {
    for d in &cx.env.defects {
        let Defect::MissingContentType { part, span } = d else { continue };
        out.push(
            Diagnostic::new(
                &META,
                format!("part {} has no Content-Type header, so it is text/plain: nodeadm never reads it", part + 1),
            )
            .with_help("add `Content-Type: application/node.eks.aws` (NodeConfig) or `text/x-shellscript` (script)")
            .with_span(*span)
            .with_part(Some(*part)),
        );
    }
}
