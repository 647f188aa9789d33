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
        let body = cx.env.parts.get(*part).map(|p| p.body.as_slice()).unwrap_or_default();
        let first = body.split(|b| *b == b'\n').next().unwrap_or_default();
        let header_in_body =
            first.len() > 13 && first.get(..13).is_some_and(|h| h.eq_ignore_ascii_case(b"content-type:"));
        let kind = cx.env.parts.get(*part).map(|p| p.kind);
        let (message, help) = if header_in_body {
            (
                format!(
                    "part {} has no headers: a blank line right after its delimiter ended them, so its `Content-Type:` line is body text; the part is text/plain, which cloud-init does not run and nodeadm never reads",
                    part + 1
                ),
                "remove the blank line between the `--boundary` line and `Content-Type:`",
            )
        } else if kind.is_some_and(|k| k != crate::userdata::PartKind::Other) {
            (
                format!(
                    "part {} has no Content-Type header: cloud-init still types it by its first line, but nodeadm never reads it",
                    part + 1
                ),
                "add the Content-Type its first line implies (`text/x-shellscript`, `text/cloud-config`, …)",
            )
        } else {
            (
                format!("part {} has no Content-Type header, so it is text/plain: nodeadm never reads it", part + 1),
                "add `Content-Type: application/node.eks.aws` (NodeConfig) or `text/x-shellscript` (script)",
            )
        };
        out.push(Diagnostic::new(&META, message).with_help(help).with_span(*span).with_part(Some(*part)));
    }
}
