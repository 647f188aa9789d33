//! NC220: each NodeConfig field and value arrived in a given AMI release (docs §1.2, "Since",
//! from nodeadm's git history; the table is `nodeconfig::since`, shared with `render`). An older
//! nodeadm decodes leniently and ignores a field it does not know, so the feature silently does
//! not happen; an unknown enum value fails validation. Only checked when the AMI release is
//! known (`--ami-release`, or `ami-release` in `.eks-userdata.toml`).

use crate::diagnostic::RuleMeta;
use crate::diagnostic::{Diagnostic, Severity};
use crate::lint::Context;
use crate::nodeconfig::pointer::Pointer as _;
use crate::nodeconfig::since;

pub const META: RuleMeta = RuleMeta {
    code: "NC220",
    name: "newer-than-ami-release",
    severity: Severity::Error,
    summary: "a NodeConfig field or value is newer than the AMI release it will boot on",
    explanation: "nodeadm gained fields release by release (docs §1.2): `cluster.id` in \
v20240220, `containerd.baseRuntimeSpec` v20240615, `localStorage` v20240227 (RAID10 v20250228, \
`mountPath` and `disabledMounts` v20250620, `SOCI` v20260120), `instance.environment` and \
`kubelet.maxPodsExpression` v20251007, `instance.network` v20251217, feature gates \
`InstanceIdNodeName` v20240424 and `FastImagePull` v20250821. On an older AMI a new field is \
silently ignored (nodeadm decodes leniently) and a new enum value fails validation, so the node \
either lacks the feature or does not join. Checked only when the AMI release is given.\n\nFix: \
use an AMI at or after the release the finding names, or drop the field.",
};

pub fn check(cx: &Context, out: &mut Vec<Diagnostic>) {
    let Some(ami) = cx.ami_release else { return };
    for doc in &cx.docs {
        let Some(v) = doc.value() else { continue };
        let mut hits: Vec<(String, String, u32)> = Vec::new();
        if ami < since::GA && v.at("/spec").is_some() {
            hits.push(("/spec".into(), "NodeConfig (nodeadm)".into(), since::GA));
        }
        hits.extend(since::too_new(v, ami).into_iter().map(|(p, e)| (p, e.what.to_owned(), e.release)));
        for (pointer, what, since) in hits {
            out.push(
                Diagnostic::new(
                    &META,
                    format!("{what} needs AMI release v{since} or later; this user data is for v{ami}"),
                )
                .with_help(format!("use an AMI from v{since} on, or remove it"))
                .with_span(doc.span_or_start(&pointer, true))
                .with_part(cx.part_index(doc.part))
                .with_pointer(pointer),
            );
        }
    }
}
