use crate::diagnostic::RuleMeta;
use crate::diagnostic::{Diagnostic, Severity};
use crate::lint::Context;
use crate::userdata::Defect;

pub const META: RuleMeta = RuleMeta {
    code: "UD103",
    name: "missing-boundary",
    severity: Severity::Error,
    summary: "multipart Content-Type without a boundary parameter",
    explanation: "A multipart message is split at its boundary, declared as the `boundary` \
parameter of the top-level Content-Type (RFC 2046 §5.1.1). Without it nodeadm cannot read any \
part and fails; cloud-init cannot either.\n\nFix: declare it, e.g. \
`Content-Type: multipart/mixed; boundary=\"//\"`, and separate parts with `--//` lines, ending \
with `--//--`.",
};

pub fn check(cx: &Context, out: &mut Vec<Diagnostic>) {
    for d in &cx.env.defects {
        if let Defect::MissingBoundary { span } = d {
            out.push(
                Diagnostic::new(
                    &META,
                    "the multipart Content-Type has no `boundary` parameter, so no part can be read",
                )
                .with_help("add one: `Content-Type: multipart/mixed; boundary=\"//\"`")
                .with_span(*span),
            );
        }
    }
}
