//! Renderers, one per output format (ruff's emitters): each takes resolved findings and writes
//! bytes; none decides exit codes. Output is byte-stable: findings are sorted by position, JSON
//! keys have a fixed order, and nothing depends on time or the environment.

pub mod concise;
pub mod github;
pub mod json;
pub mod sarif;
pub mod text;

use crate::diagnostic::{Diagnostic, Severity};
use crate::userdata::PartKind;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    pub line: usize,
    pub column: usize,
    pub end_line: usize,
    pub end_column: usize,
    pub byte_start: usize,
    pub byte_end: usize,
    /// When set, the position is inside decoded bytes this names, not in the file itself.
    pub within: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartRef {
    /// 1-based, as users count.
    pub index: usize,
    pub content_type: Option<String>,
    pub kind: PartKind,
}

#[derive(Debug, Clone)]
pub struct Finding {
    pub diagnostic: Diagnostic,
    pub location: Option<Location>,
    pub part: Option<PartRef>,
    /// The text of the line the finding starts on, for snippets.
    pub source_line: Option<String>,
}

#[derive(Debug, Clone)]
pub struct FileReport {
    pub path: String,
    pub findings: Vec<Finding>,
    /// `convert`'s comparison of the AL2 node with the AL2023 node, printed after the findings.
    pub equivalence: Option<crate::effective::Equivalence>,
}

impl FileReport {
    pub fn max_severity(&self) -> Option<Severity> {
        self.findings.iter().map(|f| f.diagnostic.severity).max()
    }
    pub fn count(&self, s: Severity) -> usize {
        self.findings.iter().filter(|f| f.diagnostic.severity == s).count()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Text,
    Concise,
    Json,
    Sarif,
    Github,
}

pub fn render(reports: &[FileReport], format: Format) -> String {
    match format {
        Format::Text => text::render(reports),
        Format::Concise => concise::render(reports),
        Format::Json => json::render(reports),
        Format::Sarif => sarif::render(reports, &crate::catalogue::all()),
        Format::Github => github::render(reports),
    }
}
