//! User data found inside infrastructure code, converted as `convert` converts a file: a
//! Terraform heredoc body or `templatefile` template (Terraform template syntax), or a file read
//! with `file`/`filebase64` (plain text). Heredocs written `<<-` are indented in the source and
//! Terraform strips the smallest indentation of their lines (Terraform language docs, "Strings
//! and Templates", indented heredocs), so the body is dedented before conversion and the result
//! indented the same way.

use crate::al2::template::Syntax;
use crate::source::Source;
use crate::translate::{self, emit};

/// What converting one piece of user data gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Converted {
    /// The AL2023 user data.
    Done { text: String, findings: Vec<String> },
    /// Already AL2023, or nothing AL2-specific to convert: left as it is, with the reason.
    Unchanged(String),
    /// Not converted: the reason, and what `convert` reported.
    Refused { reason: String, findings: Vec<String> },
    /// Converted to nothing: the AL2023 node needs no user data from it (for a managed node
    /// group, a part that only called bootstrap.sh, which EKS's own part does).
    Empty { findings: Vec<String> },
}

impl Converted {
    /// `Empty` said as a reason to remove the user data, for callers that cannot remove it.
    pub fn empty_reason() -> String {
        "the AL2023 node needs nothing from this user data (what it did, the target's own part does): remove it".into()
    }
}

/// Converts `text`, named `name` in reports.
pub fn convert(name: &str, text: &str, syntax: Syntax, opts: &translate::Options) -> Converted {
    let env = crate::userdata::Envelope::parse(text.as_bytes(), &crate::userdata::Limits::default());
    if translate::is_al2023(&env) {
        return Converted::Unchanged("already AL2023 user data".into());
    }
    if crate::lint::rules::bootstrap_sh_call::calls(&env).is_empty() {
        return Converted::Unchanged("no /etc/eks/bootstrap.sh call: nothing AL2-specific to convert".into());
    }
    translated(name, text, syntax, opts)
}

/// Converts user data that ran before someone else's bootstrap.sh call (EKS's, after a managed
/// node group's parts), so it has none of its own.
pub fn convert_prefix(name: &str, text: &str, syntax: Syntax, opts: &translate::Options) -> Converted {
    let no_call = format!("warning {}:", translate::codes::NO_CALL.code);
    match translated(name, text, syntax, opts) {
        // The caller knows whose call follows: "no bootstrap.sh call found" says nothing new.
        Converted::Done { text, findings } => {
            Converted::Done { text, findings: findings.into_iter().filter(|f| !f.starts_with(&no_call)).collect() }
        }
        other => other,
    }
}

fn translated(name: &str, text: &str, syntax: Syntax, opts: &translate::Options) -> Converted {
    let opts = translate::Options { template: Some(syntax), ..opts.clone() };
    let conv = match translate::convert(&Source::new(name, text.as_bytes()), &opts, emit::Format::Mime, name) {
        Ok(c) => c,
        Err(e) => return Converted::Refused { reason: format!("cannot be converted: {e}"), findings: Vec::new() },
    };
    let findings = conv.findings();
    match conv.output {
        // Empty, unless a setting in it must first be set where the target takes it (labels
        // and taints in the node group): removing the user data would then lose it.
        None if !conv.refused
            && !conv.needs_review
            && !findings.iter().any(|f| f.contains(&format!(" {}:", translate::codes::SET_ON_TARGET.code))) =>
        {
            Converted::Empty { findings }
        }
        Some(out) if !conv.refused && !conv.needs_review => match String::from_utf8(out) {
            Ok(text) => Converted::Done { text, findings },
            Err(_) => Converted::Refused { reason: "the conversion is not UTF-8 text".into(), findings },
        },
        _ => {
            let errors = findings.iter().filter(|f| f.starts_with("error")).count();
            let reason = if errors > 0 {
                format!(
                    "cannot be converted without review ({errors} error{}; run `eks-userdata convert` on it)",
                    if errors == 1 { "" } else { "s" }
                )
            } else {
                "not written: a setting in it has to move elsewhere first (the findings say where); then run migrate again, or `eks-userdata convert` on it".into()
            };
            Converted::Refused { reason, findings }
        }
    }
}

/// A heredoc in the source: where its body is, and how it is indented.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Heredoc {
    /// The body's bytes in the source: from the line after `<<EOT` to the closing line's start.
    pub body: std::ops::Range<usize>,
    /// `<<-`: Terraform strips this many leading spaces from every line.
    pub indent: Option<usize>,
}

