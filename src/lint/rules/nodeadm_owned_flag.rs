//! NC211: nodeadm passes its own kubelet flags and appends `kubelet.flags` after them, so a
//! copy wins and breaks registration (docs §6.2).

use crate::al2::kubelet_flags::{self, DropReason, Outcome};
use crate::diagnostic::RuleMeta;
use crate::diagnostic::{Diagnostic, Severity};
use crate::lint::Context;

pub const META: RuleMeta = RuleMeta {
    code: "NC211",
    name: "nodeadm-owned-flag",
    severity: Severity::Error,
    summary: "kubelet.flags sets a flag nodeadm sets itself, or one the kubelet no longer has",
    explanation: "nodeadm passes its own `--node-ip`, `--hostname-override`, `--cloud-provider`, \
`--kubeconfig`, `--config`, `--config-dir`, `--image-credential-provider-*` and \
`--runtime-cgroups`, then appends `spec.kubelet.flags` (docs §6.2). A copy there overrides \
nodeadm's value (later flags win), which breaks node registration. Flags the kubelet no longer \
registers (`--pod-infra-container-image`, `--container-runtime`) make it refuse to start.\n\nFix: \
remove the flag.",
};

pub fn check(cx: &Context, out: &mut Vec<Diagnostic>) {
    for (di, _, flag, span) in super::flags::items(cx) {
        let Some(doc) = cx.docs.get(di) else { continue };
        for t in kubelet_flags::translate(flag) {
            let why = match t.outcome {
                Outcome::Dropped(DropReason::NodeadmOwned) => {
                    "nodeadm sets it itself; this copy would override nodeadm's value"
                }
                Outcome::Dropped(DropReason::Unregistered) => {
                    "the kubelet no longer has this flag and refuses to start"
                }
                _ => continue,
            };
            out.push(
                Diagnostic::new(&META, format!("`{}`: {why}", t.text))
                    .with_help("remove it from spec.kubelet.flags")
                    .with_span(span)
                    .with_part(cx.part_index(doc.part)),
            );
        }
    }
}
