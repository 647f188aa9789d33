//! The outer structure of a MIME message, scanned on raw bytes so every header, delimiter and
//! body keeps its byte offset. Rules, and where each consumer stands on them:
//! * RFC 5322 §2.2 / RFC 2045: a header block ends at the first empty line. Go's
//!   `net/textproto` (nodeadm) fails on a line that is not `Name: value` or a continuation, and
//!   reads YAML lines such as `apiVersion: …` as headers, so a missing blank line after a part's
//!   headers loses the body (docs §2.1, amazon-eks-ami #2318).
//! * RFC 2046 §5.1.1: a delimiter is `--boundary` alone on a line (trailing blanks allowed), the
//!   line break before it belongs to it, and `--boundary--` closes the body. Go's multipart reader
//!   returns `io.ErrUnexpectedEOF` when the close delimiter is missing; content after it (the
//!   epilogue) is ignored by nodeadm and cloud-init alike.
//!   `mailparse` is more lenient than both, so it is used only to parse header values.

use super::Header;

/// How a header block ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BlockEnd {
    /// An empty line: the well-formed case.
    BlankLine,
    /// A line that is not a header: the blank line is missing before it.
    NotAHeader { start: usize, end: usize },
    /// A syntactically valid header that is not a MIME header (`apiVersion: …`): a consumer
    /// reads it as a header, swallowing body lines. Only checked in part headers.
    SuspectHeader { start: usize, end: usize },
    /// The buffer ended inside the header block.
    Eof,
}

#[derive(Debug, Clone)]
pub struct HeaderBlock {
    pub headers: Vec<Header>,
    pub body_start: usize,
    pub end: BlockEnd,
}

/// Header names a MIME part legitimately carries; anything else in a part's header block is
/// almost certainly body text that lost its blank line.
fn is_mime_header(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    n.starts_with("content-") || n.starts_with("x-") || n == "mime-version" || n == "merge-type"
}

fn is_field_name(name: &[u8]) -> bool {
    !name.is_empty() && name.iter().all(|b| (33..=126).contains(b) && *b != b':')
}

/// Lines of `buf[start..end]` as `(line_start, content_end, next_line_start)`; content excludes
/// the `\n` and a trailing `\r`.
pub fn lines(buf: &[u8], start: usize, end: usize) -> impl Iterator<Item = (usize, usize, usize)> + '_ {
    let end = end.min(buf.len());
    let mut pos = start.min(end);
    std::iter::from_fn(move || {
        if pos >= end {
            return None;
        }
        let line_start = pos;
        let nl = buf.get(pos..end).and_then(|l| l.iter().position(|b| *b == b'\n'));
        let (content_end, next) = match nl {
            Some(i) => (pos + i, pos + i + 1),
            None => (end, end),
        };
        pos = next;
        let content_end = if content_end > line_start && buf.get(content_end - 1) == Some(&b'\r') {
            content_end - 1
        } else {
            content_end
        };
        Some((line_start, content_end, next))
    })
}

/// Parses the header block at `buf[start..end]`.
pub fn header_block(buf: &[u8], start: usize, end: usize, part_level: bool) -> HeaderBlock {
    let mut headers: Vec<Header> = Vec::new();
    for (ls, le, next) in lines(buf, start, end) {
        let line = buf.get(ls..le).unwrap_or_default();
        if line.is_empty() {
            return HeaderBlock { headers, body_start: next, end: BlockEnd::BlankLine };
        }
        if matches!(line.first(), Some(b' ' | b'\t')) && !headers.is_empty() {
            if let Some(h) = headers.last_mut() {
                let cont = String::from_utf8_lossy(line);
                h.value.push(' ');
                h.value.push_str(cont.trim());
                h.end = le;
            }
            continue;
        }
        let mut field = line.splitn(2, |b| *b == b':');
        match (field.next(), field.next()) {
            (Some(name), Some(value)) if is_field_name(name) => {
                let name = String::from_utf8_lossy(name).into_owned();
                if part_level && !is_mime_header(&name) {
                    // Go's reader takes it as a header and reads on to the blank line, past the
                    // part's end if need be (it knows no part ends while reading headers); a line
                    // on the way that is no header line, such as the next delimiter, fails the
                    // whole read (`malformed MIME header`): the missing blank line is fatal.
                    let fails = lines(buf, next, buf.len())
                        .take_while(|(s, e, _)| e > s)
                        .filter_map(|(s, e, _)| buf.get(s..e))
                        .any(|l| {
                            let folded = l.first().is_some_and(|b| *b == b' ' || *b == b'\t');
                            let field = l
                                .iter()
                                .position(|b| *b == b':')
                                .is_some_and(|c| is_field_name(l.get(..c).unwrap_or_default()));
                            !folded && !field
                        });
                    if fails {
                        return HeaderBlock {
                            headers,
                            body_start: ls,
                            end: BlockEnd::NotAHeader { start: ls, end: le },
                        };
                    }
                    // Otherwise the lines up to the blank line are headers to Go, and the body
                    // nodeadm decodes starts after it.
                    let body_start =
                        lines(buf, ls, end).find(|(s, e, _)| e == s).map_or(end.min(buf.len()), |(_, _, n)| n);
                    return HeaderBlock { headers, body_start, end: BlockEnd::SuspectHeader { start: ls, end: le } };
                }
                let value = String::from_utf8_lossy(value).trim().to_string();
                headers.push(Header { name, value, start: ls, end: le });
            }
            _ => return HeaderBlock { headers, body_start: ls, end: BlockEnd::NotAHeader { start: ls, end: le } },
        }
    }
    HeaderBlock { headers, body_start: end.min(buf.len()), end: BlockEnd::Eof }
}

