use crate::diagnostic::RuleMeta;
use crate::diagnostic::{Diagnostic, Severity, Span};
use crate::lint::Context;

pub const META: RuleMeta = RuleMeta {
    code: "UD111",
    name: "invalid-utf8",
    severity: Severity::Error,
    summary: "a NodeConfig is not valid UTF-8",
    explanation: "YAML and JSON are UTF-8 text. nodeadm's YAML decoder rejects invalid UTF-8, \
and one NodeConfig that fails to decode discards all NodeConfig from user data (docs §2.4). \
Random bytes, a binary file or text in another encoding (Latin-1, UTF-16) end up here.\n\nFix: \
save the document as UTF-8; if it is meant to be compressed, make sure it is real gzip.",
};

pub fn check(cx: &Context, out: &mut Vec<Diagnostic>) {
    for doc in &cx.docs {
        let Err(valid_up_to) = doc.text else { continue };
        out.push(
            Diagnostic::new(
                &META,
                format!(
                    "{} is not valid UTF-8 (byte {} of its body), so nodeadm cannot decode it",
                    cx.where_(doc.part),
                    valid_up_to
                ),
            )
            .with_help("save it as UTF-8 text")
            .with_span(Span::part(doc.part.index, valid_up_to, valid_up_to + 1))
            .with_part(cx.part_index(doc.part)),
        );
    }
}
