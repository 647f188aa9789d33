//! The report for a terminal: one line per finding, worst first, then a count.

use super::super::Report;
use crate::diagnostic::Severity;

pub fn render(r: &Report) -> String {
    let mut out = String::new();
    let sources = match (r.kubernetes, r.aws) {
        (true, true) => "the Kubernetes API and AWS",
        (true, false) => "the Kubernetes API only",
        (false, true) => "AWS only",
        (false, false) => "nothing",
    };
    out.push_str(&format!(
        "preflight{}: read {sources}\n",
        r.cluster.as_deref().map(|c| format!(" for cluster {c}")).unwrap_or_default()
    ));
    for f in &r.findings {
        let sev = match f.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "info",
        };
        let sure = f
            .confidence
            .map(|c| {
                format!(
                    " [{}]",
                    serde_json::to_value(c).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default()
                )
            })
            .unwrap_or_default();
        out.push_str(&format!("{sev}[{} {}] {}: {}{sure}\n", f.code, f.name, f.subject, f.message));
        if f.severity != Severity::Info && !f.fix.is_empty() {
            out.push_str(&format!("    fix: {}\n", f.fix));
        }
    }
    let count = |s: Severity| r.findings.iter().filter(|f| f.severity == s).count();
    out.push_str(&format!(
        "{} error(s), {} warning(s), {} info; `eks-userdata explain CODE` says more\n",
        count(Severity::Error),
        count(Severity::Warning),
        count(Severity::Info)
    ));
    out
}
