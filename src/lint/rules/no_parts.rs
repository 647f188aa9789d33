//! UD120: a multipart message with no parts: the body holds only the close delimiter
//! (`--BOUNDARY--`), as a Terraform template renders when every part sits inside a `%{ if }` that
//! is false. Go's `mime/multipart` reader, which nodeadm uses (docs §2.1), starts out expecting
//! CRLF line ends and learns LF only from a delimiter line, so an LF close delimiter with no part
//! before it is not recognised and the read ends in `multipart: NextPart: EOF`; with CRLF (or
//! no line break) it ends cleanly and nodeadm fails a step later with "could not find NodeConfig
//! within UserData". Either way the node does not join (checked against Go in
//! `tests/it/nodeadm_mime.rs`).

use crate::diagnostic::RuleMeta;
use crate::diagnostic::{Diagnostic, Severity};
use crate::lint::Context;
use crate::userdata::Defect;

pub const META: RuleMeta = RuleMeta {
    code: "UD120",
    name: "multipart-without-parts",
    severity: Severity::Error,
    summary: "the multipart user data has no parts, only its close delimiter",
    explanation: "A MIME multipart body whose first delimiter is the close delimiter \
(`--BOUNDARY--`) has no parts. Templates produce it when every part is inside a condition that \
is false. nodeadm reads user data with Go's multipart reader: it fails on such a body with \
`multipart: NextPart: EOF` when the line ends in LF, and otherwise finds no NodeConfig; either \
way nodeadm-config fails and the node never joins. cloud-init runs nothing either.\n\nFix: make \
sure at least the NodeConfig part is always rendered (move it out of the condition), or do not \
send multipart user data when there is nothing to send.",
};

pub fn check(cx: &Context, out: &mut Vec<Diagnostic>) {
    for d in &cx.env.defects {
        let Defect::NoParts { fatal, span } = d else { continue };
        let how = if *fatal {
            "nodeadm's MIME reader fails with `multipart: NextPart: EOF`"
        } else {
            "nodeadm finds no NodeConfig (\"could not find NodeConfig within UserData\")"
        };
        out.push(
            Diagnostic::new(&META, format!("the multipart body holds only its close delimiter, no parts: {how}"))
                .with_help("render at least the NodeConfig part, or send no multipart user data")
                .with_span(*span),
        );
    }
}
