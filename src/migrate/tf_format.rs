//! `terraform fmt`'s alignment, re-applied where a migration changed a `.tf` file. Terraform
//! aligns the `=` of consecutive one-line attributes, and the trailing comments of consecutive
//! commented lines among them (hclwrite's `format.go`, `formatCells`). A migration that removes
//! or inserts an attribute in such a run leaves the rest aligned for the old set, and
//! `terraform fmt -check` (a common pre-commit hook) then fails on the migrated file. Only the
//! runs an edit touched are realigned: every other byte stays the user's.
//!
//! The rules, as `terraform fmt` applies them (checked against it in the tests): a run is broken
//! by a blank line, a comment line, a line with no `=`, and a line whose value opens a
//! multi-line bracket (which is not aligned itself); a heredoc's body belongs to the line that
//! opens it, so the run goes on after its closing marker.

use std::ops::Range;

/// One logical line: its byte range (a heredoc's body included) and, when it is an attribute
/// that can be aligned, where its key ends and its `=` sits.
#[derive(Debug, Clone)]
struct Line {
    range: Range<usize>,
    cell: Option<Cell>,
}

/// An alignable attribute line: `key<pad>= value<pad># comment`.
#[derive(Debug, Clone)]
struct Cell {
    key_end: usize,
    eq: usize,
    /// Where the value ends and its trailing comment starts, when there is one.
    comment: Option<(usize, usize)>,
}

/// The text with the alignment runs that meet `touched` (ranges of `text`) realigned.
pub fn realign(text: &str, touched: &[Range<usize>]) -> String {
    let lines = logical_lines(text);
    let mut edits: Vec<(Range<usize>, String)> = Vec::new();
    let mut run: Vec<&Line> = Vec::new();
    let flush = |run: &mut Vec<&Line>, edits: &mut Vec<(Range<usize>, String)>| {
        let hit = run.iter().any(|l| touched.iter().any(|t| meets(&l.range, t)));
        if hit {
            align(text, run, edits);
        }
        run.clear();
    };
    for line in &lines {
        if line.cell.is_some() {
            run.push(line);
        } else {
            flush(&mut run, &mut edits);
        }
    }
    flush(&mut run, &mut edits);
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    edits.sort_by_key(|(r, _)| r.start);
    for (r, with) in edits {
        out.push_str(text.get(at..r.start).unwrap_or_default());
        out.push_str(&with);
        at = r.end;
    }
    out.push_str(text.get(at..).unwrap_or_default());
    out
}

/// Whether a line's range meets an edit's (an empty edit meets the lines on both sides of it).
fn meets(line: &Range<usize>, edit: &Range<usize>) -> bool {
    edit.start <= line.end && line.start <= edit.end
}

/// The padding edits that align one run.
fn align(text: &str, run: &[&Line], edits: &mut Vec<(Range<usize>, String)>) {
    let col = |at: usize, line: &Line| text.get(line.range.start..at).map_or(0, |s| s.chars().count());
    let cells: Vec<(&Line, &Cell)> = run.iter().filter_map(|l| Some((*l, l.cell.as_ref()?))).collect();
    let key_col = cells.iter().map(|(l, c)| col(c.key_end, l)).max().unwrap_or(0);
    for (l, c) in &cells {
        let pad = key_col - col(c.key_end, l) + 1;
        edits.push((c.key_end..c.eq, " ".repeat(pad)));
    }
    // Comments align in runs of consecutive commented lines, one space after the longest value
    // (measured after the `=` moved).
    // How far the `=` (and so the value) moves: negative when the padding shrinks.
    let shift = |l: &Line, c: &Cell| {
        (key_col + 1) as isize - col(c.key_end, l) as isize - c.eq.saturating_sub(c.key_end) as isize
    };
    let mut i = 0;
    while i < cells.len() {
        let mut j = i;
        while j < cells.len() && cells.get(j).is_some_and(|(_, c)| c.comment.is_some()) {
            j += 1;
        }
        if j > i {
            let group = cells.get(i..j).unwrap_or_default();
            let end_col = |(l, c): &(&Line, &Cell)| c.comment.map(|(v, _)| (col(v, l) as isize + shift(l, c)).max(0));
            let target = group.iter().filter_map(end_col).max().unwrap_or(0) + 1;
            for g in group {
                if let (Some(v_end), Some((v, cm))) = (end_col(g), g.1.comment) {
                    edits.push((v..cm, " ".repeat(usize::try_from(target - v_end).unwrap_or(1))));
                }
            }
            i = j;
        } else {
            i += 1;
        }
    }
}

/// The file's logical lines.
fn logical_lines(text: &str) -> Vec<Line> {
    let mut out = Vec::new();
    let mut at = 0;
    while at < text.len() {
        let rest = text.get(at..).unwrap_or_default();
        let mut end = rest.find('\n').map_or(text.len(), |i| at + i + 1);
        let first = text.get(at..end).unwrap_or_default();
        let cell = cell(first, at);
        // A heredoc's body and closing marker belong to the line that opens it.
        if let Some(marker) = heredoc_marker(first) {
            let mut next = end;
            while next < text.len() {
                let r = text.get(next..).unwrap_or_default();
                let e = r.find('\n').map_or(text.len(), |i| next + i + 1);
                let l = text.get(next..e).unwrap_or_default();
                next = e;
                if l.trim() == marker {
                    break;
                }
            }
            end = next;
        }
        out.push(Line { range: at..end, cell });
        at = end;
    }
    out
}

