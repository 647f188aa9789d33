//! NC221: nodeadm deep-merges `containerd.config` over the config it generates for the AMI's
//! containerd (docs §1.2): schema version 2 for containerd 1.7 (Kubernetes 1.28–1.29 AMIs),
//! version 3 for containerd 2.x (every current AMI). Keys of the other schema do not apply: v2
//! plugin tables in a v3 config are ignored, v3 keys on containerd 1.7 fail with `failed to get
//! config template version` (docs §1.3).

use crate::diagnostic::{Diagnostic, Severity};
use crate::lint::{Context, RuleMeta};

pub const META: RuleMeta = RuleMeta {
    code: "NC221",
    name: "containerd-config-schema",
    severity: Severity::Warning,
    summary: "`containerd.config` uses containerd config schema v2 keys",
    explanation: "`spec.containerd.config` is merged into the config nodeadm generates for the \
AMI's containerd, not used on its own (docs §1.2). AL2023 AMIs for Kubernetes 1.30 and later run \
containerd 2.x with config schema version 3, where the v2 CRI plugin table \
`plugins.\"io.containerd.grpc.v1.cri\"` means nothing: its settings (registry mirrors, \
`sandbox_image`, runtimes) are silently ignored. Only the 1.28 and 1.29 AMIs (containerd 1.7) \
read v2 keys, and they fail on v3 keys. Mixing both in one config is wrong on every AMI.\n\nFix: \
use the v3 plugin names (`io.containerd.cri.v1.images`, `io.containerd.cri.v1.runtime`); \
`eks-userdata convert` migrates AL2 configs.",
};

const V2: &str = "io.containerd.grpc.v1.cri";
const V3: &[&str] = &["io.containerd.cri.v1.images", "io.containerd.cri.v1.runtime"];

pub fn check(cx: &Context, out: &mut Vec<Diagnostic>) {
    for doc in &cx.docs {
        let Some(text) = doc.value().and_then(|v| v.pointer("/spec/containerd/config")).and_then(|v| v.as_str()) else {
            continue;
        };
        let Ok(table) = text.parse::<toml::Table>() else { continue };
        let Some(plugins) = table.get("plugins").and_then(|p| p.as_table()) else { continue };
        let v2 = plugins.contains_key(V2);
        let v3 = V3.iter().any(|k| plugins.contains_key(*k));
        if !v2 {
            continue;
        }
        let message = if v3 {
            format!(
                "`containerd.config` mixes schema v2 (`plugins.\"{V2}\"`) and v3 keys: one of them is wrong on every AMI"
            )
        } else {
            format!(
                "`plugins.\"{V2}\"` is containerd config schema v2: containerd 2.x (AMIs for Kubernetes 1.30+) ignores it"
            )
        };
        // Point at the first v2 table header inside the block scalar.
        let span = doc.span_within("/spec/containerd/config", V2);
        out.push(
            Diagnostic::new(&META, message)
                .with_help("use the v3 plugin names `io.containerd.cri.v1.images` / `io.containerd.cri.v1.runtime`")
                .with_span(span)
                .with_part(cx.part_index(doc.part)),
        );
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::{LintOptions, lint};
    use crate::{Source, Target};

    fn messages(toml: &str) -> Vec<String> {
        let indented: String = toml.lines().map(|l| format!("      {l}\n")).collect();
        let doc = format!(
            "apiVersion: node.eks.aws/v1alpha1\nkind: NodeConfig\nspec:\n  containerd:\n    config: |\n{indented}"
        );
        let r = lint(&Source::new("t", doc), &LintOptions { target: Target::Mng, ..Default::default() });
        r.findings.iter().filter(|f| f.diagnostic.code == "NC221").map(|f| f.diagnostic.message.clone()).collect()
    }

    #[test]
    fn v2_keys_mixed_keys_and_v3_keys() {
        let v2 = "[plugins.\"io.containerd.grpc.v1.cri\".registry]\nconfig_path = \"/etc/containerd/certs.d\"";
        let v3 = "[plugins.\"io.containerd.cri.v1.images\".registry]\nconfig_path = \"/etc/containerd/certs.d\"";
        assert!(messages(v2)[0].contains("schema v2"));
        assert!(messages(&format!("{v2}\n{v3}"))[0].contains("mixes schema v2"));
        assert!(messages(v3).is_empty());
        assert!(messages("not = [toml").is_empty(), "invalid TOML is NC222's finding");
    }
}
