//! Validation of an `EC2NodeClass` (karpenter.k8s.aws/v1) as the API server would do it: the
//! CRD's OpenAPI schema (made strict by `tools/gen-schemas.py`, so unknown fields are errors as
//! with `kubectl apply --validate=strict`), and the CRD's `x-kubernetes-validations` CEL rules,
//! written here as code because no CEL engine runs here. The rules and their messages are the
//! CRD's (`../shared/reference/karpenter.k8s.aws_ec2nodeclasses.v1.14.1.yaml`).

use serde_json::{Map, Value};

/// Which CRD: v1.14.1 has a typed `spec.kubelet`; main has an open map validated as a
/// KubeletConfiguration (peers §1.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum KarpenterVersion {
    #[default]
    V1_14,
    Main,
}

impl KarpenterVersion {
    pub fn as_str(self) -> &'static str {
        match self {
            KarpenterVersion::V1_14 => "v1.14.1",
            KarpenterVersion::Main => "main",
        }
    }
}

/// One violation: where (JSON Pointer) and what, in the CRD's words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub pointer: String,
    pub message: String,
}

#[cfg(feature = "schema")]
mod schema {
    use super::KarpenterVersion;
    use std::sync::OnceLock;

    const V1_14: &str = include_str!("../../schemas/ec2nodeclass.v1.14.1.schema.json");
    const MAIN: &str = include_str!("../../schemas/ec2nodeclass.main.schema.json");

    pub fn validator(v: KarpenterVersion) -> Result<&'static jsonschema::Validator, String> {
        static A: OnceLock<Result<jsonschema::Validator, String>> = OnceLock::new();
        static B: OnceLock<Result<jsonschema::Validator, String>> = OnceLock::new();
        let (cell, text) = match v {
            KarpenterVersion::V1_14 => (&A, V1_14),
            KarpenterVersion::Main => (&B, MAIN),
        };
        cell.get_or_init(|| {
            let raw: serde_json::Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
            jsonschema::draft202012::new(&raw).map_err(|e| e.to_string())
        })
        .as_ref()
        .map_err(Clone::clone)
    }
}

/// Every problem with `doc`, schema first, then the CEL rules.
pub fn validate(doc: &Value, version: KarpenterVersion) -> Vec<Problem> {
    let mut out = Vec::new();
    #[cfg(feature = "schema")]
    match schema::validator(version) {
        Ok(v) => {
            for e in v.iter_errors(doc) {
                out.push(Problem { pointer: e.instance_path().to_string(), message: e.to_string() });
            }
        }
        Err(e) => out
            .push(Problem { pointer: String::new(), message: format!("embedded EC2NodeClass schema is invalid: {e}") }),
    }
    let Some(spec) = doc.get("spec").and_then(Value::as_object) else { return out };
    cel_rules(spec, version, &mut out);
    out
}

const EVICTION_KEYS: &[&str] = &[
    "memory.available",
    "nodefs.available",
    "nodefs.inodesFree",
    "imagefs.available",
    "imagefs.inodesFree",
    "pid.available",
];
const RESERVED_KEYS: &[&str] = &["cpu", "memory", "ephemeral-storage", "pid"];
const ALIAS_FAMILIES: &[(&str, &str)] = &[
    ("al2", "AL2"),
    ("al2023", "AL2023"),
    ("bottlerocket", "Bottlerocket"),
    ("windows2019", "Windows2019"),
    ("windows2022", "Windows2022"),
    ("windows2025", "Windows2025"),
];

