//! NC221: nodeadm deep-merges `containerd.config` over the config it generates for the AMI's
//! containerd (docs §1.2). Which template it merges into follows the user's keys
//! (`nodeadm/internal/containerd/config.go`, `getConfigTemplateVersion`, since v20250807):
//! on containerd 2.x a config naming a v3 plugin (`io.containerd.cri.v1.images|runtime`) gets
//! the v3 template, any other gets the v2 template and `containerd config migrate`; on
//! containerd 1.7 (Kubernetes 1.28–1.29 AMIs) v3 names fail with `failed to get config template
//! version` (docs §1.3). So v2 alone works everywhere; v2 tables next to v3 names are merged
//! into a v3 config, where containerd 2.x ignores them.

use crate::diagnostic::RuleMeta;
use crate::diagnostic::{Diagnostic, Severity};
use crate::lint::Context;
use crate::nodeconfig::pointer::Pointer as _;

pub const META: RuleMeta = RuleMeta {
    code: "NC221",
    name: "containerd-config-schema",
    severity: Severity::Warning,
    summary: "`containerd.config` mixes config schemas, or uses keys the AMI's containerd cannot read",
    explanation: "`spec.containerd.config` is merged into the config nodeadm generates for the \
AMI's containerd, not used on its own (docs §1.2). nodeadm picks the template by the keys it finds \
(`getConfigTemplateVersion` in nodeadm's `internal/containerd/config.go`, AMIs since v20250807): \
on containerd 2.x (AMIs for Kubernetes 1.30 and later) a config that names a schema v3 plugin \
(`io.containerd.cri.v1.images`, `io.containerd.cri.v1.runtime`) is merged into the v3 template; \
any other is merged into the v2 template, which nodeadm then converts with `containerd config \
migrate`. So a config in schema v2 alone works on every AMI. Mixing both is wrong everywhere: on \
containerd 2.x the v3 names select the v3 template and the v2 table \
`plugins.\"io.containerd.grpc.v1.cri\"` settings (registry, `sandbox_image`, runtimes) are \
silently ignored; the 1.28 and 1.29 AMIs run containerd 1.7, which fails on any v3 key \
(`failed to get config template version`).\n\n\
The finding is an error where containerd cannot start (v3 keys on containerd 1.7), a warning \
where settings are silently ignored (mixed schemas). Without `--kubernetes-version` (or \
`kubernetes-version` in .eks-userdata.toml) the rule assumes a current AMI (containerd 2.x).\n\n\
Fix: use one schema. v3 on current AMIs, or v2 (which nodeadm migrates on containerd 2.x and \
which containerd 1.7 reads as it is).",
};

const V2: &str = "io.containerd.grpc.v1.cri";
const V3: &[&str] = &["io.containerd.cri.v1.images", "io.containerd.cri.v1.runtime"];
/// The newest Kubernetes minor whose AL2023 AMIs run containerd 1.7 (docs §1.3, §5.1).
const LAST_CONTAINERD_1_7: u32 = 29;

pub fn check(cx: &Context, out: &mut Vec<Diagnostic>) {
    let old_ami = cx.kubernetes_version.filter(|m| *m <= LAST_CONTAINERD_1_7);
    for doc in &cx.docs {
        let Some(text) = doc.value().and_then(|v| v.at("/spec/containerd/config")).and_then(|v| v.as_str()) else {
            continue;
        };
        let Ok(table) = text.parse::<toml::Table>() else { continue };
        let plugins = table.get("plugins").and_then(|p| p.as_table());
        let version = table.get("version").and_then(|v| v.as_integer());
        let v2_key = plugins.is_some_and(|p| p.contains_key(V2));
        let v3_key = V3.iter().find(|k| plugins.is_some_and(|p| p.contains_key(**k)));
        let (message, needle, help) = match (
            old_ami,
            v2_key || version == Some(2),
            v3_key.is_some() || version == Some(3),
        ) {
            (_, true, true) => (
                format!(
                    "`containerd.config` mixes schema v2 (`plugins.\"{V2}\"`, `version = 2`) and v3 keys: on containerd 2.x the v3 keys make nodeadm merge into its v3 config, where the v2 settings are ignored; containerd 1.7 fails on the v3 keys"
                ),
                if v2_key { V2 } else { "version" },
                "keep one schema: v3 on current AMIs, or v2 alone (nodeadm migrates it on containerd 2.x)".to_string(),
            ),
            (Some(minor), false, true) => (
                format!(
                    "`{}` is containerd config schema v3: the Kubernetes 1.{minor} AMI runs containerd 1.7, which fails on it",
                    v3_key.copied().unwrap_or("version = 3")
                ),
                v3_key.copied().unwrap_or("version"),
                format!("use the v2 table `plugins.\"{V2}\"` until the node group runs Kubernetes 1.30 or later"),
            ),
            _ => continue,
        };
        // Point at the first offending key inside the block scalar.
        let span = doc.span_within("/spec/containerd/config", needle);
        let mut d = Diagnostic::new(&META, message).with_help(help).with_span(span).with_part(cx.part_index(doc.part));
        // Ignored keys lose settings; keys containerd 1.7 cannot read stop it from starting.
        if old_ami.is_some() && v3_key.is_some() {
            d.severity = Severity::Error;
        }
        out.push(d);
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::{LintOptions, lint};
    use crate::{Source, Target};

    fn messages(toml: &str) -> Vec<String> {
        messages_on(toml, None)
    }

    fn messages_on(toml: &str, kubernetes_version: Option<u32>) -> Vec<String> {
        let indented: String = toml.lines().map(|l| format!("      {l}\n")).collect();
        let doc = format!(
            "apiVersion: node.eks.aws/v1alpha1\nkind: NodeConfig\nspec:\n  containerd:\n    config: |\n{indented}"
        );
        let r = lint(
            &Source::new("t", doc),
            &LintOptions { target: Target::Mng, kubernetes_version, ..Default::default() },
        );
        r.findings.iter().filter(|f| f.diagnostic.code == "NC221").map(|f| f.diagnostic.message.clone()).collect()
    }

    #[test]
    fn v2_keys_mixed_keys_and_v3_keys() {
        let v2 = "[plugins.\"io.containerd.grpc.v1.cri\".registry]\nconfig_path = \"/etc/containerd/certs.d\"";
        let v3 = "[plugins.\"io.containerd.cri.v1.images\".registry]\nconfig_path = \"/etc/containerd/certs.d\"";
        // v2 alone: nodeadm merges it into its v2 template and migrates (containerd 2.x).
        assert!(messages(v2).is_empty());
        assert!(messages(&format!("{v2}\n{v3}"))[0].contains("mixes schema v2"));
        assert!(messages(v3).is_empty());
        assert!(messages("not = [toml").is_empty(), "invalid TOML is NC222's finding");
        assert!(messages("version = 2").is_empty());
        // A 1.29 AMI runs containerd 1.7: v2 is right there and v3 is the finding.
        assert!(messages_on(v2, Some(29)).is_empty());
        assert!(
            messages_on(v3, Some(29))[0].contains("Kubernetes 1.29 AMI runs containerd 1.7"),
            "{:?}",
            messages_on(v3, Some(29))
        );
        assert!(messages_on(&format!("{v2}\n{v3}"), Some(28))[0].contains("mixes"));
        assert!(messages_on(v3, Some(30)).is_empty());
        assert!(messages_on(v2, Some(33)).is_empty());
    }
}
