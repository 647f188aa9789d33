//! AL307: commands that only work on Amazon Linux 2, found by the same parsed-command patterns
//! `convert` reports as CV424 (`al2::legacy`; docs §3, §5.2, §7). In an AL2023 script they fail
//! or do nothing: no amazon-linux-extras, no Docker, no EPEL, no 32-bit packages, cgroup v2
//! only, no eni-max-pods.txt. (iptables is not among them: AL2023's own kubelet.service runs it.)

use crate::diagnostic::RuleMeta;
use crate::diagnostic::{Diagnostic, Severity, Span};
use crate::lint::Context;

pub const META: RuleMeta = RuleMeta {
    code: "AL307",
    name: "al2-only-command",
    severity: Severity::Warning,
    summary: "a script runs a command that only works on Amazon Linux 2",
    explanation: "AL2023 EKS AMIs differ from AL2 in ways scripts copied from AL2 user data trip \
over: there is no `amazon-linux-extras`, no Docker daemon or `/etc/docker`, no EPEL and no \
32-bit packages, only cgroup v2, and no \
`/etc/eks/eni-max-pods.txt` (docs §3, §5.2, §7). With `set -e` the script stops at such a line; \
without it the command silently does nothing. Each finding names the AL2023 way.\n\nFix: do what \
the finding says instead; `eks-userdata convert` reports the same commands when it migrates a \
whole AL2 script.",
};

pub fn check(cx: &Context, out: &mut Vec<Diagnostic>) {
    for (part, analysis) in &cx.scripts {
        // A script that still calls bootstrap.sh is AL2 user data (AL301); `convert` handles it.
        if !analysis.invocations.is_empty() {
            continue;
        }
        for (i, cmd) in analysis.script.commands.iter().enumerate() {
            let Some(l) = crate::al2::legacy::classify(i, cmd) else { continue };
            // `nodeadm init` by hand has its own finding (AL306).
            if cmd.name().is_some_and(|n| n.rsplit('/').next() == Some("nodeadm")) {
                continue;
            }
            out.push(
                Diagnostic::new(&META, format!("{} only works on Amazon Linux 2", l.what))
                    .with_help(l.instead)
                    .with_span(Span::part(part.index, cmd.span.0, cmd.span.1))
                    .with_part(cx.part_index(part)),
            );
        }
    }
}
