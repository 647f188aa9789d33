//! The residual script: the user's own bytes with each replaced command turned into `true` (or
//! a stated replacement), so `|| exit 1` and `if` blocks still parse; nothing is re-printed from
//! the AST. A replaced command's heredoc body goes with it (bash reads the body from the lines
//! after the command's line, up to the delimiter line: bash(1) "Here Documents").

use crate::al2::shell;

/// Commands that carry no meaning once the call is gone.
pub(super) fn trivial(cmd: &shell::Command) -> bool {
    cmd.words.is_empty() || matches!(cmd.name(), Some("set" | "true" | ":" | "exit" | "export"))
}

/// One command to cut: its span, why (said in a comment) and what stands in its place.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct Cut<'a> {
    pub start: usize,
    pub end: usize,
    pub why: &'a str,
    pub with: &'a str,
    /// The command has a heredoc, whose body goes too.
    pub heredoc: bool,
    /// Say why in a comment when the command ends its line (not for insertions).
    pub comment: bool,
}

impl<'a> Cut<'a> {
    pub fn new(start: usize, end: usize, why: &'a str) -> Self {
        Cut { start, end, why, with: "true", heredoc: false, comment: true }
    }
    /// The cut for a command of the script (its heredoc included).
    pub fn command(cmd: &shell::Command, shift: isize, why: &'a str) -> Self {
        let f = |x: usize| (x as isize - shift).max(0) as usize;
        let heredoc = cmd.redirects.iter().any(|r| matches!(r, shell::Redirect::HereDoc { .. }));
        Cut { heredoc, ..Cut::new(f(cmd.span.0), f(cmd.span.1), why) }
    }
}

/// Where a command's heredoc ends (after its delimiter line), if the command has one.
pub(super) fn heredoc_end(text: &str, span: (usize, usize)) -> Option<usize> {
    // Redirections carry no span: look at the rest of the command's last line too.
    let line_end = text.get(span.1..)?.find('\n').map_or(text.len(), |i| span.1 + i);
    let cmd = text.get(span.0..line_end)?;
    let rest = cmd.match_indices("<<").filter_map(|(i, _)| cmd.get(i + 2..)).find(|r| !r.starts_with('<'))?;
    let strip_tabs = rest.starts_with('-');
    let rest = rest.trim_start_matches('-').trim_start();
    let delim: String = rest
        .trim_start_matches(['\'', '"', '\\'])
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-' || *c == '.')
        .collect();
    if delim.is_empty() {
        return None;
    }
    let mut pos = line_end + 1;
    while pos < text.len() {
        let line_end = text.get(pos..).and_then(|r| r.find('\n')).map_or(text.len(), |i| pos + i);
        let line = text.get(pos..line_end).unwrap_or_default();
        let line = if strip_tabs { line.trim_start_matches('\t') } else { line };
        if line.trim_end_matches('\r') == delim {
            return Some((line_end + 1).min(text.len()));
        }
        pos = line_end + 1;
    }
    // An unterminated heredoc takes the rest of the file (bash only warns).
    Some(text.len())
}

/// Replaces each cut in the original text, with a comment saying why when the command ends its
/// line. A command's redirections carry no location, so when only they follow it on the line
/// they go too, and its heredoc body goes with it.
pub(super) fn residual(text: &str, cuts: &[Cut]) -> String {
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    let mut sorted = cuts.to_vec();
    sorted.sort();
    for c in sorted {
        let (s, mut e) = (c.start, c.end);
        if s < last || e > text.len() || s > e {
            continue;
        }
        let heredoc = if c.heredoc { heredoc_end(text, (s, e)) } else { None };
        let line_rest = text.get(e..).unwrap_or_default().split('\n').next().unwrap_or_default();
        let only_redirects = c.comment
            && !line_rest.trim().is_empty()
            && !line_rest.contains([';', '&', '|', '#', '\\'])
            && line_rest.trim_start().starts_with(['>', '<', '2', '1']);
        if only_redirects {
            e += line_rest.len();
        }
        out.push_str(text.get(last..s).unwrap_or_default());
        out.push_str(c.with);
        let ends_line = only_redirects
            || text.get(e..).unwrap_or_default().split('\n').next().unwrap_or_default().trim().is_empty();
        if ends_line && c.comment {
            out.push_str("  # eks-userdata: ");
            out.push_str(c.why);
        }
        last = e;
        if let Some(h) = heredoc.filter(|_| ends_line && c.comment) {
            // Keep the line break that ends the command's line; drop the body.
            let nl = text.get(e..).and_then(|r| r.find('\n')).map_or(text.len(), |i| e + i);
            out.push_str(text.get(e..nl).unwrap_or_default());
            out.push('\n');
            last = h.max(nl);
        }
    }
    out.push_str(text.get(last..).unwrap_or_default());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cuts_take_their_heredoc_along() {
        let text = "a\ncat <<'EOF' > /etc/x\nbody 1\nbody 2\nEOF\nb\n";
        let s = text.find("cat").unwrap();
        let e = s + "cat".len();
        let cut = Cut { heredoc: true, ..Cut::new(s, e, "gone") };
        assert_eq!(residual(text, &[cut]), "a\ntrue  # eks-userdata: gone\nb\n");
        let text = "x\n\tcat <<-X >> f\n\t\tkeep\n\tX\ny\n";
        let s = text.find("cat").unwrap();
        assert_eq!(
            residual(text, &[Cut { heredoc: true, ..Cut::new(s, s + 3, "g") }]),
            "x\n\ttrue  # eks-userdata: g\ny\n"
        );
        let text = "cat <<EOF | tee f\nz\nEOF\n";
        assert_eq!(heredoc_end(text, (0, 3)), Some(text.len()));
    }
}
