//! `karpenter migrate`: EC2NodeClass manifests from AL2 to AL2023 in place. For each
//! `EC2NodeClass` with an `al2@` alias or `amiFamily: AL2`: the alias becomes `al2023@` with the
//! same version (EKS releases both families under one version), `amiFamily` becomes `AL2023`,
//! `userData` is converted and split as `nodeclass` does (kubelet settings into `spec.kubelet`,
//! where a value already there wins, since Karpenter already applied it over the user data;
//! RAID0 into `instanceStorePolicy`), and every other field keeps its value and key order.
//! Documents that are not migrated are copied byte for byte (comments included); migrated
//! ones are re-emitted without comments. `AWSNodeTemplate` (before Karpenter v0.32) is reported.

use super::codes;
use super::nodeclass::{self, problems};
use super::validate::KarpenterVersion;
use crate::diagnostic::{Diagnostic, Span};
use crate::nodeconfig::pointer::Pointer as _;
use crate::source::Source;
use serde_json::{Map, Value, json};

#[derive(Debug, Clone)]
pub struct Migrated {
    /// The whole file, rewritten (`None`: nothing to change).
    pub text: Option<String>,
    pub entries: Vec<Diagnostic>,
}

/// Splits a YAML stream at `---` lines, keeping each document's text and byte offset.
fn documents(text: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut at = 0;
    for line in text.split_inclusive('\n') {
        let bare = line.trim_end_matches(['\n', '\r']);
        if bare == "---" || bare.starts_with("--- ") {
            out.push((start, text.get(start..at).unwrap_or_default()));
            start = at + line.len();
        }
        at += line.len();
    }
    out.push((start, text.get(start..).unwrap_or_default()));
    out
}

pub fn migrate(name: &str, text: &str, version: KarpenterVersion) -> Migrated {
    let mut entries = Vec::new();
    let mut changed = false;
    let mut pieces: Vec<String> = Vec::new();
    let docs = documents(text);
    for (offset, doc) in &docs {
        let at = |d: Diagnostic| d.with_span(Span::payload(*offset, *offset));
        let blank = doc.lines().all(|l| l.trim().is_empty() || l.trim_start().starts_with('#'));
        let value: Option<Value> = if blank {
            None
        } else {
            match crate::nodeconfig::yaml::parse(doc) {
                Ok(d) => Some(std::sync::Arc::unwrap_or_clone(d.value)),
                Err(e) => {
                    entries.push(at(Diagnostic::new(
                        &codes::UNUSABLE,
                        format!("a document is not valid YAML ({e}); it is kept as it is"),
                    )));
                    None
                }
            }
        };
        let kind = value.as_ref().and_then(|v| v.get("kind")).and_then(Value::as_str).unwrap_or_default().to_string();
        let mut keep = true;
        if kind == "AWSNodeTemplate" {
            entries.push(at(Diagnostic::new(
                &codes::LEGACY_KIND,
                "AWSNodeTemplate is left as it is: migrate it to an EC2NodeClass with Karpenter's v1 upgrade first",
            )));
        } else if kind == "EC2NodeClass"
            && let Some(mut v) = value
            && is_al2(&v)
        {
            let mut local = Vec::new();
            migrate_one(name, &mut v, version, &mut local);
            entries.extend(local.into_iter().map(at));
            let yaml = crate::nodeconfig::yaml::to_string(&v).unwrap_or_default();
            pieces.push(yaml);
            keep = false;
            changed = true;
        }
        if keep {
            pieces.push(doc.to_string());
        }
    }
    let text = changed.then(|| {
        let mut out = String::new();
        for (i, p) in pieces.iter().enumerate() {
            if i > 0 {
                out.push_str("---\n");
            }
            out.push_str(p);
            if !p.is_empty() && !p.ends_with('\n') {
                out.push('\n');
            }
        }
        out
    });
    Migrated { text, entries }
}

fn alias(v: &Value) -> Option<&str> {
    v.at("/spec/amiSelectorTerms")?.as_array()?.iter().find_map(|t| t.get("alias")?.as_str())
}

