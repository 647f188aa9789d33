use crate::al2::analysis::DiskOp;
use crate::diagnostic::RuleMeta;
use crate::diagnostic::{Diagnostic, Severity, Span};
use crate::lint::Context;

pub const META: RuleMeta = RuleMeta {
    code: "AL302",
    name: "state-directory-wiped",
    severity: Severity::Error,
    summary: "a script deletes /var/lib/containerd or /var/lib/kubelet",
    explanation: "The AL2023 AMI pre-caches the pause image under /var/lib/containerd \
(`localhost/kubernetes/pause`, docs §4.3). User scripts run before containerd starts, so \
`rm -rf /var/lib/containerd/*` deletes it and every pod sandbox fails with `failed to get \
sandbox image` (amazon-eks-ami #2122, #2066); wiping /var/lib/kubelet loses what nodeadm wrote.\
\n\nFix: remove the command. To put the directory on another volume, copy its contents onto the \
new filesystem before mounting it (`eks-userdata convert` writes such a script).",
};

pub fn check(cx: &Context, out: &mut Vec<Diagnostic>) {
    for (part, a) in &cx.scripts {
        for op in &a.disk_ops {
            let DiskOp::Wipe { command, path } = op else { continue };
            if !(path.starts_with("/var/lib/containerd") || path.starts_with("/var/lib/kubelet")) {
                continue;
            }
            let Some((s, e)) = a.script.commands.get(*command).map(|c| c.span) else { continue };
            out.push(
                Diagnostic::new(
                    &META,
                    format!("`rm -rf {path}` deletes the AMI's cached pause image and node state; pods will not start"),
                )
                .with_help("remove it; to move the directory to another volume, copy its contents first")
                .with_span(Span::part(part.index, s, e))
                .with_part(cx.part_index(part)),
            );
        }
    }
}