/// The heredoc a line opens (`<<EOT`, `<<-EOT` at its end), by its closing marker.
fn heredoc_marker(line: &str) -> Option<&str> {
    let t = line.trim_end();
    let i = t.rfind("<<")?;
    let m = t.get(i + 2..)?.trim_start_matches('-');
    (!m.is_empty() && m.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')).then_some(m)
}

/// The attribute cell of a one-line attribute (`line` starts at byte `at` of the file).
fn cell(line: &str, at: usize) -> Option<Cell> {
    let body = line.trim_end_matches(['\n', '\r']);
    let indent = body.len() - body.trim_start().len();
    let s = body.get(indent..)?;
    let key_len = if let Some(q) = s.strip_prefix('"') {
        q.find('"')? + 2
    } else {
        s.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))?
    };
    if key_len == 0 {
        return None;
    }
    let after = s.get(key_len..)?;
    let eq_off = after.len() - after.trim_start_matches([' ', '\t']).len();
    let rest = after.get(eq_off..)?;
    if !rest.starts_with('=') || rest.starts_with("==") {
        return None;
    }
    let value = rest.get(1..)?;
    let (code, comment) = split_comment(value);
    // A value that opens a multi-line bracket is not aligned, and ends the run.
    if depth(code) > 0 {
        return None;
    }
    let key_end = at + indent + key_len;
    let eq = key_end + eq_off;
    let comment = comment.map(|c| {
        let value_start = eq + 1;
        let code_end = value_start + code.trim_end().len();
        (code_end, value_start + c)
    });
    Some(Cell { key_end, eq, comment })
}

/// A value's code and where its trailing `#` or `//` comment starts (outside strings).
fn split_comment(value: &str) -> (&str, Option<usize>) {
    let mut in_str = false;
    let mut escaped = false;
    let bytes = value.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        if in_str {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_str = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_str = true,
            b'#' => return (value.get(..i).unwrap_or(value), Some(i)),
            b'/' if bytes.get(i + 1) == Some(&b'/') => return (value.get(..i).unwrap_or(value), Some(i)),
            _ => {}
        }
    }
    (value, None)
}

/// How many brackets a line leaves open (strings skipped).
fn depth(code: &str) -> i32 {
    let mut d = 0;
    let mut in_str = false;
    let mut escaped = false;
    for c in code.chars() {
        if in_str {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => in_str = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => in_str = true,
            '[' | '{' | '(' => d += 1,
            ']' | '}' | ')' => d -= 1,
            _ => {}
        }
    }
    d
}

#[cfg(test)]
#[allow(clippy::single_range_in_vec_init)]
mod tests {
    use super::*;

    /// The text after `terraform fmt`, for the example in `terraform_fmt_agrees` (recorded from
    /// terraform 1.x; the integration tests run the real `terraform fmt -check` on migrations).
    const FORMATTED: &str = "locals {\n  a = 1\n  bbbbbbbb = [\n    1,\n  ]\n  cc           = 2\n  dddddddddddd = <<-EOT\n    hi\n  EOT\n  e            = 3\n  f = {\n    g      = 1\n    hhhhhh = 2\n  }\n  i       = \"x\"        # c1\n  jjjjjj  = \"yyyyyyyy\" # c2\n  k       = { a = 1 }\n  lllllll = 2\n}\n";

    #[test]
    fn terraform_fmt_agrees() {
        let raw = "locals {\n  a = 1\n  bbbbbbbb = [\n    1,\n  ]\n  cc = 2\n  dddddddddddd = <<-EOT\n    hi\n  EOT\n  e = 3\n  f = {\n    g = 1\n    hhhhhh = 2\n  }\n  i = \"x\" # c1\n  jjjjjj = \"yyyyyyyy\" # c2\n  k = { a = 1 }\n  lllllll = 2\n}\n";
        assert_eq!(realign(raw, &[0..raw.len()]), FORMATTED);
        assert_eq!(realign(FORMATTED, &[0..FORMATTED.len()]), FORMATTED);
    }

    #[test]
    fn only_touched_runs_move() {
        let text = "x = {\n  a = 1\n  bbb = 2\n}\ny = {\n  c = 1\n  dddd = 2\n}\n";
        let at = text.find("c = 1").unwrap();
        let got = realign(text, &[at..at]);
        assert_eq!(got, "x = {\n  a = 1\n  bbb = 2\n}\ny = {\n  c    = 1\n  dddd = 2\n}\n");
    }

    #[test]
    fn a_run_whose_padding_shrinks_keeps_its_comments_aligned() {
        // Found by a held-out review: the longest key removed, a comment on a remaining line.
        let text = "a = {\n  max_size             = 2 # comment\n  instance_type        = \"c\" # other\n}\n";
        let end = text.find("}\n").unwrap();
        assert_eq!(
            realign(text, &[end..end]),
            "a = {\n  max_size      = 2   # comment\n  instance_type = \"c\" # other\n}\n"
        );
    }

    #[test]
    fn a_removed_line_realigns_its_neighbours() {
        let text = "g = {\n  ami_type             = \"X\"\n  instance_type        = \"c\"\n}\n";
        let end = text.find("}\n").unwrap();
        assert_eq!(realign(text, &[end..end]), "g = {\n  ami_type      = \"X\"\n  instance_type = \"c\"\n}\n");
    }
}