/// The heredoc whose source text is `src[span]` (`<<EOT` … `EOT`).
pub fn heredoc(src: &str, span: std::ops::Range<usize>) -> Option<Heredoc> {
    let text = src.get(span.clone())?;
    let rest = text.strip_prefix("<<")?;
    let flush = rest.starts_with('-');
    let first_nl = text.find('\n')?;
    let body_start = span.start + first_nl + 1;
    // The closing delimiter's line: the last line of the span.
    let trimmed = text.trim_end();
    let close_line = trimmed.rfind('\n').map_or(0, |i| i + 1);
    let body_end = span.start + close_line;
    if body_end < body_start {
        return None;
    }
    let body = src.get(body_start..body_end)?;
    let indent = flush.then(|| {
        body.lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| l.len() - l.trim_start_matches(' ').len())
            .min()
            .unwrap_or(0)
    });
    Some(Heredoc { body: body_start..body_end, indent })
}

/// The body as Terraform sees it (`<<-`: the common indentation removed).
pub fn dedent(body: &str, indent: Option<usize>) -> String {
    let Some(n) = indent.filter(|n| *n > 0) else { return body.to_string() };
    body.split_inclusive('\n')
        .map(|l| l.get(n..).filter(|_| l.len() > n).unwrap_or_else(|| l.trim_start_matches(' ')))
        .collect()
}

/// The content lines of a YAML `|` block scalar whose value spans `start..end` (the span may
/// start at the indicator or at the content): from the first content line's start, indentation
/// included, to the end of its last content line. `None` for other scalar styles.
pub fn yaml_block(text: &str, start: usize, end: usize) -> Option<std::ops::Range<usize>> {
    let raw = text.get(start..end)?;
    let content = if raw.starts_with('|') {
        start + raw.find('\n')? + 1
    } else {
        // The span starts at the content: the line before it must end with the indicator
        // (`UserData: !Base64 !Sub |`, `overrideBootstrapCommand: |`).
        let line_start = text.get(..start)?.rfind('\n').map_or(0, |i| i + 1);
        let header = text.get(..line_start.checked_sub(1)?)?;
        let header = header.get(header.rfind('\n').map_or(0, |i| i + 1)..)?;
        let indicator = header.trim_end().rsplit(' ').next().unwrap_or_default();
        if !indicator.starts_with('|') || !text.get(line_start..start)?.trim().is_empty() {
            return None;
        }
        line_start
    };
    let last_end = text.get(..end)?.trim_end_matches([' ', '\n']).len();
    let stop = text.get(last_end..)?.find('\n').map_or(text.len(), |i| last_end + i + 1);
    (stop > content).then_some(content..stop)
}

/// `new` written over the block scalar lines `range`, indented as their first line.
pub fn reindent_block(text: &str, range: &std::ops::Range<usize>, new: &str) -> String {
    let first = text.get(range.clone()).unwrap_or_default();
    indent(new, Some(first.len() - first.trim_start_matches(' ').len()))
}

/// `text` indented for a `<<-` heredoc body (blank lines stay empty), ending with a newline.
pub fn indent(text: &str, indent: Option<usize>) -> String {
    let pad = " ".repeat(indent.unwrap_or(0));
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        if !line.trim().is_empty() {
            out.push_str(&pad);
        }
        out.push_str(line);
    }
    if !out.ends_with('\n') {
        out.push('\n');
    }
    out
}

#[cfg(test)]
#[allow(clippy::string_slice)]
mod tests {
    use super::*;

    #[test]
    fn indented_heredocs_round_trip() {
        let src = "x = base64encode(<<-EOT\n    #!/bin/bash\n\n      echo hi\n    EOT\n  )\n";
        let start = src.find("<<").unwrap();
        let end = src.find("EOT\n  )").unwrap() + 3;
        let h = heredoc(src, start..end).unwrap();
        assert_eq!(h.indent, Some(4));
        let body = &src[h.body.clone()];
        assert_eq!(body, "    #!/bin/bash\n\n      echo hi\n");
        let flat = dedent(body, h.indent);
        assert_eq!(flat, "#!/bin/bash\n\n  echo hi\n");
        assert_eq!(indent(&flat, h.indent), body);
        let plain = "y = <<EOT\nabc\nEOT\n";
        let h = heredoc(plain, 4..plain.len() - 1).unwrap();
        assert_eq!((&plain[h.body.clone()], h.indent), ("abc\n", None));
    }
}
