use crate::al2::analysis::DiskOp;
use crate::diagnostic::RuleMeta;
use crate::diagnostic::{Diagnostic, Severity, Span};
use crate::lint::Context;

pub const META: RuleMeta = RuleMeta {
    code: "AL304",
    name: "mount-over-node-state",
    severity: Severity::Error,
    summary: "a volume is mounted over /var/lib/containerd or /var/lib/kubelet without copying",
    explanation: "Mounting a fresh filesystem over /var/lib/containerd hides what the AMI put \
there, including the cached pause image, and every pod sandbox fails (amazon-eks-ami #2122; the \
maintainers' advice is to copy the existing directory onto the volume before mounting it, as \
`setup-local-disks` does). This fires when no `cp -a`/`rsync` from the directory comes before \
the mount.\n\nFix: copy first (`cp -a /var/lib/containerd/. /mnt/new/`), or use the data-volume \
script `eks-userdata convert` writes, or `spec.instance.localStorage` for instance store.",
};

const STATE: &[&str] = &["/var/lib/containerd", "/var/lib/kubelet"];

pub fn check(cx: &Context, out: &mut Vec<Diagnostic>) {
    for (part, a) in &cx.scripts {
        for op in &a.disk_ops {
            let DiskOp::Mount { command, device, target } = op else { continue };
            if !STATE.contains(&target.as_str()) {
                continue;
            }
            let copied = a.disk_ops.iter().any(
                |o| matches!(o, DiskOp::Copy { command: c, from } if c < command && from.starts_with(target.as_str())),
            );
            if copied {
                continue;
            }
            let Some((s, e)) = a.script.commands.get(*command).map(|c| c.span) else { continue };
            out.push(
                Diagnostic::new(&META, format!("{device} is mounted over {target} without copying what is there first; the cached pause image is hidden and pods will not start"))
                    .with_help(format!("copy first: mount the new filesystem elsewhere, `cp -a {target}/. <there>/`, then mount it on {target}"))
                    .with_span(Span::part(part.index, s, e))
                    .with_part(cx.part_index(part)),
            );
        }
    }
}
