//! One line per finding, `path:line:col: CODE [severity] message` — grep-able, what editors and
//! pre-commit show (ruff's `concise`).

use super::FileReport;
use std::fmt::Write as _;

pub fn render(reports: &[FileReport]) -> String {
    let mut out = String::new();
    for r in reports {
        for f in &r.findings {
            let d = &f.diagnostic;
            let at = match &f.location {
                Some(l) if l.within.is_none() => format!("{}:{}:{}", r.path, l.line, l.column),
                Some(l) => {
                    format!("{}:{}:{} (in the {})", r.path, l.line, l.column, l.within.as_deref().unwrap_or_default())
                }
                None => r.path.clone(),
            };
            let _ = writeln!(out, "{at}: {} [{}] {}", d.code, d.severity, d.message);
        }
    }
    out
}
