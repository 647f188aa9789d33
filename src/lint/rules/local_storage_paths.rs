use crate::diagnostic::RuleMeta;
use crate::diagnostic::{Diagnostic, Severity, Span};
use crate::lint::Context;
use crate::nodeconfig::pointer::Pointer as _;
use serde_json::Value;

pub const META: RuleMeta = RuleMeta {
    code: "AL305",
    name: "local-storage-path-in-script",
    severity: Severity::Warning,
    summary: "a script uses the localStorage mount path, which does not exist yet when it runs",
    explanation: "nodeadm sets up `spec.instance.localStorage` in nodeadm-run, which starts after \
cloud-init has run every user-data script (docs §3). A script that writes to the array \
(`/mnt/k8s-disks` or the configured `mountPath`) runs before the array exists and writes to the \
root volume instead, which the mount then hides (Karpenter #5981).\n\nFix: do that work from a \
systemd unit ordered `After=nodeadm-run.service`, or from a DaemonSet.",
};

pub fn check(cx: &Context, out: &mut Vec<Diagnostic>) {
    let strategy =
        cx.docs.iter().filter_map(|d| d.value()?.at("/spec/instance/localStorage/strategy")).rfind(|v| v.is_string());
    if strategy.is_none() {
        return;
    }
    let mount_path = cx
        .docs
        .iter()
        .filter_map(|d| d.value()?.at("/spec/instance/localStorage/mountPath").and_then(Value::as_str))
        .rfind(|s| !s.is_empty())
        .unwrap_or("/mnt/k8s-disks")
        .trim_end_matches('/')
        .to_string();
    for (part, a) in &cx.scripts {
        let text = crate::source::text_keeping_offsets(&part.body);
        for cmd in a.script.commands.iter() {
            let (s, e) = cmd.span;
            let uses = cmd.words.iter().any(|w| w.parsed.contains(mount_path.as_str()))
                || text.get(s..e).is_some_and(|t| t.contains(mount_path.as_str()));
            if !uses {
                continue;
            }
            out.push(
                Diagnostic::new(&META, format!("this command uses {mount_path}, but nodeadm creates the localStorage array there only after user scripts have run"))
                    .with_help("run it from a systemd unit ordered After=nodeadm-run.service")
                    .with_span(Span::part(part.index, s, e))
                    .with_part(cx.part_index(part)),
            );
        }
    }
}
