//! Strict validation that nodeadm never does: nodeadm decodes non-strictly and case-sensitively,
//! so unknown fields, wrong enums and kubelet-config typos vanish silently (docs §1.3). The
//! schemas are generated from the upstream CRD and KubeletConfiguration field list by
//! `tools/gen-schemas.py`, embedded at build time, and applied with `jsonschema`. Each failure
//! becomes a [`SchemaFinding`] with a JSON Pointer and, for misspelt keys and enum values, a
//! did-you-mean.

use crate::nodeconfig::pointer::Pointer as _;
use crate::suggest::did_you_mean;
use serde_json::Value;
use std::sync::OnceLock;

pub const NODECONFIG_SCHEMA: &str = include_str!("../../schemas/nodeconfig.v1alpha1.schema.json");
pub const KUBELET_SCHEMA: &str = include_str!("../../schemas/kubelet-config.v1beta1.schema.json");

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FindingKind {
    /// A key the API does not have; nodeadm drops it.
    UnknownField { field: String, suggestion: Option<String> },
    /// A value of the wrong type, outside an enum, or not matching a format.
    InvalidValue { suggestion: Option<String> },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaFinding {
    /// JSON Pointer of the offending key or value.
    pub pointer: String,
    pub kind: FindingKind,
    pub message: String,
}

struct Compiled {
    raw: Value,
    validator: jsonschema::Validator,
}

#[derive(Debug, thiserror::Error)]
#[error("embedded schema is invalid: {0}")]
pub struct SchemaError(String);

fn compiled() -> Result<&'static Compiled, SchemaError> {
    static CELL: OnceLock<Result<Compiled, String>> = OnceLock::new();
    CELL.get_or_init(|| {
        let raw: Value = serde_json::from_str(NODECONFIG_SCHEMA).map_err(|e| e.to_string())?;
        let validator = jsonschema::draft202012::new(&raw).map_err(|e| e.to_string())?;
        Ok(Compiled { raw, validator })
    })
    .as_ref()
    .map_err(|e| SchemaError(e.clone()))
}

/// Human path for a pointer: `/spec/kubelet/flags/0` → `spec.kubelet.flags[0]`.
pub fn dotted(pointer: &str) -> String {
    let mut out = String::new();
    for seg in pointer.split('/').skip(1) {
        let seg = seg.replace("~1", "/").replace("~0", "~");
        if !seg.is_empty() && seg.bytes().all(|b| b.is_ascii_digit()) {
            out.push_str(&format!("[{seg}]"));
        } else {
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(&seg);
        }
    }
    if out.is_empty() { "(document)".into() } else { out }
}

fn resolve<'a>(root: &'a Value, mut node: &'a Value) -> &'a Value {
    for _ in 0..8 {
        match node.get("$ref").and_then(Value::as_str).and_then(|r| r.strip_prefix('#')) {
            Some(ptr) => node = root.at(ptr).unwrap_or(node),
            None => break,
        }
    }
    node
}

/// The schema node describing the instance at `pointer`.
fn schema_at<'a>(root: &'a Value, pointer: &str) -> Option<&'a Value> {
    let mut node = resolve(root, root);
    for seg in pointer.split('/').skip(1) {
        let seg = seg.replace("~1", "/").replace("~0", "~");
        let next = node
            .get("properties")
            .and_then(|p| p.get(&seg))
            .or_else(|| node.get("items").filter(|_| seg.parse::<usize>().is_ok()))
            .or_else(|| node.get("additionalProperties").filter(|a| a.is_object()))?;
        node = resolve(root, next);
    }
    Some(node)
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "an integer",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}

fn expected_type(schema: Option<&Value>) -> String {
    let name = |t: &str| match t {
        "string" => "a string",
        "integer" => "an integer",
        "number" => "a number",
        "boolean" => "a boolean (true or false)",
        "array" => "a list",
        "object" => "a mapping",
        _ => "another type",
    };
    match schema.and_then(|s| s.get("type")) {
        Some(Value::String(t)) => name(t).to_string(),
        Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).map(name).collect::<Vec<_>>().join(" or "),
        _ => "another type".into(),
    }
}

fn short(v: &Value) -> String {
    let s = match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    if s.chars().count() > 60 { format!("{}…", s.chars().take(60).collect::<String>()) } else { s }
}

