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
            crate::al2::find_bootstrap_calls(&String::from_utf8_lossy(&p.body)).into_iter().map(move |c| (p, c))
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
