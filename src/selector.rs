//! Kubernetes label selectors (`metav1.LabelSelector`: `matchLabels` and `matchExpressions` with
//! `In`, `NotIn`, `Exists`, `DoesNotExist`), matched as the API server matches them
//! (k8s.io/apimachinery `LabelSelectorAsSelector`): every requirement must hold; an empty
//! selector matches everything, and a missing one (`None`) matches nothing, as a
//! PodDisruptionBudget without a selector selects no pods.

use serde_json::Value;
use std::collections::BTreeMap;

/// Whether `selector` (a LabelSelector as JSON) selects an object with `labels`.
pub fn matches(selector: Option<&Value>, labels: &BTreeMap<String, String>) -> bool {
    let Some(sel) = selector.and_then(Value::as_object) else { return false };
    let by_labels = sel
        .get("matchLabels")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .all(|(k, v)| labels.get(k).map(String::as_str) == v.as_str());
    let by_exprs = sel.get("matchExpressions").and_then(Value::as_array).into_iter().flatten().all(|e| {
        let key = e.get("key").and_then(Value::as_str).unwrap_or_default();
        let has = labels.get(key);
        let values: Vec<&str> =
            e.get("values").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str).collect();
        match e.get("operator").and_then(Value::as_str).unwrap_or_default() {
            "In" => has.is_some_and(|v| values.contains(&v.as_str())),
            "NotIn" => has.is_none_or(|v| !values.contains(&v.as_str())),
            "Exists" => has.is_some(),
            "DoesNotExist" => has.is_none(),
            _ => false,
        }
    });
    by_labels && by_exprs
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn as_the_api_server_matches() {
        let web = labels(&[("app", "web"), ("tier", "front")]);
        assert!(matches(Some(&json!({})), &web), "empty selects everything");
        assert!(!matches(None, &web), "none selects nothing");
        assert!(matches(Some(&json!({"matchLabels": {"app": "web"}})), &web));
        assert!(!matches(Some(&json!({"matchLabels": {"app": "db"}})), &web));
        let exprs =
            |op: &str, values: Value| json!({"matchExpressions": [{"key": "tier", "operator": op, "values": values}]});
        assert!(matches(Some(&exprs("In", json!(["front", "back"]))), &web));
        assert!(!matches(Some(&exprs("NotIn", json!(["front"]))), &web));
        assert!(matches(Some(&exprs("Exists", json!([]))), &web));
        assert!(!matches(Some(&exprs("DoesNotExist", json!([]))), &web));
        assert!(!matches(Some(&exprs("Gt", json!(["1"]))), &web), "an unknown operator selects nothing");
    }
}