fn pattern_message(pointer: &str, value: &Value) -> String {
    let v = short(value);
    if pointer.ends_with("/cluster/cidr") {
        format!("`{v}` is not a CIDR: `cidr` is the cluster's service CIDR, e.g. 10.100.0.0/16 or fd00:10:96::/112")
    } else if pointer.ends_with("/cluster/apiServerEndpoint") {
        format!(
            "`{v}` is not an https URL: `apiServerEndpoint` is the cluster's API server URL, e.g. https://ABC.gr7.us-west-2.eks.amazonaws.com"
        )
    } else if pointer.ends_with("/cluster/certificateAuthority") {
        "`certificateAuthority` is not base64: it is the cluster CA bundle, base64-encoded as DescribeCluster returns it".into()
    } else {
        format!("`{v}` is not a valid duration (Go syntax such as 30s, 5m, 1h30m)")
    }
}

/// Validates one NodeConfig document. `apiVersion`, `kind` and required-field rules are left to
/// their own lint rules, which know more than a schema can say.
pub fn validate(doc: &Value) -> Result<Vec<SchemaFinding>, SchemaError> {
    let c = compiled()?;
    let mut out = Vec::new();
    for err in c.validator.iter_errors(doc) {
        let pointer = err.instance_path().as_str().to_string();
        if matches!(pointer.as_str(), "/apiVersion" | "/kind") {
            continue;
        }
        let here = schema_at(&c.raw, &pointer);
        match err.kind() {
            jsonschema::error::ValidationErrorKind::Required { .. }
            | jsonschema::error::ValidationErrorKind::Constant { .. } => {}
            jsonschema::error::ValidationErrorKind::AdditionalProperties { unexpected } => {
                let allowed: Vec<&str> = here
                    .and_then(|s| s.get("properties"))
                    .and_then(Value::as_object)
                    .map(|p| p.keys().map(String::as_str).collect())
                    .unwrap_or_default();
                for field in unexpected {
                    let suggestion = did_you_mean(field, allowed.iter().copied());
                    let parent = dotted(&pointer);
                    let mut message = if pointer.is_empty() {
                        format!("`{field}` is not a NodeConfig field")
                    } else {
                        format!("`{field}` is not a field of `{parent}`")
                    };
                    if pointer.contains("/kubelet/config") {
                        message = format!(
                            "`{field}` is not a KubeletConfiguration (v1beta1) field{}",
                            if pointer.ends_with("/kubelet/config") {
                                String::new()
                            } else {
                                format!(" of `{parent}`")
                            }
                        );
                    }
                    out.push(SchemaFinding {
                        pointer: format!("{pointer}/{}", super::yaml::escape(field)),
                        kind: FindingKind::UnknownField { field: field.clone(), suggestion },
                        message,
                    });
                }
            }
            jsonschema::error::ValidationErrorKind::Enum { options } => {
                let opts: Vec<String> = options.as_array().map(|a| a.iter().map(short).collect()).unwrap_or_default();
                let value = short(err.instance());
                let suggestion = did_you_mean(&value, opts.iter().map(String::as_str));
                out.push(SchemaFinding {
                    message: format!(
                        "`{value}` is not allowed for `{}`: expected one of {}",
                        dotted(&pointer),
                        opts.join(", ")
                    ),
                    pointer,
                    kind: FindingKind::InvalidValue { suggestion },
                });
            }
            // Go's JSON decoder (nodeadm, and the kubelet reading its drop-in) takes `null` for
            // any field without error and leaves the field unset: `featureGates:` with nothing
            // after it is no wrong type.
            jsonschema::error::ValidationErrorKind::Type { .. } if err.instance().is_null() => {}
            jsonschema::error::ValidationErrorKind::Type { .. } => out.push(SchemaFinding {
                message: format!(
                    "`{}` must be {}, not {}",
                    dotted(&pointer),
                    expected_type(here),
                    type_name(err.instance())
                ),
                pointer,
                kind: FindingKind::InvalidValue { suggestion: None },
            }),
            jsonschema::error::ValidationErrorKind::Pattern { .. } => out.push(SchemaFinding {
                message: pattern_message(&pointer, err.instance()),
                pointer,
                kind: FindingKind::InvalidValue { suggestion: None },
            }),
            _ => out.push(SchemaFinding {
                message: format!("`{}`: {err}", dotted(&pointer)),
                pointer,
                kind: FindingKind::InvalidValue { suggestion: None },
            }),
        }
    }
    out.sort_by(|a, b| a.pointer.cmp(&b.pointer).then(a.message.cmp(&b.message)));
    out.dedup();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn check(doc: Value) -> Vec<SchemaFinding> {
        validate(&doc).unwrap()
    }

    #[test]
    fn embedded_schemas_compile() {
        let k: Value = serde_json::from_str(KUBELET_SCHEMA).unwrap();
        jsonschema::draft202012::new(&k).unwrap();
        assert!(compiled().is_ok());
    }

    #[test]
    fn null_is_no_wrong_type_as_for_go() {
        // `featureGates:` and `flags:` with nothing after them: Go leaves the fields unset.
        let doc = json!({"apiVersion": "node.eks.aws/v1alpha1", "kind": "NodeConfig", "spec": {
            "featureGates": null, "kubelet": {"flags": null, "config": {"maxPods": null}}}});
        assert_eq!(check(doc), vec![]);
        let doc = json!({"apiVersion": "node.eks.aws/v1alpha1", "kind": "NodeConfig", "spec": {"featureGates": "yes"}});
        assert_eq!(check(doc).len(), 1, "a string is still the wrong type");
    }

    #[test]
    fn valid_document_has_no_findings() {
        let doc = json!({"apiVersion": "node.eks.aws/v1alpha1", "kind": "NodeConfig", "spec": {
            "cluster": {"name": "c", "apiServerEndpoint": "https://x.eks.amazonaws.com", "certificateAuthority": "Y2E=", "cidr": "10.100.0.0/16"},
            "kubelet": {"config": {"maxPods": 58, "evictionHard": {"memory.available": "5%"}, "shutdownGracePeriod": "30s",
                        "registerWithTaints": [{"key": "a", "effect": "NoSchedule"}], "logging": {"verbosity": 3}}, "flags": ["--node-labels=a=b"]},
            "containerd": {"baseRuntimeSpec": {"process": {"rlimits": [{"type": "RLIMIT_NOFILE", "soft": 1, "hard": 2}]}}},
            "instance": {"localStorage": {"strategy": "RAID0"}}, "featureGates": {"FastImagePull": true}}});
        assert_eq!(check(doc), vec![]);
    }

    #[test]
    fn unknown_fields_get_did_you_mean() {
        let f = check(
            json!({"apiVersion": "x", "kind": "NodeConfig", "spec": {"cluster": {"clusterEndpoint": "https://x", "apiserverEndpoint": "https://x"},
            "kubelet": {"config": {"maxpods": 3, "authentication": {"anonymous": {"enable": true}}}}}}),
        );
        let got: Vec<_> = f.iter().map(|f| (f.pointer.as_str(), f.kind.clone())).collect();
        assert_eq!(
            got,
            vec![
                (
                    "/spec/cluster/apiserverEndpoint",
                    FindingKind::UnknownField {
                        field: "apiserverEndpoint".into(),
                        suggestion: Some("apiServerEndpoint".into())
                    }
                ),
                (
                    "/spec/cluster/clusterEndpoint",
                    FindingKind::UnknownField { field: "clusterEndpoint".into(), suggestion: None }
                ),
                (
                    "/spec/kubelet/config/authentication/anonymous/enable",
                    FindingKind::UnknownField { field: "enable".into(), suggestion: Some("enabled".into()) }
                ),
                (
                    "/spec/kubelet/config/maxpods",
                    FindingKind::UnknownField { field: "maxpods".into(), suggestion: Some("maxPods".into()) }
                ),
            ]
        );
    }

    #[test]
    fn values_are_checked() {
        let f = check(
            json!({"spec": {"cluster": {"cidr": "10.0.0.0", "apiServerEndpoint": "http://x", "certificateAuthority": "not base64!"},
            "instance": {"localStorage": {"strategy": "raid0", "disabledMounts": ["Kubelet"]}}, "kubelet": {"config": {"maxPods": "58"}}}}),
        );
        let msgs: Vec<_> = f.iter().map(|f| format!("{} {}", f.pointer, f.message)).collect();
        insta::assert_debug_snapshot!(msgs);
        assert!(f.iter().any(|x| x.kind == FindingKind::InvalidValue { suggestion: Some("RAID0".into()) }));
    }

    #[test]
    fn dotted_paths() {
        assert_eq!(dotted("/spec/kubelet/flags/0"), "spec.kubelet.flags[0]");
        assert_eq!(dotted("/spec/kubelet/config/a~1b"), "spec.kubelet.config.a/b");
    }
}
