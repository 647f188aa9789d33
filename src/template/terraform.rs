//! Terraform's template language, as `templatefile()` and HCL string templates read it
//! (hashicorp/hcl `hclsyntax/spec.md`, "Templates"; hclsyntax's template parser): literal text
//! with the `$${` and `%%{` escapes, `${ … }` interpolations, `%{ if }`/`%{ else }`/`%{ endif }`
//! and `%{ for }`/`%{ endfor }` directives, and `~` strip markers. The text is read into a tree
//! whose every piece keeps its byte span, so a rendering maps back to the template's own bytes.
//!
//! The strip rule is terraform's, not the one its documentation suggests: literal text is split
//! after each newline, and a marker trims whitespace from the adjacent piece only, so `~}` eats
//! the rest of its line and that line's newline but not a blank line after it, and `${~` eats
//! back to the start of its own line. `tests/it/templates.rs` renders every fixture and branch
//! combination with the real `terraform` and compares byte for byte.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateError {
    pub message: String,
    /// Byte offset in the template.
    pub offset: usize,
}

impl fmt::Display for TemplateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (byte {})", self.message, self.offset)
    }
}

impl std::error::Error for TemplateError {}

/// Literal text after escapes and strip markers, and where each run of it came from.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Text {
    pub text: String,
    /// `(offset in text, offset in the template)` at the start of each run copied verbatim.
    pub anchors: Vec<(usize, usize)>,
    /// Offsets in `text` of each `${` or `%{` that an escape (`$${`, `%%{`) produced.
    pub escapes: Vec<usize>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    Text(Text),
    /// `${ expr }`: `expr` is the expression's source, `span` the whole sequence.
    Interp {
        expr: String,
        expr_span: (usize, usize),
        span: (usize, usize),
    },
    /// `%{ if cond }…%{ else }…%{ endif }`; `id` numbers the branch points in reading order.
    If {
        id: usize,
        cond: String,
        cond_span: (usize, usize),
        then: Vec<Node>,
        otherwise: Vec<Node>,
        span: (usize, usize),
    },
    /// `%{ for key, value in collection }…%{ endfor }`.
    For {
        id: usize,
        key: Option<String>,
        value: String,
        collection: String,
        collection_span: (usize, usize),
        body: Vec<Node>,
        span: (usize, usize),
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Template {
    pub nodes: Vec<Node>,
    /// How many `if` and `for` directives there are (ids run from 0 in each).
    pub ifs: usize,
    pub fors: usize,
}

/// One piece of the flat reading, before directives are nested.
#[derive(Debug)]
enum Piece {
    Text(Text),
    Interp { expr: (usize, usize), span: (usize, usize) },
    Directive { inner: (usize, usize), span: (usize, usize) },
}

/// Reads a template (a `templatefile()` file, or a heredoc body once its indentation is
/// removed).
pub fn parse(src: &str) -> Result<Template, TemplateError> {
    let pieces = pieces(src)?;
    let mut t = Template::default();
    let mut iter = pieces.into_iter().peekable();
    let nodes = nest(src, &mut iter, &mut t, None)?;
    t.nodes = nodes;
    Ok(t)
}

/// The bytes `<<-` removes from the start of each line of a heredoc body, as terraform applies
/// its flush rule (hclsyntax `flushHeredocTemplateParts`): after the strip markers, the first
/// piece of each line counts its leading whitespace characters, a piece that is not literal text
/// counts none, a line of only whitespace is neither counted nor cut, and the smallest count is
/// cut from every counted line. A line a `~}` joined to the line before it is not a line start.
pub fn flush_cuts(body: &str) -> Result<Vec<usize>, TemplateError> {
    let pieces = pieces(body)?;
    let mut cuts = vec![0; body.split_inclusive('\n').count().max(1)];
    let line_of = |offset: usize| body.get(..offset).map_or(0, |s| s.matches('\n').count());
    let mut min = usize::MAX;
    // (line, leading whitespace characters) of each line start that gets cut.
    let mut starts: Vec<(usize, &str)> = Vec::new();
    let mut newline = true;
    for p in &pieces {
        if std::mem::take(&mut newline) {
            match p {
                Piece::Text(t) if t.text.trim_start().is_empty() && t.text.ends_with('\n') => {}
                Piece::Text(t) => {
                    let lead = t.text.get(..t.text.len() - t.text.trim_start().len()).unwrap_or_default();
                    min = min.min(lead.chars().count());
                    if let Some(&(_, at)) = t.anchors.first() {
                        starts.push((line_of(at), lead));
                    }
                }
                _ => min = 0,
            }
        }
        if let Piece::Text(t) = p {
            newline = t.text.ends_with('\n');
        }
    }
    if min == usize::MAX {
        return Ok(cuts);
    }
    for (line, lead) in starts {
        if let Some(c) = cuts.get_mut(line) {
            *c = lead.chars().take(min).map(char::len_utf8).sum();
        }
    }
    Ok(cuts)
}

/// Splits the text into literal runs (after each newline), interpolations and directives, and
/// applies the strip markers to the adjacent literal pieces.
fn pieces(src: &str) -> Result<Vec<Piece>, TemplateError> {
    let b = src.as_bytes();
    let mut out: Vec<Piece> = Vec::new();
    let mut lit = Text::default();
    let mut lit_start = 0;
    let mut i = 0;
    // A marker on the right strips the next literal piece.
    let mut strip_next = false;
    let flush = |out: &mut Vec<Piece>, lit: &mut Text, strip_next: &mut bool| {
        if lit.text.is_empty() {
            return;
        }
        let mut t = std::mem::take(lit);
        if std::mem::take(strip_next) {
            trim_start(&mut t);
        }
        out.push(Piece::Text(t));
    };
    while let Some(&c) = b.get(i) {
        let escape = (c == b'$' || c == b'%') && b.get(i + 1) == Some(&c) && b.get(i + 2) == Some(&b'{');
        if escape {
            // `$${` is a literal `${`.
            push_run(&mut lit, &mut lit_start, i, src);
            lit.anchors.push((lit.text.len(), i + 1));
            lit.escapes.push(lit.text.len());
            lit.text.push(c as char);
            lit.text.push('{');
            i += 3;
            lit_start = i;
            continue;
        }
        if (c == b'$' || c == b'%') && b.get(i + 1) == Some(&b'{') {
            push_run(&mut lit, &mut lit_start, i, src);
            let left = b.get(i + 2) == Some(&b'~');
            if left {
                strip_end(&mut out, &mut lit);
            }
            flush(&mut out, &mut lit, &mut strip_next);
            let inner_start = i + 2 + usize::from(left);
            let close = closing(src, inner_start)
                .ok_or_else(|| TemplateError { message: format!("`{}{{` is never closed", c as char), offset: i })?;
            let right = close > inner_start && b.get(close - 1) == Some(&b'~');
            let inner_end = if right { close - 1 } else { close };
            let span = (i, close + 1);
            out.push(if c == b'$' {
                Piece::Interp { expr: (inner_start, inner_end), span }
            } else {
                Piece::Directive { inner: (inner_start, inner_end), span }
            });
            strip_next = right;
            i = close + 1;
            lit_start = i;
            continue;
        }
        if c == b'\n' {
            push_run(&mut lit, &mut lit_start, i + 1, src);
            flush(&mut out, &mut lit, &mut strip_next);
            i += 1;
            lit_start = i;
            continue;
        }
        i += 1;
    }
    push_run(&mut lit, &mut lit_start, b.len(), src);
    flush(&mut out, &mut lit, &mut strip_next);
    Ok(out)
}

/// Appends `src[*start..end]` to the literal as one verbatim run.
fn push_run(lit: &mut Text, start: &mut usize, end: usize, src: &str) {
    if end > *start {
        lit.anchors.push((lit.text.len(), *start));
        lit.text.push_str(src.get(*start..end).unwrap_or_default());
    }
    *start = end;
}

/// A left marker trims the literal piece just before it (the current run, or the last piece).
fn strip_end(out: &mut [Piece], lit: &mut Text) {
    if !lit.text.is_empty() {
        trim_end(lit);
    } else if let Some(Piece::Text(t)) = out.last_mut() {
        trim_end(t);
    }
}

fn trim_end(t: &mut Text) {
    let keep = t.text.trim_end().len();
    t.text.truncate(keep);
    t.anchors.retain(|(o, _)| *o < keep || (*o == 0 && keep == 0));
    t.escapes.retain(|o| *o < keep);
}

fn trim_start(t: &mut Text) {
    let cut = t.text.len() - t.text.trim_start().len();
    if cut == 0 {
        return;
    }
    t.text.drain(..cut);
    t.escapes = t.escapes.iter().filter(|o| **o >= cut).map(|o| o - cut).collect();
    let mut anchors = Vec::with_capacity(t.anchors.len());
    for (i, &(o, s)) in t.anchors.iter().enumerate() {
        let next = t.anchors.get(i + 1).map_or(usize::MAX, |a| a.0);
        if next <= cut {
            continue;
        }
        anchors.push(if o < cut { (0, s + (cut - o)) } else { (o - cut, s) });
    }
    t.anchors = anchors;
}

/// The offset of the `}` closing the interpolation or directive whose `${`/`%{` is at `open`.
pub fn sequence_end(src: &str, open: usize) -> Option<usize> {
    closing(src, open + 2)
}

/// The offset of the `}` that closes a sequence whose inside starts at `from`: braces nest, and
/// quoted strings (with their own `${ … }`) and heredocs are skipped whole.
fn closing(src: &str, from: usize) -> Option<usize> {
    let b = src.as_bytes();
    let mut depth = 0usize;
    let mut i = from;
    while let Some(&c) = b.get(i) {
        match c {
            b'{' => depth += 1,
            b'}' if depth == 0 => return Some(i),
            b'}' => depth -= 1,
            b'"' => i = end_of_string(src, i + 1)?,
            b'<' if b.get(i + 1) == Some(&b'<') => {
                if let Some(end) = end_of_heredoc(src, i + 2) {
                    i = end;
                }
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// The offset of the `"` closing a string that starts at `from`.
fn end_of_string(src: &str, from: usize) -> Option<usize> {
    let b = src.as_bytes();
    let mut i = from;
    while let Some(&c) = b.get(i) {
        match c {
            b'\\' => i += 1,
            b'"' => return Some(i),
            b'$' | b'%' if b.get(i + 1) == Some(&c) && b.get(i + 2) == Some(&b'{') => i += 2,
            b'$' | b'%' if b.get(i + 1) == Some(&b'{') => i = closing(src, i + 2)?,
            b'\n' => return None,
            _ => {}
        }
        i += 1;
    }
    None
}

/// A heredoc inside an expression (`<<EOT`, `<<-EOT`) ends at the line holding only its tag.
fn end_of_heredoc(src: &str, from: usize) -> Option<usize> {
    let rest = src.get(from..)?;
    let rest_trim = rest.strip_prefix('-').unwrap_or(rest);
    let tag: String = rest_trim.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
    if tag.is_empty() || !rest_trim.get(tag.len()..).is_some_and(|r| r.starts_with('\n')) {
        return None;
    }
    let body_start = from + (rest.len() - rest_trim.len()) + tag.len() + 1;
    let mut at = body_start;
    for line in src.get(body_start..)?.split_inclusive('\n') {
        if line.trim() == tag {
            return Some(at + line.trim_end_matches('\n').len().saturating_sub(1));
        }
        at += line.len();
    }
    None
}

/// Nests directives; stops at `%{ else }`, `%{ endif }` or `%{ endfor }` when inside one.
fn nest(
    src: &str,
    iter: &mut std::iter::Peekable<std::vec::IntoIter<Piece>>,
    t: &mut Template,
    inside: Option<&str>,
) -> Result<Vec<Node>, TemplateError> {
    let mut nodes = Vec::new();
    while let Some(p) = iter.peek() {
        match p {
            Piece::Directive { inner, span } => {
                let (inner, span) = (*inner, *span);
                let words = src.get(inner.0..inner.1).unwrap_or_default().trim();
                let keyword = words.split_whitespace().next().unwrap_or_default();
                match keyword {
                    "else" | "endif" | "endfor" => {
                        let expected = match inside {
                            Some("if") => keyword != "endfor",
                            Some("else") => keyword == "endif",
                            Some("for") => keyword == "endfor",
                            _ => false,
                        };
                        if !expected {
                            return Err(TemplateError {
                                message: format!("`%{{ {keyword} }}` without its opening directive"),
                                offset: span.0,
                            });
                        }
                        return Ok(nodes);
                    }
                    "if" => {
                        iter.next();
                        let id = t.ifs;
                        t.ifs += 1;
                        let cond_span = expr_span(src, inner, "if");
                        let then = nest(src, iter, t, Some("if"))?;
                        let mut otherwise = Vec::new();
                        if directive_word(src, iter) == Some("else") {
                            iter.next();
                            otherwise = nest(src, iter, t, Some("else"))?;
                        }
                        let end = close(src, iter, "if", "endif", span)?;
                        let cond = src.get(cond_span.0..cond_span.1).unwrap_or_default().to_string();
                        nodes.push(Node::If { id, cond, cond_span, then, otherwise, span: (span.0, end) });
                    }
                    "for" => {
                        iter.next();
                        let id = t.fors;
                        t.fors += 1;
                        let (key, value, collection_span) = for_header(src, inner).ok_or_else(|| TemplateError {
                            message: "`%{ for }` needs `for NAME in EXPR` or `for KEY, VALUE in EXPR`".into(),
                            offset: span.0,
                        })?;
                        let body = nest(src, iter, t, Some("for"))?;
                        let end = close(src, iter, "for", "endfor", span)?;
                        let collection = src.get(collection_span.0..collection_span.1).unwrap_or_default().to_string();
                        nodes.push(Node::For {
                            id,
                            key,
                            value,
                            collection,
                            collection_span,
                            body,
                            span: (span.0, end),
                        });
                    }
                    other => {
                        return Err(TemplateError {
                            message: format!(
                                "`%{{ {other} }}` is not a template directive (if, else, endif, for, endfor)"
                            ),
                            offset: span.0,
                        });
                    }
                }
            }
            _ => match iter.next() {
                // A piece a strip marker emptied stays in the flat reading (the next marker must
                // not reach past it) but renders nothing.
                Some(Piece::Text(x)) if x.text.is_empty() => {}
                Some(Piece::Text(x)) => nodes.push(Node::Text(x)),
                Some(Piece::Interp { expr, span }) => nodes.push(Node::Interp {
                    expr: src.get(expr.0..expr.1).unwrap_or_default().trim().to_string(),
                    expr_span: trimmed(src, expr),
                    span,
                }),
                _ => {}
            },
        }
    }
    match inside {
        None => Ok(nodes),
        Some(kind) => Err(TemplateError { message: format!("`%{{ {kind} }}` is never closed"), offset: src.len() }),
    }
}

fn directive_word<'s>(src: &'s str, iter: &mut std::iter::Peekable<std::vec::IntoIter<Piece>>) -> Option<&'s str> {
    match iter.peek() {
        Some(Piece::Directive { inner, .. }) => src.get(inner.0..inner.1).unwrap_or_default().split_whitespace().next(),
        _ => None,
    }
}

/// Consumes the `%{ end… }` that closes the `opener` directive at `span`, and returns where it
/// ends (the closer takes the end of the whole construct).
fn close(
    src: &str,
    iter: &mut std::iter::Peekable<std::vec::IntoIter<Piece>>,
    opener: &str,
    closer: &str,
    span: (usize, usize),
) -> Result<usize, TemplateError> {
    if directive_word(src, iter) != Some(closer) {
        return Err(TemplateError {
            message: format!("`%{{ {opener} }}` is never closed by `%{{ {closer} }}`"),
            offset: span.0,
        });
    }
    Ok(match iter.next() {
        Some(Piece::Directive { span: s, .. }) => s.1,
        _ => span.1,
    })
}

/// The span of the expression after `keyword` inside a directive.
fn expr_span(src: &str, inner: (usize, usize), keyword: &str) -> (usize, usize) {
    let text = src.get(inner.0..inner.1).unwrap_or_default();
    let lead = text.len() - text.trim_start().len();
    let start = inner.0 + lead + keyword.len();
    trimmed(src, (start.min(inner.1), inner.1))
}

fn trimmed(src: &str, (s, e): (usize, usize)) -> (usize, usize) {
    let text = src.get(s..e).unwrap_or_default();
    let lead = text.len() - text.trim_start().len();
    (s + lead, s + text.trim_end().len())
}

/// `for KEY, VALUE in EXPR` / `for VALUE in EXPR`.
fn for_header(src: &str, inner: (usize, usize)) -> Option<(Option<String>, String, (usize, usize))> {
    let text = src.get(inner.0..inner.1)?;
    let after_for = text.trim_start().strip_prefix("for")?;
    let in_at = after_for.find(" in ")?;
    let names: Vec<&str> = after_for.get(..in_at)?.split(',').map(str::trim).collect();
    let ident = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    let (key, value) = match names.as_slice() {
        [v] if ident(v) => (None, v.to_string()),
        [k, v] if ident(k) && ident(v) => (Some(k.to_string()), v.to_string()),
        _ => return None,
    };
    let offset_in_text = text.len() - after_for.len() + in_at + 4;
    Some((key, value, trimmed(src, (inner.0 + offset_in_text, inner.1))))
}

/// `${ … }` interpolations (not `$${` escapes): the offset of `$` and the text inside.
pub fn interpolations(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.match_indices("${").filter_map(move |(i, _)| {
        if i > 0 && text.as_bytes().get(i - 1) == Some(&b'$') {
            return None;
        }
        let rest = text.get(i + 2..)?;
        let close = rest.find(['}', '\n'])?;
        rest.get(..close).filter(|_| rest.as_bytes().get(close) == Some(&b'}')).map(|inner| (i, inner))
    })
}

/// Whether a text is a Terraform template: its name says so (`.tftpl`, a `.tf` heredoc) or it has
/// what only Terraform writes: `%{` directives, `$${`/`%%{` escapes, or an interpolation holding a
/// snake_case name, `var.`/`local.`, a call or an operator. CloudFormation names (parameters,
/// resources, `Fn::Sub` variables) are alphanumeric, so `${cluster_name}` is never one of its.
pub fn is_template(name: &str, text: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    if lower.ends_with(".tftpl") || lower.ends_with(".tf") {
        return true;
    }
    let directive = text.match_indices("%{").any(|(i, _)| i == 0 || text.as_bytes().get(i - 1) != Some(&b'%'));
    directive
        || text.contains("$${")
        || text.contains("%%{")
        || interpolations(text).any(|(_, inner)| {
            let t = inner.trim_matches(|c: char| c == '~' || c.is_whitespace());
            !t.contains("::")
                && (t.starts_with("var.")
                    || t.starts_with("local.")
                    || t.contains(['(', ' ', '"', '?'])
                    || (t.contains('_') && t.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(nodes: &[Node]) -> Vec<String> {
        nodes
            .iter()
            .map(|n| match n {
                Node::Text(t) => format!("T{:?}", t.text),
                Node::Interp { expr, .. } => format!("I{expr}"),
                Node::If { cond, then, otherwise, .. } => format!("If({cond}){:?}/{:?}", texts(then), texts(otherwise)),
                Node::For { key, value, collection, body, .. } => {
                    format!("For({key:?},{value} in {collection}){:?}", texts(body))
                }
            })
            .collect()
    }

    #[test]
    fn reads_interpolations_with_quotes_braces_and_functions() {
        let t = parse("a ${join(\",\", [for k, v in m : \"${k}=${v}\"])} b ${replace(x, \"}\", \"\")}\n").unwrap();
        assert_eq!(
            texts(&t.nodes),
            [
                "T\"a \"",
                "Ijoin(\",\", [for k, v in m : \"${k}=${v}\"])",
                "T\" b \"",
                "Ireplace(x, \"}\", \"\")",
                "T\"\\n\""
            ]
        );
    }

    #[test]
    fn escapes_are_literal_and_anchored_to_their_bytes() {
        let src = "x $${HOME} %%{y}\n";
        let t = parse(src).unwrap();
        let Node::Text(x) = &t.nodes[0] else { panic!() };
        assert_eq!(x.text, "x ${HOME} %{y}\n");
        // `{HOME}` after the escape comes from byte 5 of the template.
        let (o, s) = x.anchors.iter().rev().find(|(o, _)| *o <= 4).copied().unwrap();
        assert_eq!(s + (4 - o), 5);
    }

    #[test]
    fn strip_markers_trim_only_the_adjacent_piece() {
        let t = parse("a\n%{ if c ~}\n\n  x\n%{ endif }\nd \n\n ${~ w}e\n").unwrap();
        assert_eq!(
            texts(&t.nodes),
            [
                "T\"a\\n\"",
                "If(c)[\"T\\\"\\\\n\\\"\", \"T\\\"  x\\\\n\\\"\"]/[]",
                "T\"\\n\"",
                "T\"d \\n\"",
                "T\"\\n\"",
                "Iw",
                "T\"e\\n\""
            ]
        );
    }

    #[test]
    fn flush_heredocs_cut_what_terraform_cuts() {
        assert_eq!(flush_cuts("    a\n      b\n\n  \n\tc\n").unwrap(), [1, 1, 0, 0, 1]);
        // `${~` empties the line's first piece: it counts no indentation, so nothing is cut.
        assert_eq!(flush_cuts("    a\n    ${~ x}\n    b\n").unwrap(), [0, 0, 0]);
        // The line after `~}` is joined to its predecessor and keeps its indentation.
        assert_eq!(flush_cuts("    a ${x ~}\n      b\n    c\n").unwrap(), [4, 0, 4]);
    }

    #[test]
    fn directives_nest_and_bad_ones_are_errors() {
        let t = parse("%{ for i, f in flags }--${f}%{ if i > 0 } %{ else }!%{ endif }%{ endfor }").unwrap();
        assert_eq!((t.ifs, t.fors), (1, 1));
        assert!(matches!(&t.nodes[0], Node::For { key: Some(k), value, .. } if k == "i" && value == "f"));
        for bad in [
            "%{ if x }",
            "%{ endif }",
            "%{ for x }y%{ endfor }",
            "${x",
            "%{ while x }%{ endwhile }",
            "%{ for x in y }%{ endif }",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }
}
