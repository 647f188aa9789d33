//! The report as SARIF 2.1.0 (as `report::sarif`, for code scanning dashboards): the preflight
//! codes as rules, each finding a result whose location is the logical resource it looked at.

use super::super::{Report, codes};
use crate::report::sarif::{self, level};
use serde_json::{Value, json};

pub fn value(r: &Report) -> Value {
    let rules: Vec<Value> = codes::ALL.iter().map(|m| sarif::rule(m)).collect();
    let results: Vec<Value> = r
        .findings
        .iter()
        .map(|f| {
            let mut result = json!({
                "ruleId": f.code,
                "ruleIndex": codes::ALL.iter().position(|m| m.code == f.code).unwrap_or(0),
                "level": level(f.severity),
                "message": {"text": format!("{}: {}", f.subject, f.message)},
                "locations": [{"logicalLocations": [{"name": f.subject, "kind": "resource"}]}],
            });
            if let (Some(c), Some(o)) = (f.confidence, result.as_object_mut()) {
                o.insert("properties".into(), json!({"confidence": c}));
            }
            result
        })
        .collect();
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "eks-userdata preflight",
                "informationUri": "https://github.com/eks-userdata/eks-userdata",
                "version": env!("CARGO_PKG_VERSION"),
                "rules": rules,
            }},
            "results": results,
        }],
    })
}