/// One part's bytes between two delimiters: `start..end` in the payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawPart {
    pub start: usize,
    pub end: usize,
}

#[derive(Debug, Clone, Default)]
pub struct MultipartScan {
    pub parts: Vec<RawPart>,
    /// Offset of the first delimiter line, if any.
    pub first_delimiter: Option<usize>,
    /// The close delimiter line `(start, end)`.
    pub close: Option<(usize, usize)>,
    /// Non-blank content after the close delimiter `(start, end)`.
    pub epilogue: Option<(usize, usize)>,
    /// No close delimiter, but the input ends the way Go's reader takes as the end of the parts:
    /// inside the header block of a part that has just begun (see [`ends_in_headers`]).
    pub open_end: bool,
}

enum Delim {
    Open,
    Close,
}

fn delimiter(line: &[u8], boundary: &[u8]) -> Option<Delim> {
    let rest = line.strip_prefix(b"--")?.strip_prefix(boundary)?;
    let trimmed = rest.strip_prefix(b"--").map(|r| (r, Delim::Close)).unwrap_or((rest, Delim::Open));
    trimmed.0.iter().all(|b| *b == b' ' || *b == b'\t').then_some(trimmed.1)
}

/// Splits a multipart body at its delimiters.
pub fn scan_multipart(buf: &[u8], body_start: usize, boundary: &str) -> MultipartScan {
    let mut scan = MultipartScan::default();
    let mut current: Option<usize> = None;
    // Whether the last delimiter line ended in a line break.
    let mut open_newline = false;
    // The line break before a delimiter belongs to the delimiter (RFC 2046 §5.1.1).
    let part_end = |delim_start: usize| {
        let mut e = delim_start;
        if e > 0 && buf.get(e - 1) == Some(&b'\n') {
            e -= 1;
            if e > 0 && buf.get(e - 1) == Some(&b'\r') {
                e -= 1;
            }
        }
        e
    };
    for (ls, le, next) in lines(buf, body_start, buf.len()) {
        if let Some(kind) = buf.get(ls..le).and_then(|line| delimiter(line, boundary.as_bytes())) {
            scan.first_delimiter.get_or_insert(ls);
            if let Some(start) = current.take() {
                scan.parts.push(RawPart { start, end: part_end(ls).max(start) });
            }
            match kind {
                Delim::Open => {
                    current = Some(next);
                    open_newline = next > le;
                }
                Delim::Close => {
                    scan.close = Some((ls, le));
                    let rest = buf.get(next..).unwrap_or_default();
                    if let Some(first) = rest.iter().position(|b| !b.is_ascii_whitespace()) {
                        scan.epilogue = Some((next + first, buf.len()));
                    }
                    return scan;
                }
            }
        }
    }
    if let Some(start) = current {
        if open_newline && ends_in_headers(buf.get(start..).unwrap_or_default()) {
            scan.open_end = true;
        } else {
            scan.parts.push(RawPart { start, end: buf.len().max(start) });
        }
    }
    scan
}

