use crate::diagnostic::RuleMeta;
use crate::diagnostic::{Diagnostic, Severity};
use crate::lint::Context;
use crate::userdata::Defect;

pub const META: RuleMeta = RuleMeta {
    code: "UD114",
    name: "nested-multipart",
    severity: Severity::Warning,
    summary: "a multipart part inside multipart user data",
    explanation: "nodeadm walks only the top-level parts and does not descend into a nested \
multipart/* part (docs §2.1), so a NodeConfig inside one is ignored. cloud-init does descend, so \
scripts there still run, which hides the problem.\n\nFix: flatten the message: put every part at \
the top level.",
};

pub fn check(cx: &Context, out: &mut Vec<Diagnostic>) {
    for d in &cx.env.defects {
        let Defect::NestedMultipart { part, span } = d else { continue };
        out.push(
            Diagnostic::new(&META, format!("part {} is itself multipart: nodeadm does not look inside it", part + 1))
                .with_help("move its parts to the top level")
                .with_span(*span)
                .with_part(Some(*part)),
        );
    }
}
