use crate::diagnostic::RuleMeta;
use crate::diagnostic::{Diagnostic, Severity, Span};
use crate::lint::Context;
use crate::userdata::Defect;

pub const META: RuleMeta = RuleMeta {
    code: "UD102",
    name: "missing-blank-line-after-headers",
    severity: Severity::Error,
    summary: "no blank line between a header block and its body",
    explanation: "RFC 5322 ends a header block at the first empty line. Without it, Go's MIME \
reader (nodeadm) either fails on the first body line (`malformed MIME header line`) or, worse, \
reads YAML lines such as `apiVersion: node.eks.aws/v1alpha1` as headers and hands nodeadm an \
empty body. Either way the NodeConfig is lost and the node never joins (amazon-eks-ami #2318). \
cloud-init is just as confused by a script whose `#!` line became a header.\n\nFix: insert an \
empty line after the last header of the part (and after the top-level headers).",
};

pub fn check(cx: &Context, out: &mut Vec<Diagnostic>) {
    for d in &cx.env.defects {
        let Defect::MissingBlankLine { part, suspect_header, span } = d else { continue };
        let what = match part {
            Some(i) => cx.env.parts.get(*i).map_or_else(|| format!("part {}", i + 1), |p| p.label()),
            None => "the top-level MIME headers".into(),
        };
        let line = String::from_utf8_lossy(
            cx.env
                .payload
                .get(span.start.min(cx.env.payload.len())..span.end.min(cx.env.payload.len()))
                .unwrap_or_default(),
        )
        .into_owned();
        let shown: String = line.chars().take(50).collect();
        let msg = if *suspect_header {
            format!(
                "`{shown}` would be read as a MIME header: the blank line between the headers of {what} and its body is missing"
            )
        } else if line.is_empty() {
            format!("{what}: the headers are not followed by a blank line")
        } else {
            format!("{what}: no blank line between the headers and `{shown}`, so the body is read as headers")
        };
        out.push(
            Diagnostic::new(&META, msg)
                .with_help("insert an empty line after the last header; without it nodeadm loses the part and the node never joins")
                .with_span(*span)
                .with_part(*part)
                // The repair the help describes: an empty line before the first body line.
                .with_fix(Span::payload(span.start, span.start), "", newline(&cx.env.payload)),
        );
    }
}

/// The file's own line ending, so a repair does not mix CRLF and LF.
pub(crate) fn newline(payload: &[u8]) -> &'static str {
    if payload.windows(2).any(|w| w == b"\r\n") { "\r\n" } else { "\n" }
}
