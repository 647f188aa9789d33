//! Inline suppression, in the manner of ruff's `# noqa` and shellcheck's `# shellcheck
//! disable=`: a comment `# eks-userdata: ignore=CODE[,CODE]` on the offending line or the line
//! above silences those codes there; `# eks-userdata: ignore-file=CODE[,CODE]` anywhere in the
//! user data silences them everywhere (the only way for envelope findings, whose MIME headers
//! cannot carry comments). Codes or rule names, case-insensitive; `all` matches every code.
//! Shell, YAML and TOML all use `#` comments, so one syntax serves every part.

use crate::diagnostic::{Diagnostic, Layer, Span};
use crate::userdata::Envelope;

const MARKER: &str = "eks-userdata:";

#[derive(Debug, Default, PartialEq)]
struct Directive {
    file: bool,
    codes: Vec<String>,
}

/// The directive in one line, if the line has a `#` comment carrying one.
fn directive(line: &[u8]) -> Option<Directive> {
    // `convert`'s own comments carry the marker on many lines, never `ignore`.
    memchr::memmem::find(line, b"ignore")?;
    let line = std::str::from_utf8(line).ok()?;
    let (_, comment) = line.split_once('#')?;
    let (_, rest) = comment.split_once(MARKER)?;
    let rest = rest.trim_start();
    let (file, list) = if let Some(l) = rest.strip_prefix("ignore-file=") {
        (true, l)
    } else {
        (false, rest.strip_prefix("ignore=")?)
    };
    let codes = list
        .split(|c: char| c == ',' || c.is_whitespace())
        .take_while(|c| !c.is_empty())
        .map(str::to_ascii_lowercase)
        .collect::<Vec<_>>();
    (!codes.is_empty()).then_some(Directive { file, codes })
}

fn matches(codes: &[String], d: &Diagnostic) -> bool {
    codes.iter().any(|c| c == "all" || c.eq_ignore_ascii_case(d.code) || c.eq_ignore_ascii_case(d.name))
}

/// The line holding `offset` and the one before it.
fn lines_at(buf: &[u8], offset: usize) -> [&[u8]; 2] {
    let offset = offset.min(buf.len());
    let start = buf.get(..offset).and_then(|h| h.iter().rposition(|b| *b == b'\n')).map_or(0, |i| i + 1);
    let end = buf.get(offset..).and_then(|t| t.iter().position(|b| *b == b'\n')).map_or(buf.len(), |i| offset + i);
    let prev = match start.checked_sub(1) {
        None => &[][..],
        Some(nl) => {
            let p = buf.get(..nl).and_then(|h| h.iter().rposition(|b| *b == b'\n')).map_or(0, |i| i + 1);
            buf.get(p..nl).unwrap_or_default()
        }
    };
    [buf.get(start..end).unwrap_or_default(), prev]
}

/// Drops the diagnostics a directive silences.
pub fn apply(env: &Envelope, diags: &mut Vec<Diagnostic>) {
    // Cheap exit: most files carry no directive at all.
    let (marker, ignore) = (memchr::memmem::Finder::new(MARKER), memchr::memmem::Finder::new("ignore"));
    let has_marker = |b: &[u8]| marker.find(b).is_some() && ignore.find(b).is_some();
    if !has_marker(&env.payload) && !env.parts.iter().any(|p| has_marker(&p.body)) {
        return;
    }
    let buffers = std::iter::once(env.payload.as_slice()).chain(env.parts.iter().map(|p| p.body.as_slice()));
    let file_codes: Vec<String> = buffers
        .flat_map(|b| b.split(|c| *c == b'\n'))
        .filter_map(directive)
        .filter(|d| d.file)
        .flat_map(|d| d.codes)
        .collect();
    diags.retain(|d| {
        if matches(&file_codes, d) {
            return false;
        }
        let Some(Span { layer, start, .. }) = d.span else { return true };
        let buf = match layer {
            Layer::Payload => env.payload.as_slice(),
            Layer::PartBody(i) => match env.parts.get(i) {
                Some(p) => p.body.as_slice(),
                None => return true,
            },
        };
        !lines_at(buf, start).into_iter().filter_map(directive).any(|dir| !dir.file && matches(&dir.codes, d))
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_directives() {
        assert_eq!(
            directive(b"  - --max-pods=3 # eks-userdata: ignore=NC210"),
            Some(Directive { file: false, codes: vec!["nc210".into()] })
        );
        assert_eq!(
            directive(b"# eks-userdata: ignore-file=UD116,al2-environment-in-script  reason"),
            Some(Directive { file: true, codes: vec!["ud116".into(), "al2-environment-in-script".into()] })
        );
        assert_eq!(directive(b"echo eks-userdata: ignore=NC210"), None, "not a comment");
        assert_eq!(directive(b"# eks-userdata: ignore="), None);
        assert_eq!(directive(b"# eks-userdata: something"), None);
    }

    #[test]
    fn line_and_previous_line() {
        let buf = b"a\nbb\nccc";
        assert_eq!(lines_at(buf, 3), [&b"bb"[..], &b"a"[..]]);
        assert_eq!(lines_at(buf, 0), [&b"a"[..], &b""[..]]);
        assert_eq!(lines_at(buf, 99), [&b"ccc"[..], &b"bb"[..]]);
    }
}
