use crate::diagnostic::RuleMeta;
use crate::diagnostic::{Diagnostic, Severity, Span};
use crate::lint::Context;
use crate::userdata::Defect;

pub const META: RuleMeta = RuleMeta {
    code: "UD104",
    name: "missing-close-delimiter",
    severity: Severity::Error,
    summary: "the multipart body never closes with `--boundary--` (or the boundary never appears)",
    explanation: "RFC 2046 ends a multipart body with a close delimiter, `--BOUNDARY--`. Go's \
multipart reader, which nodeadm uses, returns `unexpected EOF` while reading the last part when \
it is missing, so nodeadm fails to read the user data; cloud-init tolerates it, which is why it \
goes unnoticed on AL2. When the declared boundary never appears as a `--BOUNDARY` line at all, \
the message has no parts.\n\nFix: end the user data with the line `--BOUNDARY--` (the boundary \
from the Content-Type header), and check each part starts with `--BOUNDARY`.",
};

pub fn check(cx: &Context, out: &mut Vec<Diagnostic>) {
    for d in &cx.env.defects {
        let Defect::MissingCloseDelimiter { boundary, delimiter_seen, span } = d else { continue };
        let (msg, help) = if *delimiter_seen {
            (
                format!(
                    "the closing delimiter `--{boundary}--` is missing: nodeadm's MIME reader fails with unexpected EOF on the last part"
                ),
                format!("end the user data with a line `--{boundary}--`"),
            )
        } else {
            (
                format!(
                    "the boundary `{boundary}` never appears as a `--{boundary}` line, so the message has no parts"
                ),
                format!("start each part with a line `--{boundary}` and end the message with `--{boundary}--`"),
            )
        };
        let mut d = Diagnostic::new(&META, msg).with_help(help).with_span(*span);
        // With parts already delimited, the repair is the missing last line; without any
        // delimiter the structure is unknown and left to the user.
        if *delimiter_seen {
            let nl = super::missing_blank_line::newline(&cx.env.payload);
            let lead = if cx.env.payload.ends_with(b"\n") { "" } else { nl };
            d = d.with_fix(
                Span::payload(cx.env.payload.len(), cx.env.payload.len()),
                "",
                format!("{lead}--{boundary}--{nl}"),
            );
        }
        out.push(d);
    }
}
