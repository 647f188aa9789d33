use crate::al2::analysis::DiskOp;
use crate::diagnostic::RuleMeta;
use crate::diagnostic::{Diagnostic, Severity, Span};
use crate::lint::Context;

pub const META: RuleMeta = RuleMeta {
    code: "AL303",
    name: "unconditional-mkfs",
    severity: Severity::Warning,
    summary: "mkfs runs without checking for an existing filesystem",
    explanation: "`mkfs` on a device that already has a filesystem destroys its data: a \
reattached EBS volume, a reused instance-store disk, or a boothook that runs on every boot. A \
top-level `mkfs` with no check in front of it does exactly that.\n\nFix: guard it, e.g. \
`blkid \"$DEV\" || mkfs -t xfs \"$DEV\"`, or let nodeadm handle instance store with \
`spec.instance.localStorage`.",
};

pub fn check(cx: &Context, out: &mut Vec<Diagnostic>) {
    for (part, a) in &cx.scripts {
        for op in &a.disk_ops {
            let DiskOp::Mkfs { command, device, .. } = op else { continue };
            let Some(cmd) = a.script.commands.get(*command) else { continue };
            if !cmd.unconditional() {
                continue;
            }
            out.push(
                Diagnostic::new(
                    &META,
                    format!("`mkfs` formats {device} without checking whether it already holds a filesystem"),
                )
                .with_help("guard it: `blkid \"$DEV\" || mkfs -t xfs \"$DEV\"`")
                .with_span(Span::part(part.index, cmd.span.0, cmd.span.1))
                .with_part(cx.part_index(part)),
            );
        }
    }
}
