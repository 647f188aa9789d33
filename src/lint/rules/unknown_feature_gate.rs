//! NC226: nodeadm's `spec.featureGates` knows a fixed set of gates and asks for each by name
//! (`IsFeatureEnabled`: a name it does not know is simply never enabled), and its decoder does
//! not check the map's keys (docs §1.2, §1.3). A misspelt gate, a kubelet gate put here, or the
//! pre-v20250821 name of FastImagePull is ignored without a word.

use crate::diagnostic::RuleMeta;
use crate::diagnostic::{Diagnostic, Severity};
use crate::lint::Context;
use crate::nodeconfig::pointer::Pointer as _;

pub const META: RuleMeta = RuleMeta {
    code: "NC226",
    name: "unknown-nodeadm-feature-gate",
    severity: Severity::Error,
    summary: "`spec.featureGates` names a gate nodeadm does not know, which it ignores",
    explanation: "nodeadm's own feature gates are `InstanceIdNodeName` (the node is named after \
its instance ID) and `FastImagePull` (the SOCI snapshotter with parallel pull, on instances with \
at least 4 vCPU and 7 GiB; AMI release v20250821 or later, which renamed it from \
`AggressiveImagePull`). nodeadm looks gates up by exact name and treats any other key as \
unset, so a misspelt or wrongly cased gate, a Kubernetes feature gate put here, or the old name on \
a newer AMI changes nothing, with no error (docs §1.2, §1.3).\n\nFix: use the exact name; \
kubelet feature gates belong in `spec.kubelet.config.featureGates`. With `--ami-release` older \
than v20250821, `AggressiveImagePull` is the right name.",
};

const KNOWN: [&str; 2] = ["InstanceIdNodeName", "FastImagePull"];
/// The release that renamed `AggressiveImagePull` to `FastImagePull`.
const RENAMED: u32 = 20250821;

pub fn check(cx: &Context, out: &mut Vec<Diagnostic>) {
    let before_rename = cx.ami_release.is_some_and(|r| r < RENAMED);
    for doc in &cx.docs {
        let Some(gates) = doc.value().and_then(|v| v.at("/spec/featureGates")).and_then(|v| v.as_object()) else {
            continue;
        };
        for gate in gates.keys() {
            if KNOWN.contains(&gate.as_str()) || (before_rename && gate == "AggressiveImagePull") {
                continue;
            }
            let (message, help) = if gate == "AggressiveImagePull" {
                (
                    "feature gate `AggressiveImagePull` was renamed `FastImagePull` in AMI release v20250821: newer AMIs ignore the old name".to_string(),
                    "write `FastImagePull` (keep `AggressiveImagePull` only for AMIs older than v20250821, and say so with --ami-release)".to_string(),
                )
            } else {
                let hint = match crate::suggest::did_you_mean(gate, KNOWN) {
                    Some(known) => format!("did you mean `{known}`? nodeadm matches gate names exactly"),
                    None => "nodeadm knows `InstanceIdNodeName` and `FastImagePull`; a kubelet feature gate belongs in `spec.kubelet.config.featureGates`".to_string(),
                };
                (format!("nodeadm has no feature gate `{gate}`: it ignores it, so this setting changes nothing"), hint)
            };
            let pointer = format!("/spec/featureGates/{}", crate::nodeconfig::yaml::escape(gate));
            out.push(
                Diagnostic::new(&META, message)
                    .with_help(help)
                    .with_span(doc.span_or_start(&pointer, true))
                    .with_part(cx.part_index(doc.part))
                    .with_pointer(&pointer),
            );
        }
    }
}
