use crate::diagnostic::RuleMeta;
use crate::diagnostic::{Diagnostic, Severity, Span};
use crate::lint::Context;

pub const META: RuleMeta = RuleMeta {
    code: "NC201",
    name: "yaml-syntax",
    severity: Severity::Error,
    summary: "a NodeConfig part is not valid YAML",
    explanation: "nodeadm decodes each NodeConfig part as YAML (or JSON). When one part fails to \
decode, nodeadm discards ALL NodeConfig from user data with only a warning in the journal (docs \
§2.4), so one typo loses the cluster section and the node never joins. Duplicate keys are \
reported too: YAML forbids them, and which one wins differs between parsers. An unrendered \
template directive (`%{ if … }`, `{{ … }}`) at the start of a line is a common cause.\n\nFix: \
correct the syntax at the position shown.",
};

pub fn check(cx: &Context, out: &mut Vec<Diagnostic>) {
    for doc in &cx.docs {
        let Some(Err(e)) = &doc.yaml else { continue };
        let at = e.offset.unwrap_or(0);
        out.push(
            Diagnostic::new(&META, format!("{} is not valid YAML: {}", cx.where_(doc.part), e.message))
                .with_help(
                    "nodeadm discards all user-data NodeConfig when one part fails to decode; fix the syntax here",
                )
                .with_span(Span::part(doc.part.index, at, at))
                .with_part(cx.part_index(doc.part)),
        );
    }
}
