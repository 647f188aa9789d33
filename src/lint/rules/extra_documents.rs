use crate::diagnostic::RuleMeta;
use crate::diagnostic::{Diagnostic, Severity, Span};
use crate::lint::Context;

pub const META: RuleMeta = RuleMeta {
    code: "NC209",
    name: "extra-yaml-documents",
    severity: Severity::Warning,
    summary: "more than one YAML document in a NodeConfig part",
    explanation: "nodeadm converts a part with `sigs.k8s.io/yaml`, which reads only the first YAML \
document (docs §1.3). Documents after a `---` separator are ignored without a word.\n\nFix: put \
each NodeConfig in its own `application/node.eks.aws` part; nodeadm merges parts in order.",
};

pub fn check(cx: &Context, out: &mut Vec<Diagnostic>) {
    for doc in &cx.docs {
        let Some(Ok(y)) = &doc.yaml else { continue };
        let Some(&first) = y.extra_documents.first() else { continue };
        let n = y.extra_documents.len();
        out.push(
            Diagnostic::new(
                &META,
                format!(
                    "{} has {n} more YAML document{} after the first; nodeadm reads only the first",
                    cx.where_(doc.part),
                    if n == 1 { "" } else { "s" }
                ),
            )
            .with_help("put each NodeConfig in its own application/node.eks.aws part")
            .with_span(Span::part(doc.part.index, first, first + 3))
            .with_part(cx.part_index(doc.part)),
        );
    }
}
