//! Human output in rustc's shape (`path:line:col: severity[CODE name]: message`, the source line
//! with carets, `= help:` lines), plain text only so it reads the same in a terminal, a CI log
//! and a pre-commit hook.

use super::{FileReport, Finding};
use crate::diagnostic::Severity;
use std::fmt::Write as _;

/// Characters of a source line shown at most.
const WINDOW: usize = 160;

fn finding(out: &mut String, path: &str, f: &Finding) {
    let d = &f.diagnostic;
    let head = match &f.location {
        Some(l) if l.within.is_none() => format!("{path}:{}:{}", l.line, l.column),
        _ => path.to_string(),
    };
    let _ = writeln!(out, "{head}: {}[{} {}]: {}", d.severity, d.code, d.name, d.message);
    if let (Some(l), Some(line)) = (&f.location, &f.source_line) {
        let num = l.line.to_string();
        let pad = " ".repeat(num.len());
        // Never echo control characters (escape sequences in a hostile file) to a terminal.
        let chars: Vec<char> = line.chars().map(|c| if c.is_control() && c != '\t' { '\u{FFFD}' } else { c }).collect();
        // A long line (minified JSON, a CloudFormation string) is shown as a window around the
        // column, so the caret stays under the bytes it is about.
        let skip = if l.column > WINDOW - 40 { l.column - 1 - 40 } else { 0 };
        let window: String = chars.iter().skip(skip).take(WINDOW).collect();
        let shown = if skip > 0 { format!("…{window}") } else { window };
        let column = l.column - skip + usize::from(skip > 0);
        let width = if l.end_line == l.line { l.end_column.saturating_sub(l.column).max(1) } else { 1 };
        let width = width.min(shown.chars().count().saturating_sub(column - 1).max(1));
        let lead: String = shown.chars().take(column - 1).map(|c| if c == '\t' { '\t' } else { ' ' }).collect();
        let _ = writeln!(out, "{pad} |");
        let _ = writeln!(out, "{num} | {shown}");
        let _ = writeln!(out, "{pad} | {lead}{}", "^".repeat(width));
        if let Some(w) = &l.within {
            let _ = writeln!(out, "{pad} = note: line {}, column {} of the {w}", l.line, l.column);
        }
    }
    let pad = f.location.as_ref().map_or(1, |l| l.line.to_string().len());
    let pad = " ".repeat(pad);
    if let Some(p) = &f.part {
        let ct = p.content_type.as_deref().unwrap_or("no Content-Type");
        let _ = writeln!(out, "{pad} = in: part {} ({ct})", p.index);
    }
    if let Some(h) = &d.help {
        let _ = writeln!(out, "{pad} = help: {h}");
    }
    out.push('\n');
}

fn equivalence(out: &mut String, path: &str, e: &crate::effective::Equivalence) {
    use crate::effective::Verdict;
    let _ = writeln!(out, "{path}: {}", e.summary());
    for r in &e.rows {
        let mark = match &r.verdict {
            Verdict::Same => continue,
            Verdict::Explained { code, .. } => format!("changed on purpose ({code})"),
            Verdict::Unexplained => "UNEXPLAINED (CV437)".to_string(),
        };
        let _ = writeln!(out, "  {}: AL2 `{}` → AL2023 `{}`: {mark}", r.field, r.al2, r.al2023);
    }
    out.push('\n');
}

pub fn render(reports: &[FileReport]) -> String {
    let mut out = String::new();
    for r in reports {
        for f in &r.findings {
            finding(&mut out, &r.path, f);
        }
        if let Some(e) = &r.equivalence {
            equivalence(&mut out, &r.path, e);
        }
    }
    let count = |s| reports.iter().map(|r| r.count(s)).sum::<usize>();
    let (e, w, i) = (count(Severity::Error), count(Severity::Warning), count(Severity::Info));
    let files = match reports.len() {
        1 => "1 file".to_string(),
        n => format!("{n} files"),
    };
    let plural = |n: usize, word: &str| if n == 1 { format!("1 {word}") } else { format!("{n} {word}s") };
    if e + w + i == 0 {
        let _ = writeln!(out, "no findings in {files}");
    } else {
        let _ = writeln!(out, "{}, {}, {} in {files}", plural(e, "error"), plural(w, "warning"), plural(i, "info"));
    }
    out
}
