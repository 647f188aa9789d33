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
use crate::template::render;
use crate::template::terraform;

/// Ways through a template linted at most (all of them when there are fewer; a deterministic
/// spread otherwise, said in the findings).
const BOUND: usize = 16;

/// Lints a Terraform template over its renderings, or `None` when the text is not one with
/// directives or strip markers (then the text is linted as it is).
pub(super) fn lint_renderings(source: &Source, opts: &LintOptions) -> Option<FileReport> {
    let text = std::str::from_utf8(&source.bytes).ok()?;
    let syntax = detect(text);
    if syntax != Syntax::Terraform && (syntax == Syntax::Go || !terraform::is_template(&source.name, text)) {
        return None;
    }
    let t = terraform::parse(text).ok()?;
    if t.ifs + t.fors == 0 && !has_strip_marker(text) && opts.template_vars.is_empty() && !has_flow_item(text) {
        return None;
    }
    let combos = render::combinations(&t, BOUND);
    let index = LineIndex::new(&source.bytes);
    // Values the user gave can make several ways through render alike: each text is linted once.
    let mut renderings: Vec<(render::Rendered, usize)> = Vec::new();
    for (k, c) in combos.choices.iter().enumerate() {
        let r = render::lint_reading(&t, c, text, &opts.template_vars);
        if !renderings.iter().any(|(seen, _)| seen.text == r.text) {
            renderings.push((r, k));
        }
    }
    let mut merged = Merged::default();
    for (k, (r, _)) in renderings.iter().enumerate() {
        let report = super::lint_text(&Source::new(&source.name, r.text.as_bytes()), opts);
        for mut f in report.findings {
            relocate(&mut f, &|b| r.origin(b), &source.bytes, &index);
            merged.add(k, f);
        }
    }
    let describe = |k: usize| {
        renderings.get(k).and_then(|(_, c)| combos.choices.get(*c)).map(|c| c.describe(&t)).unwrap_or_default()
    };
    let findings = merged.finish("template", renderings.len(), combos.sampled, &describe);
    let mut report = FileReport { path: source.name.clone(), findings, equivalence: None };
    report.findings.sort_by(|a, b| super::order(a).cmp(&super::order(b)));
    Some(report)
}

/// Places a finding on a rendering back on the template (`host`), through `origin` (a rendering
/// offset to a template offset). Findings inside a decoded layer keep their place.
pub(super) fn relocate(f: &mut Finding, origin: &dyn Fn(usize) -> usize, host: &[u8], index: &LineIndex) {
    if let Some(loc) = f.location.as_mut().filter(|l| l.within.is_none()) {
        loc.byte_start = origin(loc.byte_start);
        loc.byte_end = origin(loc.byte_end).max(loc.byte_start);
        (loc.line, loc.column) = index.locate(host, loc.byte_start);
        (loc.end_line, loc.end_column) = index.locate(host, loc.byte_end);
        f.source_line = Some(crate::source::lossy(index.line_text(host, loc.line)).into_owned());
    }
}

/// The findings of a template's renderings, each once (same code, message and template
/// position), with the renderings (by number) that have it.
#[derive(Default)]
pub(super) struct Merged {
    merged: Vec<(Finding, Vec<usize>)>,
}

impl Merged {
    pub(super) fn add(&mut self, rendering: usize, f: Finding) {
        let same = |g: &Finding| {
            g.diagnostic.code == f.diagnostic.code
                && g.diagnostic.message == f.diagnostic.message
                && g.location.as_ref().map(|l| l.byte_start) == f.location.as_ref().map(|l| l.byte_start)
        };
        match self.merged.iter_mut().find(|(g, _)| same(g)) {
            Some((_, seen)) => {
                if !seen.contains(&rendering) {
                    seen.push(rendering)
                }
            }
            None => self.merged.push((f, vec![rendering])),
        }
    }

    /// The findings; one that only some of the `all` renderings have says in which
    /// (`describe`: the choices of a rendering by number), under the `engine`'s name.
    pub(super) fn finish(
        self,
        engine: &str,
        all: usize,
        sampled: bool,
        describe: &dyn Fn(usize) -> String,
    ) -> Vec<Finding> {
        self.merged
            .into_iter()
            .map(|(mut f, seen)| {
                if seen.len() < all {
                    let of = if sampled { format!("{all} sampled renderings") } else { format!("{all} renderings") };
                    let example = seen.first().map(|k| describe(*k)).filter(|d| !d.is_empty());
                    let when = match example {
                        Some(d) => format!("{engine}: in {} of {of}, e.g. when {d}", seen.len()),
                        None => format!("{engine}: in {} of {of}", seen.len()),
                    };
                    f.diagnostic.message = format!("{} ({when})", f.diagnostic.message);
                }
                f
            })
            .collect()
    }
}

/// Lints a Go format string (`template::gofmt`) as Sprintf renders it, its verbs placeholders,
/// or `None` when the text is not one.
pub(super) fn lint_go_format(source: &Source, opts: &LintOptions) -> Option<FileReport> {
    let text = std::str::from_utf8(&source.bytes).ok()?;
    if detect(text) != Syntax::None || !crate::template::gofmt::is_format_string(text) {
        return None;
    }
    let r = crate::template::gofmt::reading(text);
    let index = LineIndex::new(&source.bytes);
    let mut report = super::lint_text(&Source::new(&source.name, r.text.as_bytes()), opts);
    let at = |b: usize| r.offsets.get(b).or(r.offsets.last()).copied().unwrap_or(0);
    for f in &mut report.findings {
        relocate(f, &at, &source.bytes, &index);
    }
    report.path = source.name.clone();
    Some(report)
}

/// An interpolation that may be a YAML flow sequence's item (`[${x}]`, `, ${x}]`), which lint
/// reads quoted (`render::lint_reading`).
fn has_flow_item(text: &str) -> bool {
    text.contains("[${") || text.contains(", ${") || text.contains(",${")
}

fn has_strip_marker(text: &str) -> bool {
    text.contains("${~") || text.contains("%{~") || text.contains("~}")
}