/// Whether `rest`, all that follows the last delimiter line, is an unfinished header block: Go's
/// `multipart.Reader.NextPart` reads a part's headers with `net/textproto`, which returns a bare
/// `io.EOF` when the input ends before the blank line, and nodeadm takes a bare `io.EOF` as the
/// end of the parts. Nothing, or header lines only (each with a colon, continuations after the
/// first), ends cleanly; a blank line (a body that never meets a delimiter), a line without a
/// colon or a leading continuation is an error to Go (checked against Go in
/// `tests/it/nodeadm_mime.rs`).
fn ends_in_headers(rest: &[u8]) -> bool {
    let lines: Vec<&[u8]> = rest.split(|b| *b == b'\n').collect();
    for (i, line) in lines.iter().enumerate() {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            // The split's empty tail after a final line break is no blank line.
            return i + 1 == lines.len();
        }
        let folded = line.first().is_some_and(|b| *b == b' ' || *b == b'\t');
        if (folded && i == 0) || (!folded && !line.contains(&b':')) {
            return false;
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_block_ends_at_blank_line_and_unfolds() {
        let buf = b"Content-Type: text/x-shellscript;\n charset=\"us-ascii\"\nX-A: 1\n\nbody";
        let hb = header_block(buf, 0, buf.len(), true);
        assert_eq!(hb.end, BlockEnd::BlankLine);
        assert_eq!(hb.headers.len(), 2);
        assert_eq!(hb.headers[0].value, "text/x-shellscript; charset=\"us-ascii\"");
        assert_eq!(&buf[hb.body_start..], b"body");
    }

    #[test]
    fn header_block_flags_missing_blank_line() {
        let buf = b"Content-Type: text/x-shellscript\n#!/bin/bash\necho hi\n";
        let hb = header_block(buf, 0, buf.len(), true);
        assert_eq!(hb.end, BlockEnd::NotAHeader { start: 33, end: 44 });
        assert_eq!(hb.body_start, 33);
        let yaml = b"Content-Type: application/node.eks.aws\napiVersion: node.eks.aws/v1alpha1\n";
        let hb = header_block(yaml, 0, yaml.len(), true);
        assert!(matches!(hb.end, BlockEnd::SuspectHeader { start: 39, .. }));
        let hb = header_block(yaml, 0, yaml.len(), false);
        assert_eq!(hb.end, BlockEnd::Eof);
        assert_eq!(hb.headers.len(), 2);
    }

    #[test]
    fn multipart_scan_finds_parts_close_and_epilogue() {
        let buf = b"preamble\n--B\nA: 1\n\none\n--B  \r\n\ntwo\r\n--B--\n\ntrailing junk\n";
        let s = scan_multipart(buf, 0, "B");
        assert_eq!(s.parts.len(), 2);
        assert_eq!(&buf[s.parts[0].start..s.parts[0].end], b"A: 1\n\none");
        assert_eq!(&buf[s.parts[1].start..s.parts[1].end], b"\ntwo");
        assert!(s.close.is_some());
        let (es, ee) = s.epilogue.unwrap();
        assert_eq!(&buf[es..ee], b"trailing junk\n");
    }

    #[test]
    fn an_unfinished_header_block_after_the_last_delimiter_is_the_end() {
        let head = b"--B\nA: 1\n\none\n--B\n".to_vec();
        for (tail, clean) in [
            (&b""[..], true),
            (b"Content-Type: text/plain\n", true),
            (b"Content-Type: text/plain", true),
            (b"A: 1\n folded\n", true),
            (b"\n", false),
            (b"A: 1\n\nbody", false),
            (b"junk\n", false),
            (b" folded\n", false),
        ] {
            let buf = [head.as_slice(), tail].concat();
            let s = scan_multipart(&buf, 0, "B");
            assert_eq!((s.open_end, s.parts.len()), (clean, if clean { 1 } else { 2 }), "{tail:?}");
        }
        // A delimiter line the input ends inside (no line break) is an error to Go.
        let s = scan_multipart(b"--B\nA: 1\n\none\n--B", 0, "B");
        assert!(!s.open_end);
    }

    #[test]
    fn multipart_scan_without_close() {
        let buf = b"--B\n\nx\n--Bnot\n";
        let s = scan_multipart(buf, 0, "B");
        assert_eq!(s.parts.len(), 1);
        assert_eq!(&buf[s.parts[0].start..s.parts[0].end], b"\nx\n--Bnot\n");
        assert!(s.close.is_none());
    }
}
