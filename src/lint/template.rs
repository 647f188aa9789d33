//! A Terraform template is the set of its renderings (issue #14): its `%{ if }` branches and
//! `%{ for }` loops decide which parts, fields and lines exist, and its `~` strip markers which
//! newlines. Masking the directives and linting the template text as one file raised errors no
//! rendering has (a blank line a strip marker removes) and missed ones a rendering has (a field
//! only inside `%{ if }`). So each way through the template (`template::render::combinations`)
//! is resolved (`resolve_directives`: interpolations and escapes stay as written, so they are
//! still the placeholders lint knows) and linted, and each finding is placed back on the
//! template's own bytes. A finding that only some renderings have says in which.

use super::{FileReport, Finding, LintOptions};
use crate::al2::template::{Syntax, detect};
use crate::source::{LineIndex, Source};
use crate::template::render::{self, Choices};
use crate::template::terraform::{self, Template};

/// Ways through a template linted at most (all of them when there are fewer; a deterministic
/// spread otherwise, said in the findings).
const BOUND: usize = 16;

/// Lints a Terraform template over its renderings, or `None` when the text is not one with
/// directives or strip markers (then the text is linted as it is).
pub(super) fn lint_renderings(source: &Source, opts: &LintOptions) -> Option<FileReport> {
    let text = std::str::from_utf8(&source.bytes).ok()?;
    if detect(text) != Syntax::Terraform {
        return None;
    }
    let t = terraform::parse(text).ok()?;
    if t.ifs + t.fors == 0 && !has_strip_marker(text) && opts.template_vars.is_empty() {
        return None;
    }
    let combos = render::combinations(&t, BOUND);
    let index = LineIndex::new(&source.bytes);
    // Each distinct finding with the renderings (by number) that have it.
    let mut merged: Vec<(Finding, Vec<usize>)> = Vec::new();
    // Values the user gave can make several ways through render alike: each text is linted once.
    let mut renderings: Vec<(render::Rendered, usize)> = Vec::new();
    for (k, c) in combos.choices.iter().enumerate() {
        let r = render::resolve_with(&t, c, text, &opts.template_vars);
        if !renderings.iter().any(|(seen, _)| seen.text == r.text) {
            renderings.push((r, k));
        }
    }
    let all = renderings.len();
    for (k, (r, _)) in renderings.iter().enumerate() {
        let report = super::lint_text(&Source::new(&source.name, r.text.as_bytes()), opts);
        for mut f in report.findings {
            if let Some(loc) = f.location.as_mut().filter(|l| l.within.is_none()) {
                loc.byte_start = r.origin(loc.byte_start);
                loc.byte_end = r.origin(loc.byte_end).max(loc.byte_start);
                (loc.line, loc.column) = index.locate(&source.bytes, loc.byte_start);
                (loc.end_line, loc.end_column) = index.locate(&source.bytes, loc.byte_end);
                f.source_line = Some(String::from_utf8_lossy(index.line_text(&source.bytes, loc.line)).into_owned());
            }
            let same = |g: &Finding| {
                g.diagnostic.code == f.diagnostic.code
                    && g.diagnostic.message == f.diagnostic.message
                    && g.location.as_ref().map(|l| l.byte_start) == f.location.as_ref().map(|l| l.byte_start)
            };
            match merged.iter_mut().find(|(g, _)| same(g)) {
                Some((_, seen)) => seen.push(k),
                None => merged.push((f, vec![k])),
            }
        }
    }
    let findings = merged
        .into_iter()
        .map(|(mut f, seen)| {
            if seen.len() < all {
                let example = seen.first().and_then(|k| renderings.get(*k)).and_then(|(_, c)| combos.choices.get(*c));
                f.diagnostic.message =
                    format!("{} ({})", f.diagnostic.message, when(&t, example, seen.len(), all, combos.sampled));
            }
            f
        })
        .collect();
    let mut report = FileReport { path: source.name.clone(), findings, equivalence: None };
    report.findings.sort_by(|a, b| super::order(a).cmp(&super::order(b)));
    Some(report)
}

fn has_strip_marker(text: &str) -> bool {
    text.contains("${~") || text.contains("%{~") || text.contains("~}")
}

/// Which renderings have a finding, for its message.
fn when(t: &Template, example: Option<&Choices>, seen: usize, all: usize, sampled: bool) -> String {
    let of = if sampled { format!("{all} sampled renderings") } else { format!("{all} renderings") };
    match example {
        Some(c) => format!("template: in {seen} of {of}, e.g. when {}", c.describe(t)),
        None => format!("template: in {seen} of {of}"),
    }
}
