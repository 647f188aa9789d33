//! Byte-range edits on a file's original text. A migration locates what it changes with a real
//! parser (HCL, YAML, JSON) and then replaces exactly those bytes in the original, so every byte
//! outside an edit is the user's own, unchanged by construction — comments, formatting, ordering
//! — instead of trusting a re-serialiser to reproduce them (the way `cargo fix` and rustfix apply
//! suggestions).

use std::ops::Range;

/// Replace `range` of the original text with `with`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edit {
    pub range: Range<usize>,
    pub with: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EditError {
    #[error("edits overlap at bytes {0}..{1}")]
    Overlap(usize, usize),
    #[error("edit {0}..{1} is outside the text or splits a character")]
    OutOfRange(usize, usize),
}

/// The text with every edit applied. Edits may come in any order; overlapping ones or ones
/// that split a UTF-8 character are refused (a bug in the caller, reported, never applied).
pub fn apply(text: &str, edits: &[Edit]) -> Result<String, EditError> {
    apply_tracked(text, edits).map(|(out, _)| out)
}

/// `apply`, and where each edit's new text sits in the result.
pub fn apply_tracked(text: &str, edits: &[Edit]) -> Result<(String, Vec<Range<usize>>), EditError> {
    let mut placed = Vec::with_capacity(edits.len());
    let mut sorted: Vec<&Edit> = edits.iter().collect();
    sorted.sort_by_key(|e| (e.range.start, e.range.end));
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for e in sorted {
        let (s, t) = (e.range.start, e.range.end);
        if s < at {
            return Err(EditError::Overlap(s, t));
        }
        let (Some(keep), Some(_)) = (text.get(at..s), text.get(s..t)) else {
            return Err(EditError::OutOfRange(s, t));
        };
        out.push_str(keep);
        placed.push(out.len()..out.len() + e.with.len());
        out.push_str(&e.with);
        at = t;
    }
    out.push_str(text.get(at..).unwrap_or_default());
    Ok((out, placed))
}

/// The 1-based line of a byte offset.
pub fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes().get(..offset.min(text.len())).unwrap_or_default().iter().filter(|&&b| b == b'\n').count() + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_edited_bytes_change() {
        let text = "a = 1 # keep\nb = \"AL2_x86_64\"\n";
        let at = text.find("AL2_x86_64").unwrap();
        let edits = [Edit { range: at..at + 10, with: "AL2023_x86_64_STANDARD".into() }];
        assert_eq!(apply(text, &edits).unwrap(), "a = 1 # keep\nb = \"AL2023_x86_64_STANDARD\"\n");
        assert_eq!(apply(text, &[]).unwrap(), text);
    }

    #[test]
    fn overlapping_or_splitting_edits_are_refused() {
        let e = |r: Range<usize>| Edit { range: r, with: String::new() };
        assert_eq!(apply("abcdef", &[e(1..3), e(2..4)]), Err(EditError::Overlap(2, 4)));
        assert_eq!(apply("abc", &[e(2..9)]), Err(EditError::OutOfRange(2, 9)));
        assert_eq!(apply("é", &[e(1..2)]), Err(EditError::OutOfRange(1, 2)));
        assert_eq!(line_of("a\nb\nc", 4), 3);
    }
}
