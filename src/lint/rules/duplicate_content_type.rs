use crate::diagnostic::RuleMeta;
use crate::diagnostic::{Diagnostic, Severity};
use crate::lint::Context;
use crate::userdata::Defect;

pub const META: RuleMeta = RuleMeta {
    code: "UD106",
    name: "duplicate-content-type",
    severity: Severity::Warning,
    summary: "a header block has more than one Content-Type",
    explanation: "RFC 2045 allows one Content-Type per entity. Go's `Header.Get` (nodeadm) and \
Python's `email` (cloud-init) read the first and ignore the rest, so a second Content-Type that \
was meant to win (a common result of templates concatenating headers) does nothing.\n\nFix: keep \
exactly one Content-Type header per part.",
};

pub fn check(cx: &Context, out: &mut Vec<Diagnostic>) {
    for d in &cx.env.defects {
        let Defect::DuplicateContentType { part, span } = d else { continue };
        let what = part.map_or("the top-level headers".to_string(), |i| format!("part {}", i + 1));
        let first = part
            .and_then(|i| cx.env.parts.get(i))
            .and_then(|p| p.media().map(str::to_string))
            .or_else(|| cx.env.mime.as_ref().and_then(|m| m.content_type.as_ref()).map(|c| c.media.clone()))
            .unwrap_or_default();
        out.push(
            Diagnostic::new(
                &META,
                format!(
                    "{what} has a second Content-Type header; nodeadm and cloud-init only read the first (`{first}`)"
                ),
            )
            .with_help("keep exactly one Content-Type header")
            .with_span(*span)
            .with_part(*part),
        );
    }
}
