//! AL306: on AL2023 nothing reads bootstrap.sh's environment variables, and nodeadm already runs
//! from systemd units, so `nodeadm init` in user data races them (docs §3, §5.1, §7).

use crate::diagnostic::RuleMeta;
use crate::diagnostic::{Diagnostic, Severity, Span};
use crate::lint::Context;

pub const META: RuleMeta = RuleMeta {
    code: "AL306",
    name: "al2-environment-in-script",
    severity: Severity::Warning,
    summary: "a script sets bootstrap.sh variables or runs `nodeadm init` itself",
    explanation: "AL2's bootstrap.sh read `KUBELET_EXTRA_ARGS`, `USE_MAX_PODS`, \
`CONTAINER_RUNTIME` and similar variables (docs §5.1). On AL2023 nothing reads them: exporting \
them in a script configures nothing (terraform-aws-eks#3420). Likewise `nodeadm init` already \
runs from `nodeadm-config.service` and `nodeadm-run.service` (docs §3); running it again from \
user data races those units and the configuration \"seems ignored\" \
(awslabs/amazon-eks-ami#2124).\n\nFix: put kubelet settings in a NodeConfig part (`eks-userdata \
convert` translates them); for values computed at boot, write a NodeConfig to \
`/etc/eks/nodeadm.d/` from a boothook.",
};

/// bootstrap.sh's environment interface (docs §5.1).
const VARS: &[&str] = &[
    "KUBELET_EXTRA_ARGS",
    "USE_MAX_PODS",
    "CONTAINER_RUNTIME",
    "B64_CLUSTER_CA",
    "APISERVER_ENDPOINT",
    "DNS_CLUSTER_IP",
    "SERVICE_IPV4_CIDR",
    "ENABLE_LOCAL_OUTPOST",
    "PAUSE_CONTAINER_IMAGE",
];

pub fn check(cx: &Context, out: &mut Vec<Diagnostic>) {
    for (part, analysis) in &cx.scripts {
        // A script that still calls bootstrap.sh has AL301; its variables are part of that story.
        if !analysis.invocations.is_empty() {
            continue;
        }
        for cmd in analysis.script.commands.iter() {
            // Only exports: a plain assignment may feed a NodeConfig the script itself writes.
            let exported = cmd.name() == Some("export");
            let names = cmd
                .words
                .iter()
                .skip(1)
                .filter(|_| exported)
                .map(|w| (w.parsed.split('=').next().unwrap_or_default(), w.span));
            for (name, span) in names {
                if !VARS.contains(&name) {
                    continue;
                }
                out.push(
                    Diagnostic::new(
                        &META,
                        format!("`{name}` was read by AL2's bootstrap.sh; on AL2023 nothing reads it"),
                    )
                    .with_help("set it in a NodeConfig part instead (`eks-userdata convert` translates it)")
                    .with_span(Span::part(part.index, span.0, span.1))
                    .with_part(cx.part_index(part)),
                );
            }
            if cmd.name().is_some_and(|n| n == "nodeadm" || n.ends_with("/nodeadm"))
                && cmd.words.iter().any(|w| w.parsed == "init")
            {
                out.push(
                    Diagnostic::new(&META, "`nodeadm init` already runs from systemd on AL2023; running it again from user data races those units")
                        .with_help("remove it; for values computed at boot, write a NodeConfig to /etc/eks/nodeadm.d/ instead")
                        .with_span(Span::part(part.index, cmd.span.0, cmd.span.1))
                        .with_part(cx.part_index(part)),
                );
            }
        }
    }
}