fn cel_rules(spec: &Map<String, Value>, version: KarpenterVersion, out: &mut Vec<Problem>) {
    let mut fail =
        |pointer: &str, message: &str| out.push(Problem { pointer: pointer.into(), message: message.into() });
    let has = |k: &str| spec.contains_key(k);

    if has("role") == has("instanceProfile") {
        fail("/spec", "must specify exactly one of ['role', 'instanceProfile']");
    }
    for k in ["role", "instanceProfile"] {
        if spec.get(k).and_then(Value::as_str) == Some("") {
            fail(&format!("/spec/{k}"), &format!("{k} cannot be empty"));
        }
    }

    let terms: &[Value] = spec.get("amiSelectorTerms").and_then(Value::as_array).map_or(&[], Vec::as_slice);
    let term_has = |t: &Value, k: &str| t.get(k).is_some();
    let aliases: Vec<&str> = terms.iter().filter_map(|t| t.get("alias").and_then(Value::as_str)).collect();
    for (i, t) in terms.iter().enumerate() {
        if !["tags", "id", "name", "alias", "ssmParameter"].iter().any(|k| term_has(t, k)) {
            fail(
                &format!("/spec/amiSelectorTerms/{i}"),
                "expected at least one, got none, ['tags', 'id', 'name', 'alias', 'ssmParameter']",
            );
        }
        if term_has(t, "id") && ["alias", "tags", "name", "owner"].iter().any(|k| term_has(t, k)) {
            fail(
                "/spec/amiSelectorTerms",
                "'id' is mutually exclusive, cannot be set with a combination of other fields in amiSelectorTerms",
            );
        }
        if term_has(t, "alias") && ["id", "tags", "name", "owner"].iter().any(|k| term_has(t, k)) {
            fail(
                "/spec/amiSelectorTerms",
                "'alias' is mutually exclusive, cannot be set with a combination of other fields in amiSelectorTerms",
            );
        }
        if let Some(a) = t.get("alias").and_then(Value::as_str) {
            let p = format!("/spec/amiSelectorTerms/{i}/alias");
            let (family, version) = a.split_once('@').unwrap_or((a, ""));
            if family.is_empty() || !family.bytes().all(|b| b.is_ascii_alphanumeric()) || version.is_empty() {
                fail(&p, "'alias' is improperly formatted, must match the format 'family@version'");
            } else if !ALIAS_FAMILIES.iter().any(|(f, _)| *f == family) {
                fail(
                    &p,
                    "family is not supported, must be one of the following: 'al2', 'al2023', 'bottlerocket', 'windows2019', 'windows2022', 'windows2025'",
                );
            } else if family.starts_with("windows") && version != "latest" {
                fail(&p, "windows families may only specify version 'latest'");
            }
        }
    }
    if !aliases.is_empty() && terms.len() != 1 {
        fail(
            "/spec/amiSelectorTerms",
            "'alias' is mutually exclusive, cannot be set with a combination of other amiSelectorTerms",
        );
    }
    match (spec.get("amiFamily").and_then(Value::as_str), aliases.first()) {
        (None, None) => fail("/spec", "must specify amiFamily if amiSelectorTerms does not contain an alias"),
        (Some(family), Some(alias)) => {
            let alias_family = alias.split('@').next().unwrap_or_default();
            if let Some((_, want)) = ALIAS_FAMILIES.iter().find(|(f, _)| *f == alias_family)
                && family != *want
                && family != "Custom"
            {
                fail(
                    "/spec/amiFamily",
                    &format!("if set, amiFamily must be '{want}' or 'Custom' when using an {want} alias"),
                );
            }
        }
        _ => {}
    }

    for (key, ids) in
        [("subnetSelectorTerms", &["tags", "id"][..]), ("securityGroupSelectorTerms", &["tags", "id", "name"][..])]
    {
        let terms: &[Value] = spec.get(key).and_then(Value::as_array).map_or(&[], Vec::as_slice);
        let p = format!("/spec/{key}");
        if terms.is_empty() {
            fail(&p, &format!("{key} cannot be empty"));
        }
        for t in terms {
            if !ids.iter().any(|k| term_has(t, k)) {
                fail(&p, &format!("expected at least one, got none, {:?}", ids).replace('"', "'"));
            }
            if term_has(t, "id") && ids.iter().filter(|k| **k != "id").any(|k| term_has(t, k)) {
                fail(
                    &p,
                    "'id' is mutually exclusive, cannot be set with a combination of other fields in a selector term",
                );
            }
            if let Some(tags) = t.get("tags").and_then(Value::as_object)
                && tags.iter().any(|(k, v)| k.is_empty() || v.as_str() == Some(""))
            {
                fail(&p, "empty tag keys or values aren't supported");
            }
        }
    }

    if let Some(bdms) = spec.get("blockDeviceMappings").and_then(Value::as_array) {
        if bdms.iter().filter(|b| b.get("rootVolume").and_then(Value::as_bool) == Some(true)).count() > 1 {
            fail("/spec/blockDeviceMappings", "must have only one blockDeviceMappings with rootVolume");
        }
        for (i, b) in bdms.iter().enumerate() {
            if let Some(ebs) = b.get("ebs")
                && ebs.get("snapshotID").is_none()
                && ebs.get("volumeSize").is_none()
            {
                fail(&format!("/spec/blockDeviceMappings/{i}/ebs"), "snapshotID or volumeSize must be defined");
            }
        }
    }

    if let Some(tags) = spec.get("tags").and_then(Value::as_object) {
        for k in tags.keys() {
            let restricted = k == "eks:eks-cluster-name"
                || k.starts_with("kubernetes.io/cluster")
                || ["karpenter.sh/nodepool", "karpenter.sh/nodeclaim", "karpenter.k8s.aws/ec2nodeclass"]
                    .contains(&k.as_str());
            if k.is_empty() || restricted {
                fail("/spec/tags", &format!("tag `{k}` is empty or restricted (Karpenter sets it)"));
            }
        }
    }

    if let Some(k) = spec.get("kubelet").and_then(Value::as_object) {
        kubelet_rules(k, version, &mut fail);
    }
}

