use crate::diagnostic::RuleMeta;
use crate::diagnostic::{Diagnostic, Severity};
use crate::lint::Context;
use crate::userdata::Defect;

pub const META: RuleMeta = RuleMeta {
    code: "UD101",
    name: "mime-headers-not-multipart",
    severity: Severity::Error,
    summary: "MIME headers, but nodeadm will not see a multipart message",
    explanation: "nodeadm reads user data as MIME only when the message starts with headers whose \
Content-Type is multipart/* (docs §2.1). Otherwise it decodes the WHOLE user data, headers \
included, as one NodeConfig YAML document, which fails (amazon-eks-ami #1701: `yaml: line 4: \
could not find expected ':'`), and the node never joins. This fires when the top-level \
Content-Type is not multipart/*, when only MIME-Version is present, and when the MIME headers do \
not start on the first line (a leading blank line or comment).\n\nFix: start the user data with \
`MIME-Version: 1.0` and `Content-Type: multipart/mixed; boundary=\"//\"` on the very first lines, \
or drop the MIME headers and give a bare NodeConfig document.",
};

pub fn check(cx: &Context, out: &mut Vec<Diagnostic>) {
    for d in &cx.env.defects {
        let Defect::NotMultipart { media, not_at_start, span } = d else { continue };
        let msg = match (not_at_start, media) {
            (true, _) => "the MIME headers do not start on the first line, so nodeadm does not read a MIME message: it decodes the whole user data as one NodeConfig document".to_string(),
            (false, Some(m)) => format!("the top-level Content-Type is `{m}`, not multipart/*: nodeadm decodes the whole user data, headers included, as one NodeConfig document"),
            (false, None) => "MIME headers without a multipart Content-Type: nodeadm decodes the whole user data, headers included, as one NodeConfig document".to_string(),
        };
        let help = if *not_at_start {
            "move `MIME-Version: 1.0` and the `Content-Type: multipart/mixed; boundary=…` header to the very first lines"
        } else {
            "use `Content-Type: multipart/mixed; boundary=\"//\"` with the NodeConfig in an `application/node.eks.aws` part, or drop the headers and give a bare NodeConfig"
        };
        out.push(Diagnostic::new(&META, msg).with_help(help).with_span(*span).with_severity(Severity::Error));
    }
}
