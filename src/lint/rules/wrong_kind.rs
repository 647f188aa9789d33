use crate::diagnostic::RuleMeta;
use crate::diagnostic::{Diagnostic, Severity, Span};
use crate::lint::Context;
use crate::nodeconfig::KIND;

pub const META: RuleMeta = RuleMeta {
    code: "NC204",
    name: "wrong-kind",
    severity: Severity::Error,
    summary: "kind is missing or is not NodeConfig",
    explanation: "nodeadm decodes `application/node.eks.aws` parts as `kind: NodeConfig`. A \
missing kind fails the decode (discarding all user-data NodeConfig); a different kind fails with \
`failed to decode \"<Kind>\" (wrong Kind)`, which is fatal (docs §1.3). The name is \
case-sensitive.\n\nFix: `kind: NodeConfig`.",
};

pub fn check(cx: &Context, out: &mut Vec<Diagnostic>) {
    for doc in &cx.docs {
        let Some(obj) = doc.value().and_then(|v| v.as_object()) else { continue };
        let (msg, span) = match obj.get("kind") {
            None => {
                (format!("{} has no `kind`: nodeadm cannot decode it", cx.where_(doc.part)), doc.span_of("", false))
            }
            Some(v) if v.as_str() == Some(KIND) => continue,
            Some(v) => {
                let s = v.as_str().map_or_else(|| v.to_string(), str::to_string);
                (format!("`kind: {s}` is not `{KIND}` (nodeadm's kind is case-sensitive)"), doc.span_of("/kind", false))
            }
        };
        out.push(
            Diagnostic::new(&META, msg)
                .with_help(format!("use `kind: {KIND}`"))
                .with_span(span.unwrap_or(Span::part(doc.part.index, 0, 0)))
                .with_part(cx.part_index(doc.part))
                .with_pointer("/kind"),
        );
    }
}
