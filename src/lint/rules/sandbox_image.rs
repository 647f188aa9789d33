//! NC216: the AL2023 AMI caches its pause image locally and containerd has no ECR credentials
//! (docs §4.3), so overriding the sandbox image trades a working default for a boot-time pull.

use crate::diagnostic::RuleMeta;
use crate::diagnostic::{Diagnostic, Severity};
use crate::lint::Context;
use crate::nodeconfig::pointer::Pointer as _;

pub const META: RuleMeta = RuleMeta {
    code: "NC216",
    name: "sandbox-image-override",
    severity: Severity::Warning,
    summary: "`containerd.config` overrides the sandbox (pause) image",
    explanation: "The AL2023 EKS AMI ships the pause image pre-cached as \
`localhost/kubernetes/pause` and points containerd at it (docs §4.3). An override in \
`containerd.config` (`sandbox_image` in schema v2, `pinned_images.sandbox` in v3) makes every \
node pull the image at boot; containerd has no ECR credentials, so an ECR image fails and no pod \
starts (awslabs/amazon-eks-ami#2066, #2710).\n\nFix: remove the override. If a volume on \
`/var/lib/containerd` hid the cached image, copy the old contents onto it instead \
(`instance.localStorage` does this).",
};

pub fn check(cx: &Context, out: &mut Vec<Diagnostic>) {
    for doc in &cx.docs {
        let Some(toml) = doc.value().and_then(|v| v.at("/spec/containerd/config")).and_then(|v| v.as_str()) else {
            continue;
        };
        let mut in_pinned = false;
        for line in toml.lines().map(str::trim) {
            if line.starts_with('[') {
                in_pinned = line.contains("pinned_images");
                continue;
            }
            let key = line.split('=').next().unwrap_or_default().trim().trim_matches(['"', '\'']);
            if line.contains('=') && (key == "sandbox_image" || (in_pinned && key == "sandbox")) {
                let span = doc.span_within("/spec/containerd/config", line);
                out.push(
                    Diagnostic::new(&META, format!("`{line}` overrides the AMI's pre-cached pause image: every node pulls it at boot, and an ECR image cannot be pulled"))
                        .with_help("remove it; the AMI's `localhost/kubernetes/pause` needs no pull")
                        .with_span(span)
                        .with_part(cx.part_index(doc.part)),
                );
            }
        }
    }
}
