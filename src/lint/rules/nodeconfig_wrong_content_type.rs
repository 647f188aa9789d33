use crate::diagnostic::RuleMeta;
use crate::diagnostic::{Diagnostic, Severity, Span};
use crate::lint::Context;
use crate::userdata::{PartKind, kind::looks_like_nodeconfig};

pub const META: RuleMeta = RuleMeta {
    code: "UD113",
    name: "nodeconfig-wrong-content-type",
    severity: Severity::Error,
    summary: "a part holds a NodeConfig but is not typed application/node.eks.aws",
    explanation: "nodeadm reads a part only if its media type is exactly \
`application/node.eks.aws` (docs §2.1). A NodeConfig in a `text/x-yaml`, `text/plain` or untyped \
part is silently skipped by nodeadm and by cloud-init.\n\nFix: set the part's header to \
`Content-Type: application/node.eks.aws`.",
};

pub fn check(cx: &Context, out: &mut Vec<Diagnostic>) {
    if !cx.env.is_multipart() {
        return;
    }
    for part in &cx.env.parts {
        if part.kind == PartKind::Other && looks_like_nodeconfig(&part.body) {
            let ct = part.media().map_or("no Content-Type".to_string(), |m| format!("Content-Type `{m}`"));
            let span = part
                .header("content-type")
                .map_or(Span::payload(part.start, part.start), |h| Span::payload(h.start, h.end));
            out.push(
                Diagnostic::new(
                    &META,
                    format!(
                        "part {} holds a NodeConfig but has {ct}: nodeadm only reads application/node.eks.aws parts",
                        part.index + 1
                    ),
                )
                .with_help("use `Content-Type: application/node.eks.aws`")
                .with_span(span)
                .with_part(Some(part.index)),
            );
        }
    }
}
