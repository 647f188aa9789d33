use crate::diagnostic::RuleMeta;
use crate::diagnostic::{Diagnostic, Severity};
use crate::lint::Context;
use crate::userdata::Defect;

pub const META: RuleMeta = RuleMeta {
    code: "UD108",
    name: "invalid-base64",
    severity: Severity::Error,
    summary: "a part declared base64 does not decode",
    explanation: "A part with `Content-Transfer-Encoding: base64` must hold standard, padded \
base64 (RFC 2045 §6.8). If it does not decode, cloud-init skips or mangles the part, and for a \
NodeConfig part nodeadm fails to decode it, which discards ALL NodeConfig from user data (docs \
§2.4).\n\nFix: re-encode the body (`base64 -w0 file`), or drop the header and give the body as \
plain text.",
};

pub fn check(cx: &Context, out: &mut Vec<Diagnostic>) {
    for d in &cx.env.defects {
        let Defect::InvalidBase64 { part, detail, span } = d else { continue };
        out.push(
            Diagnostic::new(
                &META,
                format!(
                    "part {} says `Content-Transfer-Encoding: base64` but its body does not decode ({detail})",
                    part + 1
                ),
            )
            .with_help("re-encode the body with standard padded base64, or drop the header and use plain text")
            .with_span(crate::diagnostic::Span::payload(span.start, span.start))
            .with_part(Some(*part)),
        );
    }
}
