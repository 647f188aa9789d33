//! UD117: nodeadm picks parts by content type alone (docs §2.1), so a `#cloud-config` body under
//! `application/node.eks.aws` is parsed as a NodeConfig and cloud-init never runs it.

use crate::diagnostic::RuleMeta;
use crate::diagnostic::{Diagnostic, Severity, Span};
use crate::lint::Context;
use crate::userdata::PartKind;

pub const META: RuleMeta = RuleMeta {
    code: "UD117",
    name: "cloud-config-labelled-nodeconfig",
    severity: Severity::Error,
    summary: "a `#cloud-config` part is labelled `application/node.eks.aws`",
    explanation: "nodeadm reads every part whose content type is `application/node.eks.aws` as a \
NodeConfig and ignores the body's first line (docs §2.1); cloud-init hands such a part to no \
handler. A cloud-config document there is rejected by nodeadm (it is not a NodeConfig), so the \
node does not join, and its `runcmd`/`write_files` never run.\n\nFix: label the part \
`text/cloud-config`, and put the NodeConfig in a part of its own.",
};

pub fn check(cx: &Context, out: &mut Vec<Diagnostic>) {
    for part in cx.env.parts.iter().filter(|p| p.kind == PartKind::NodeConfig) {
        let first = part.body.split(|b| *b == b'\n').next().unwrap_or_default();
        if first.trim_ascii_end() != b"#cloud-config" {
            continue;
        }
        out.push(
            Diagnostic::new(&META, "this `#cloud-config` document is labelled `application/node.eks.aws`: nodeadm parses it as a NodeConfig and cloud-init skips it")
                .with_help("label it `text/cloud-config` and put the NodeConfig in its own part")
                .with_span(Span::part(part.index, 0, first.len()))
                .with_part(cx.part_index(part)),
        );
    }
}
