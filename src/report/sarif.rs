//! SARIF 2.1.0 for GitHub code scanning (OASIS SARIF 2.1.0; GitHub's ingestion rules in
//! docs/rust-stack.md §4.2): one run, the tool's rules with short and full descriptions and help,
//! results with `ruleId`/`ruleIndex`, level, message and a region in the user's file. Stable
//! `ruleId`s and repository-relative paths let GitHub track alerts across runs. Built with
//! `serde_json::json!`, as ruff does; no SARIF crate needed.

use super::FileReport;
use crate::diagnostic::RuleMeta;
use crate::diagnostic::Severity;
use serde_json::{Value, json};

pub fn level(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    }
}

/// A code as a SARIF reporting descriptor (`tool.driver.rules[]`).
pub fn rule(m: &RuleMeta) -> Value {
    json!({
        "id": m.code,
        "name": m.name,
        "shortDescription": {"text": m.summary},
        "fullDescription": {"text": m.explanation},
        "help": {"text": m.explanation},
        "defaultConfiguration": {"level": level(m.severity)},
    })
}

pub fn value(reports: &[FileReport], rules: &[&RuleMeta]) -> Value {
    let rule_objs: Vec<Value> = rules.iter().map(|m| rule(m)).collect();
    let mut results = Vec::new();
    for r in reports {
        for f in &r.findings {
            let d = &f.diagnostic;
            let mut text = d.message.clone();
            if let Some(h) = &d.help {
                text.push_str(&format!(" (help: {h})"));
            }
            let mut loc = json!({"physicalLocation": {"artifactLocation": {"uri": r.path.trim_start_matches("./")}}});
            if let Some(l) = f.location.as_ref().filter(|l| l.within.is_none())
                && let Some(physical) = loc.get_mut("physicalLocation").and_then(|p| p.as_object_mut())
            {
                physical.insert(
                    "region".into(),
                    json!({
                        "startLine": l.line,
                        "startColumn": l.column,
                        "endLine": l.end_line,
                        "endColumn": l.end_column.max(if l.end_line == l.line { l.column + 1 } else { 1 }),
                    }),
                );
            }
            let mut result = json!({
                "ruleId": d.code,
                "level": level(d.severity),
                "message": {"text": text},
                "locations": [loc],
            });
            if let Some(i) = rules.iter().position(|m| m.code == d.code)
                && let Some(fields) = result.as_object_mut()
            {
                fields.insert("ruleIndex".into(), json!(i));
            }
            results.push(result);
        }
    }
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "eks-userdata",
                "version": env!("CARGO_PKG_VERSION"),
                "informationUri": "https://github.com/eks-userdata/eks-userdata",
                "rules": rule_objs,
            }},
            "results": results,
        }],
    })
}

pub fn render(reports: &[FileReport], rules: &[&RuleMeta]) -> String {
    let mut s = serde_json::to_string_pretty(&value(reports, rules)).unwrap_or_default();
    s.push('\n');
    s
}
