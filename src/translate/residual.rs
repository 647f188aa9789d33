//! The residual script: the user's own bytes with each replaced command turned into `true`, so
//! `|| exit 1` and `if` blocks still parse; nothing is re-printed from the AST.

use crate::al2::shell;

/// Commands that carry no meaning once the call is gone.
pub(super) fn trivial(cmd: &shell::Command) -> bool {
    cmd.words.is_empty() || matches!(cmd.name(), Some("set" | "true" | ":" | "exit" | "export"))
}

/// Replaces each command span by `true` in the original text, so `|| exit 1` and `if` blocks
/// still parse, with a comment saying why when the command ends its line. A command's
/// redirections carry no location, so when only they follow it on the line they go too.
pub(super) fn residual(text: &str, spans: &[(usize, usize, &str)]) -> String {
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    let mut sorted = spans.to_vec();
    sorted.sort();
    for (s, mut e, why) in sorted {
        if s < last || e > text.len() {
            continue;
        }
        let line_rest = text[e..].split('\n').next().unwrap_or_default();
        let only_redirects = !line_rest.trim().is_empty()
            && !line_rest.contains([';', '&', '|', '#', '\\'])
            && line_rest.trim_start().starts_with(['>', '<', '2', '1']);
        if only_redirects {
            e += line_rest.len();
        }
        out.push_str(&text[last..s]);
        out.push_str("true");
        if only_redirects || line_rest.trim().is_empty() {
            out.push_str("  # eks-userdata: ");
            out.push_str(why);
        }
        last = e;
    }
    out.push_str(&text[last..]);
    out
}

/// The original text of a command span (shifted for bare argument strings).
pub(super) fn text_of(text: &str, span: (usize, usize), shift: isize) -> String {
    let f = |x: usize| ((x as isize - shift).max(0) as usize).min(text.len());
    text.get(f(span.0)..f(span.1)).unwrap_or_default().to_string()
}