pub(crate) fn is_al2(v: &Value) -> bool {
    alias(v).is_some_and(|a| a.starts_with("al2@")) || v.at("/spec/amiFamily").and_then(Value::as_str) == Some("AL2")
}

pub(crate) fn migrate_one(file: &str, v: &mut Value, version: KarpenterVersion, entries: &mut Vec<Diagnostic>) {
    let name = v.at("/metadata/name").and_then(Value::as_str).unwrap_or("?").to_string();
    let Some(spec) = v.get_mut("spec").and_then(Value::as_object_mut) else { return };
    if let Some(terms) = spec.get_mut("amiSelectorTerms").and_then(Value::as_array_mut) {
        for t in terms {
            if let Some(a) =
                t.get("alias").and_then(Value::as_str).and_then(|a| a.strip_prefix("al2@")).map(str::to_string)
            {
                t["alias"] = json!(format!("al2023@{a}"));
                entries.push(Diagnostic::new(
                    &codes::FAMILY_CHANGED,
                    format!("{name}: amiSelectorTerms alias al2@{a} → al2023@{a}"),
                ));
                if a == "latest" {
                    entries.push(Diagnostic::new(
                        &codes::AMI_LATEST,
                        format!("{name}: al2023@latest; pin a release (al2023@v20251023)"),
                    ));
                }
            }
        }
    }
    if spec.get("amiFamily").and_then(Value::as_str) == Some("AL2") {
        spec.insert("amiFamily".into(), json!("AL2023"));
        let selects = spec
            .get("amiSelectorTerms")
            .and_then(Value::as_array)
            .is_some_and(|t| t.iter().any(|x| x.get("alias").is_none()));
        let what = if selects { ": the AMIs the selector terms pick must be AL2023 images" } else { "" };
        entries.push(Diagnostic::new(&codes::FAMILY_CHANGED, format!("{name}: amiFamily AL2 → AL2023{what}")));
    }
    if let Some(user_data) = spec.get("userData").and_then(Value::as_str).map(str::to_string) {
        let split = nodeclass::split(&Source::new(format!("{file}#{name}.userData"), user_data.into_bytes()), version);
        let already: Vec<String> =
            spec.get("kubelet").and_then(Value::as_object).map(|k| k.keys().cloned().collect()).unwrap_or_default();
        // A move into a key that is already set is reported as dropped below, not as moved.
        entries.extend(split.entries.into_iter().filter(|d| {
            d.code.starts_with("KP")
                && !(d.code == codes::TO_SPEC_KUBELET.code
                    && already.iter().any(|k| d.message.contains(&format!("`{k}` →"))))
        }));
        let kubelet = spec.entry("kubelet").or_insert_with(|| Value::Object(Map::new()));
        if let Some(k) = kubelet.as_object_mut() {
            for (key, value) in split.kubelet {
                if k.contains_key(&key) {
                    entries.push(Diagnostic::new(
                        &codes::OVERRIDDEN,
                        format!("{name}: userData's kubelet `{key}` is dropped: spec.kubelet.{key} is already set and Karpenter applied it over userData"),
                    ));
                } else {
                    k.insert(key, value);
                }
            }
        }
        if spec.get("kubelet").and_then(Value::as_object).is_some_and(Map::is_empty) {
            spec.remove("kubelet");
        }
        if !split.labels.is_empty() || !split.taints.is_empty() {
            let labels: Vec<String> = split.labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
            entries.push(Diagnostic::new(
                &codes::TO_NODEPOOL,
                format!("{name}: labels [{}] and {} taint(s) in userData belong in the NodePool's spec.template; they were removed from userData", labels.join(", "), split.taints.len()),
            ));
        }
        if split.raid0 && !spec.contains_key("instanceStorePolicy") {
            spec.insert("instanceStorePolicy".into(), json!("RAID0"));
        }
        let mapped: Vec<String> = spec
            .get("blockDeviceMappings")
            .and_then(Value::as_array)
            .map(|b| b.iter().filter_map(|m| m.get("deviceName")?.as_str().map(str::to_string)).collect())
            .unwrap_or_default();
        for d in split.data_devices.iter().filter(|d| !mapped.contains(d)) {
            entries.push(Diagnostic::new(&codes::PLACEHOLDER, format!("{name}: userData mounts the data volume {d}, which blockDeviceMappings does not attach; add it with its size")));
        }
        match split.user_data {
            Some(u) => {
                spec.insert("userData".into(), json!(u));
            }
            None => {
                spec.remove("userData");
            }
        }
    }
    entries.extend(problems(v, version));
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = "# Our node classes.\napiVersion: karpenter.k8s.aws/v1\nkind: EC2NodeClass\nmetadata:\n  name: default\nspec:\n  role: KarpenterNodeRole-prod  # keep\n  amiSelectorTerms:\n    - alias: al2023@v20251023\n  subnetSelectorTerms:\n    - tags: {karpenter.sh/discovery: prod}\n  securityGroupSelectorTerms:\n    - tags: {karpenter.sh/discovery: prod}\n---\napiVersion: karpenter.k8s.aws/v1\nkind: EC2NodeClass\nmetadata:\n  name: legacy\nspec:\n  amiSelectorTerms:\n    - alias: al2@v20251023\n  role: KarpenterNodeRole-prod\n  subnetSelectorTerms:\n    - tags: {karpenter.sh/discovery: prod}\n  securityGroupSelectorTerms:\n    - tags: {karpenter.sh/discovery: prod}\n  kubelet:\n    maxPods: 30\n  userData: |\n    #!/bin/bash\n    /etc/eks/bootstrap.sh prod --kubelet-extra-args '--max-pods=58 --image-gc-high-threshold=85'\n  tags:\n    team: search\n";

    #[test]
    fn migrates_al2_classes_and_copies_the_rest() {
        let m = migrate("f.yaml", FILE, KarpenterVersion::V1_14);
        let out = m.text.unwrap();
        let (first, second) = out.split_once("---\n").unwrap();
        assert_eq!(first, FILE.split("---\n").next().unwrap(), "the AL2023 class is copied byte for byte");
        let v: Value = crate::nodeconfig::yaml::from_str(second).unwrap();
        assert_eq!(v["spec"]["amiSelectorTerms"][0]["alias"], "al2023@v20251023");
        assert_eq!(v["spec"]["kubelet"]["maxPods"], 30, "spec.kubelet wins over userData");
        assert_eq!(v["spec"]["kubelet"]["imageGCHighThresholdPercent"], 85);
        assert!(v["spec"].get("userData").is_none(), "nothing left for userData: {second}");
        let keys: Vec<&String> = v["spec"].as_object().unwrap().keys().collect();
        assert_eq!(
            keys,
            ["amiSelectorTerms", "role", "subnetSelectorTerms", "securityGroupSelectorTerms", "kubelet", "tags"]
        );
        assert!(super::super::validate::validate(&v, KarpenterVersion::V1_14).is_empty());
        let codes: Vec<&str> = m.entries.iter().map(|d| d.code).collect();
        assert!(codes.contains(&"KP510") && codes.contains(&"KP506") && !codes.contains(&"KP508"), "{codes:?}");
    }

    #[test]
    fn nothing_to_do_and_legacy_kinds() {
        let al2023 = FILE.split("---\n").next().unwrap();
        assert!(migrate("f.yaml", al2023, KarpenterVersion::V1_14).text.is_none());
        let old = migrate(
            "f.yaml",
            "apiVersion: karpenter.k8s.aws/v1alpha1\nkind: AWSNodeTemplate\nmetadata: {name: x}\n",
            KarpenterVersion::V1_14,
        );
        assert!(old.text.is_none());
        assert_eq!(old.entries[0].code, "KP509");
        let broken = migrate("f.yaml", "a: [\n", KarpenterVersion::V1_14);
        assert_eq!((broken.text, broken.entries.len()), (None, 1));
    }
}
