//! NC210: kubelet flags deprecated in favour of the config file (docs §6.1); a flag overrides
//! the config, a map flag replaces nodeadm's whole map (docs §6.3).

use crate::al2::kubelet_flags::{self, Outcome};
use crate::diagnostic::{Diagnostic, Severity};
use crate::lint::{Context, RuleMeta};

pub const META: RuleMeta = RuleMeta {
    code: "NC210",
    name: "kubelet-flag-not-config",
    severity: Severity::Warning,
    summary: "a kubelet flag in kubelet.flags that belongs in kubelet.config",
    explanation: "Most kubelet flags are deprecated in favour of the config file (docs §6.1), and \
a flag overrides the config: a map flag such as `--kube-reserved` replaces nodeadm's whole map \
instead of merging with it (docs §6.3). In `spec.kubelet.flags` it also bypasses the strict \
kubelet schema. `--node-labels` and the few flags without a config field stay flags.\n\nFix: move \
it to `spec.kubelet.config` under the key the finding names (`eks-userdata convert` does this).",
};

pub fn check(cx: &Context, out: &mut Vec<Diagnostic>) {
    for (di, _, flag, span) in super::flags::items(cx) {
        for t in kubelet_flags::translate(flag) {
            if let Outcome::Config { path, value } = t.outcome {
                let doc = &cx.docs[di];
                out.push(
                    Diagnostic::new(
                        &META,
                        format!("`{}` is a kubelet config field: use spec.kubelet.config.{path}", t.text),
                    )
                    .with_help(format!("spec.kubelet.config.{path}: {value}"))
                    .with_span(span)
                    .with_part(cx.part_index(doc.part)),
                );
            }
        }
    }
}
