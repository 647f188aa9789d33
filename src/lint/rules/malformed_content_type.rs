use crate::diagnostic::RuleMeta;
use crate::diagnostic::{Diagnostic, Severity};
use crate::lint::Context;
use crate::userdata::Defect;

pub const META: RuleMeta = RuleMeta {
    code: "UD115",
    name: "malformed-content-type",
    severity: Severity::Error,
    summary: "a Content-Type header that Go's MIME parser (nodeadm) rejects",
    explanation: "nodeadm parses every Content-Type with Go's `mime.ParseMediaType` (RFC 2045 \
syntax). On the top-level header a parse error makes nodeadm give up on MIME and decode the whole \
user data as one YAML document; on a part's header it aborts reading the user data. Either way \
the node gets no NodeConfig. cloud-init and most mail parsers are lenient, so this works on AL2 \
and breaks on AL2023. The usual culprits: an unquoted boundary with special characters \
(`boundary=//` must be `boundary=\"//\"`), an unterminated quote, a missing `/subtype`, a \
parameter without a value, a parameter given twice.\n\nFix: quote parameter values that contain \
anything but letters, digits and `!#$%&'*+-.^_`|~`, e.g. `Content-Type: multipart/mixed; \
boundary=\"//\"`.",
};

pub fn check(cx: &Context, out: &mut Vec<Diagnostic>) {
    for d in &cx.env.defects {
        let Defect::MalformedContentType { part, detail, span } = d else { continue };
        let (what, effect) = match part {
            None => (
                "the top-level Content-Type",
                "nodeadm ignores the MIME structure and decodes the whole user data as one NodeConfig",
            ),
            Some(_) => {
                ("this part's Content-Type", "nodeadm stops reading the user data and the node gets no NodeConfig")
            }
        };
        out.push(
            Diagnostic::new(&META, format!("{what} does not parse: {detail}; {effect}"))
                .with_help("quote values with special characters (`boundary=\"//\"`), close every quote, give each parameter one value")
                .with_span(*span)
                .with_part(*part),
        );
    }
}
