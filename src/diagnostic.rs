//! Findings are data, not errors (ruff, cargo-deny): a rule or the translator returns
//! `Diagnostic`s; one set of renderers prints them. Every finding points into the user's own
//! bytes through the envelope layers (docs/architecture.md, invariant 5).

use serde::Serialize;
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A rule's or report code's metadata: one constant per code (lint rules, convert and karpenter
/// report codes), read by `explain`, SARIF and docs/rules.md. It lives here, beside the finding
/// it stamps, so code tables import a leaf module and never `lint`.
#[derive(Debug)]
pub struct RuleMeta {
    /// Stable short code, for suppression and SARIF `ruleId`.
    pub code: &'static str,
    /// Readable kebab-case name.
    pub name: &'static str,
    pub severity: Severity,
    pub summary: &'static str,
    /// Long form for `eks-userdata explain CODE`.
    pub explanation: &'static str,
}

/// Which byte buffer a span's offsets refer to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Layer {
    /// The payload after whole-user-data base64/gzip decoding (the input itself when neither
    /// applied).
    Payload,
    /// The decoded body of MIME part `n` (0-based).
    PartBody(usize),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Span {
    pub layer: Layer,
    pub start: usize,
    pub end: usize,
}

impl Span {
    pub fn payload(start: usize, end: usize) -> Self {
        Span { layer: Layer::Payload, start, end: end.max(start) }
    }
    pub fn part(index: usize, start: usize, end: usize) -> Self {
        Span { layer: Layer::PartBody(index), start, end: end.max(start) }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub code: &'static str,
    pub name: &'static str,
    pub severity: Severity,
    pub message: String,
    pub help: Option<String>,
    pub span: Option<Span>,
    /// The MIME part the finding is about (0-based), when the input is multipart.
    pub part: Option<usize>,
    /// JSON Pointer into the NodeConfig document, for schema findings.
    pub pointer: Option<String>,
    /// A meaning-preserving rewrite `lint --fix` may apply.
    pub fix: Option<Fix>,
    /// Sorted before every positioned finding: a fact that changes how the rest reads ("this
    /// never worked on AL2").
    pub lead: bool,
}

/// A rewrite made of one or more edits, applied all together or not at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fix {
    pub edits: Vec<Edit>,
}

/// Replace the bytes at `span` with `replacement`, but only if they still read `expect` (so a
/// fix never lands on text the finding was not about). An empty span inserts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edit {
    pub span: Span,
    pub expect: String,
    pub replacement: String,
}

impl Diagnostic {
    pub fn new(meta: &RuleMeta, message: impl Into<String>) -> Self {
        Diagnostic {
            code: meta.code,
            name: meta.name,
            severity: meta.severity,
            message: message.into(),
            help: None,
            span: None,
            part: None,
            pointer: None,
            fix: None,
            lead: false,
        }
    }
    /// Puts the finding first in its file's report.
    pub fn leading(mut self) -> Self {
        self.lead = true;
        self
    }
    pub fn with_fix(self, span: Span, expect: impl Into<String>, replacement: impl Into<String>) -> Self {
        self.with_edits(vec![Edit { span, expect: expect.into(), replacement: replacement.into() }])
    }
    /// A fix of several edits (a move: delete here, insert there).
    pub fn with_edits(mut self, edits: Vec<Edit>) -> Self {
        self.fix = (!edits.is_empty()).then_some(Fix { edits });
        self
    }
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }
    pub fn with_span(mut self, span: Span) -> Self {
        self.span = Some(span);
        self
    }
    pub fn with_part(mut self, part: Option<usize>) -> Self {
        self.part = part;
        self
    }
    pub fn with_pointer(mut self, pointer: impl Into<String>) -> Self {
        self.pointer = Some(pointer.into());
        self
    }
    pub fn with_severity(mut self, severity: Severity) -> Self {
        self.severity = severity;
        self
    }
}
