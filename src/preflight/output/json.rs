//! The report as JSON (`schemas/preflight-report.v1.schema.json`).

use super::super::Report;
use crate::diagnostic::Severity;
use serde_json::{Value, json};

pub const SCHEMA: &str = "eks-userdata/preflight-report/v1";

pub fn value(r: &Report) -> Value {
    let count = |s: Severity| r.findings.iter().filter(|f| f.severity == s).count();
    json!({
        "schema": SCHEMA,
        "cluster": r.cluster,
        "lookedAt": {"kubernetes": r.kubernetes, "aws": r.aws},
        "summary": {"errors": count(Severity::Error), "warnings": count(Severity::Warning), "infos": count(Severity::Info)},
        "findings": r.findings,
    })
}
