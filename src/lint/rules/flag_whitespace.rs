//! NC212: `kubelet.flags` become `NODEADM_KUBELET_ARGS`, which systemd splits at whitespace
//! without shell quoting (docs §6.2).

use crate::diagnostic::{Diagnostic, Severity};
use crate::lint::{Context, RuleMeta};

pub const META: RuleMeta = RuleMeta {
    code: "NC212",
    name: "flag-with-whitespace",
    severity: Severity::Warning,
    summary: "a kubelet.flags item contains whitespace or quotes",
    explanation: "nodeadm joins `spec.kubelet.flags` with spaces into `NODEADM_KUBELET_ARGS`, \
which systemd splits at whitespace (docs §6.2): an item with a space becomes two arguments, and \
quotes reach the kubelet literally. `--flag value` in one item happens to work; a value with a \
space cannot be passed at all.\n\nFix: one `--flag=value` per item, no quotes, no spaces in values.",
};

pub fn check(cx: &Context, out: &mut Vec<Diagnostic>) {
    for (di, _, flag, span) in super::flags::items(cx) {
        let quoted = flag.contains(['"', '\'']);
        if !flag.trim().contains(char::is_whitespace) && !quoted {
            continue;
        }
        let what = if quoted {
            "contains quotes, which reach the kubelet literally"
        } else {
            "contains whitespace, so it splits into several kubelet arguments"
        };
        out.push(
            Diagnostic::new(&META, format!("`{flag}` {what}"))
                .with_help("write one `--flag=value` per item, without quotes")
                .with_span(span)
                .with_part(cx.part_index(cx.docs[di].part)),
        );
    }
}
