//! Machine output. The shape is a stable contract (fields are only ever added): `version`,
//! `files[].{path, findings[], equivalence?}`, each finding `{code, name, severity, message, help, location,
//! part, pointer}`, and a `summary`. Keys keep this order (serde_json `preserve_order`).

use super::{FileReport, Finding};
use crate::diagnostic::Severity;
use serde_json::{Value, json};

fn finding(f: &Finding) -> Value {
    let d = &f.diagnostic;
    json!({
        "code": d.code,
        "name": d.name,
        "severity": d.severity,
        "message": d.message,
        "help": d.help,
        "location": f.location.as_ref().map(|l| json!({
            "line": l.line,
            "column": l.column,
            "end_line": l.end_line,
            "end_column": l.end_column,
            "byte_start": l.byte_start,
            "byte_end": l.byte_end,
            "within": l.within,
        })),
        "part": f.part.as_ref().map(|p| json!({
            "index": p.index,
            "content_type": p.content_type,
            "kind": p.kind,
        })),
        "pointer": d.pointer,
    })
}

fn equivalence(e: &crate::effective::Equivalence) -> Value {
    use crate::effective::Verdict;
    json!({
        "instance_type": e.instance_type,
        "al2_fails": e.al2_fails,
        "al2023_fails": e.al2023_fails,
        "compared": e.rows.len(),
        "same": e.same(),
        "explained": e.explained(),
        "unexplained": e.unexplained().count(),
        "fields": e.rows.iter().map(|r| json!({
            "field": r.field,
            "al2": r.al2,
            "al2023": r.al2023,
            "verdict": match &r.verdict {
                Verdict::Same => "same",
                Verdict::Explained { .. } => "explained",
                Verdict::Unexplained => "unexplained",
            },
            "code": match &r.verdict {
                Verdict::Explained { code, .. } => Some(*code),
                Verdict::Unexplained => Some("CV437"),
                Verdict::Same => None,
            },
        })).collect::<Vec<_>>(),
    })
}

pub fn value(reports: &[FileReport]) -> Value {
    let count = |s| reports.iter().map(|r| r.count(s)).sum::<usize>();
    json!({
        "version": 1,
        "files": reports.iter().map(|r| {
            let mut f = json!({
                "path": r.path,
                "findings": r.findings.iter().map(finding).collect::<Vec<_>>(),
            });
            if let Some(e) = &r.equivalence
                && let Some(fields) = f.as_object_mut()
            {
                fields.insert("equivalence".into(), equivalence(e));
            }
            f
        }).collect::<Vec<_>>(),
        "summary": {
            "files": reports.len(),
            "errors": count(Severity::Error),
            "warnings": count(Severity::Warning),
            "infos": count(Severity::Info),
        },
    })
}

pub fn render(reports: &[FileReport]) -> String {
    let mut s = serde_json::to_string_pretty(&value(reports)).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    s.push('\n');
    s
}