/// v1.14.1's `spec.kubelet` rules; on main the map is open and these keys are still the
/// kubelet's, so the same constraints hold (the kubelet itself rejects the rest).
fn kubelet_rules(k: &Map<String, Value>, _version: KarpenterVersion, fail: &mut impl FnMut(&str, &str)) {
    let num = |key: &str| k.get(key).and_then(Value::as_f64);
    if let (Some(high), Some(low)) = (num("imageGCHighThresholdPercent"), num("imageGCLowThresholdPercent"))
        && high <= low
    {
        fail("/spec/kubelet", "imageGCHighThresholdPercent must be greater than imageGCLowThresholdPercent");
    }
    let keys = |key: &str| k.get(key).and_then(Value::as_object).map(|m| m.keys().cloned().collect::<Vec<_>>());
    let (soft, grace) = (keys("evictionSoft"), keys("evictionSoftGracePeriod"));
    if let Some(s) = &soft
        && s.iter().any(|e| !grace.as_ref().is_some_and(|g| g.contains(e)))
    {
        fail("/spec/kubelet", "evictionSoft OwnerKey does not have a matching evictionSoftGracePeriod");
    }
    if let Some(g) = &grace
        && g.iter().any(|e| !soft.as_ref().is_some_and(|s| s.contains(e)))
    {
        fail("/spec/kubelet", "evictionSoftGracePeriod OwnerKey does not have a matching evictionSoft");
    }
    for key in ["evictionHard", "evictionSoft", "evictionSoftGracePeriod"] {
        if keys(key).is_some_and(|ks| ks.iter().any(|x| !EVICTION_KEYS.contains(&x.as_str()))) {
            fail(
                &format!("/spec/kubelet/{key}"),
                &format!("valid keys for {key} are {EVICTION_KEYS:?}").replace('"', "'"),
            );
        }
    }
    for key in ["kubeReserved", "systemReserved"] {
        let Some(m) = k.get(key).and_then(Value::as_object) else { continue };
        if m.keys().any(|x| !RESERVED_KEYS.contains(&x.as_str())) {
            fail(
                &format!("/spec/kubelet/{key}"),
                &format!("valid keys for {key} are ['cpu','memory','ephemeral-storage','pid']"),
            );
        }
        if m.values().any(|v| v.as_str().is_some_and(|s| s.starts_with('-'))) {
            fail(&format!("/spec/kubelet/{key}"), &format!("{key} value cannot be a negative resource quantity"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn good() -> Value {
        json!({
            "apiVersion": "karpenter.k8s.aws/v1",
            "kind": "EC2NodeClass",
            "metadata": {"name": "default"},
            "spec": {
                "role": "KarpenterNodeRole-prod",
                "amiSelectorTerms": [{"alias": "al2023@v20251023"}],
                "subnetSelectorTerms": [{"tags": {"karpenter.sh/discovery": "prod"}}],
                "securityGroupSelectorTerms": [{"tags": {"karpenter.sh/discovery": "prod"}}],
                "kubelet": {"maxPods": 110, "evictionSoft": {"memory.available": "5%"}, "evictionSoftGracePeriod": {"memory.available": "1m"}}
            }
        })
    }

    fn messages(doc: &Value) -> Vec<String> {
        validate(doc, KarpenterVersion::V1_14).into_iter().map(|p| format!("{} {}", p.pointer, p.message)).collect()
    }

    #[test]
    fn a_correct_nodeclass_passes_both_crds() {
        assert_eq!(messages(&good()), Vec::<String>::new());
        assert_eq!(validate(&good(), KarpenterVersion::Main), vec![]);
    }

    #[test]
    fn the_crd_rules_are_enforced() {
        let mut d = good();
        d["spec"]["instanceProfile"] = json!("x");
        d["spec"]["amiFamily"] = json!("AL2");
        d["spec"]["kubelet"]["imageGCHighThresholdPercent"] = json!(50);
        d["spec"]["kubelet"]["imageGCLowThresholdPercent"] = json!(60);
        d["spec"]["kubelet"]["evictionSoft"]["nodefs.available"] = json!("10%");
        d["spec"]["amiSelectorTerms"] = json!([{"alias": "al2023@latest"}, {"id": "ami-1"}]);
        let m = messages(&d).join("\n");
        for want in [
            "must specify exactly one of ['role', 'instanceProfile']",
            "amiFamily must be 'AL2023' or 'Custom' when using an AL2023 alias",
            "imageGCHighThresholdPercent must be greater than imageGCLowThresholdPercent",
            "evictionSoft OwnerKey does not have a matching evictionSoftGracePeriod",
            "'alias' is mutually exclusive, cannot be set with a combination of other amiSelectorTerms",
        ] {
            assert!(m.contains(want), "missing {want:?} in\n{m}");
        }
    }

    #[test]
    fn the_schema_rejects_unknown_fields_and_checks_kubelet_by_version() {
        let mut d = good();
        d["spec"]["kubelet"]["registerWithTaints"] = json!([]);
        d["spec"]["userdata"] = json!("x");
        let m = messages(&d).join("\n");
        assert!(m.contains("userdata") && m.contains("registerWithTaints"), "{m}");
        // main: spec.kubelet is any KubeletConfiguration field, and only those.
        let mut d = good();
        d["spec"]["kubelet"]["registerWithTaints"] = json!([]);
        assert_eq!(validate(&d, KarpenterVersion::Main), vec![]);
        d["spec"]["kubelet"]["maxPodz"] = json!(1);
        assert!(!validate(&d, KarpenterVersion::Main).is_empty());
    }
}
