use crate::diagnostic::RuleMeta;
use crate::diagnostic::{Diagnostic, Severity};
use crate::lint::Context;
use crate::userdata::Defect;

pub const META: RuleMeta = RuleMeta {
    code: "UD109",
    name: "invalid-gzip",
    severity: Severity::Error,
    summary: "gzip data is corrupt or inflates past the size cap",
    explanation: "nodeadm gunzips the whole user data, and each NodeConfig part, when it starts \
with the gzip magic bytes 1f 8b (docs §2.1). Corrupt gzip fails the decode. Data that inflates to \
more than the cap (1 MiB by default, far above EC2's 16 KiB user-data limit) is refused here: it \
is a gzip bomb or not user data, and decoding stops at the cap so memory stays bounded.\n\nFix: \
re-compress the data (`gzip -9 < file`), or ship it uncompressed.",
};

pub fn check(cx: &Context, out: &mut Vec<Diagnostic>) {
    for d in &cx.env.defects {
        let Defect::InvalidGzip { part, error, span } = d else { continue };
        let what = part.map_or("the user data".to_string(), |i| format!("part {}", i + 1));
        out.push(
            Diagnostic::new(&META, format!("{what} starts with the gzip magic bytes, but {error}"))
                .with_help("re-compress the data, or ship it uncompressed")
                .with_span(crate::diagnostic::Span::payload(span.start, span.start))
                .with_part(*part),
        );
    }
}
