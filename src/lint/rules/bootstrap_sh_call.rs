use crate::diagnostic::RuleMeta;
use crate::diagnostic::{Diagnostic, Severity, Span};
use crate::lint::{Context, is_script};

pub const META: RuleMeta = RuleMeta {
    code: "AL301",
    name: "bootstrap-sh-call",
    severity: Severity::Error,
    summary: "a script calls /etc/eks/bootstrap.sh, which AL2023 no longer has",
    explanation: "On AL2023 EKS AMIs `/etc/eks/bootstrap.sh` is a stub that prints \
\"bootstrap.sh has been removed from AL2023-based EKS AMIs\" and exits 1 (docs §5.3). A script \
that calls it fails at that line (and with `set -e`, everything after it is skipped); its flags \
configure nothing. Nodes are configured by nodeadm from a NodeConfig instead.\n\nFix: move the \
flags into an `application/node.eks.aws` part and delete the call; `eks-userdata convert` \
translates every bootstrap.sh flag.",
};

/// Every bootstrap.sh call in the scripts and cloud-config parts: (part, byte span in its body).
/// `push` uses it too, to tell AL2023 user data that needs no conversion.
pub fn calls(env: &crate::userdata::Envelope) -> Vec<(&crate::userdata::Part, (usize, usize))> {
    env.parts
        .iter()
        .filter(|p| is_script(p.kind) || p.kind == crate::userdata::PartKind::CloudConfig)
        .flat_map(|p| {
            crate::al2::find_bootstrap_calls(&crate::source::text_keeping_offsets(&p.body))
                .into_iter()
                .map(move |c| (p, c))
        })
        .collect()
}

pub fn check(cx: &Context, out: &mut Vec<Diagnostic>) {
    for (part, (s, e)) in calls(cx.env) {
        out.push(
            Diagnostic::new(&META, "`bootstrap.sh` is called here: on AL2023 it is a stub that exits 1, so this script fails and its flags configure nothing")
                .with_help("move its flags into a NodeConfig part and remove the call (`eks-userdata convert` translates them)")
                .with_span(Span::part(part.index, s, e))
                .with_part(cx.part_index(part)),
        );
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::{LintOptions, lint};
    use crate::source::Source;

    #[test]
    fn spans_after_bytes_that_are_not_utf8_stay_on_the_call() {
        // Found by the `lint` fuzz target: a lossy reading (3-byte U+FFFD per bad byte) placed
        // the call past the end of the file.
        let mut bytes = b"#!/bin/bash\necho ".to_vec();
        bytes.extend([0xeb; 40]);
        bytes.extend(b"\n/etc/eks/bootstrap.sh prod\n");
        let report = lint(&Source::new("u.sh", bytes.clone()), &LintOptions::default());
        let call = report.findings.iter().find(|f| f.diagnostic.code == "AL301").unwrap();
        let loc = call.location.as_ref().unwrap();
        assert_eq!(bytes.get(loc.byte_start..loc.byte_end), Some(&b"/etc/eks/bootstrap.sh"[..]));
    }
}
