//! Where input comes from, read with a hard size cap, and how byte offsets become the line and
//! column a user sees (1-based lines; columns count Unicode scalar values, as editors do).

use std::io::Read;
use std::path::Path;

/// The bytes as text with every byte where it was: each byte that is not UTF-8 becomes one `_`
/// (`String::from_utf8_lossy` writes a 3-byte U+FFFD, which moves every later span).
pub fn text_keeping_offsets(bytes: &[u8]) -> std::borrow::Cow<'_, str> {
    if let Ok(text) = std::str::from_utf8(bytes) {
        return text.into();
    }
    let mut out = String::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        out.push_str(chunk.valid());
        out.extend(std::iter::repeat_n('_', chunk.invalid().len()));
    }
    out.into()
}

/// `String::from_utf8_lossy`, borrowing valid UTF-8 after the standard library's faster
/// validation (the lossy decoder walks every char; hot paths read mostly valid text).
pub fn lossy(bytes: &[u8]) -> std::borrow::Cow<'_, str> {
    match std::str::from_utf8(bytes) {
        Ok(text) => text.into(),
        Err(_) => String::from_utf8_lossy(bytes),
    }
}

/// The largest input read, in bytes. EC2 caps user data at 16 KiB; templates and base64 copies
/// are larger, so the cap is generous but bounded: nothing past it is ever held in memory.
pub const DEFAULT_MAX_INPUT: usize = 1024 * 1024;

#[derive(Debug, Clone)]
pub struct Source {
    /// What the user called it: a path, `-` for stdin, later `lt-0abc@3`.
    pub name: String,
    pub bytes: Vec<u8>,
}

#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("{name}: cannot read: {source}")]
    Io {
        name: String,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "{name}: input is larger than the {cap} byte cap ({}); EC2 user data is at most 16 KiB, \
         so this is probably not user data (raise the cap with --max-input-bytes if it is)",
        human_bytes(*.cap)
    )]
    TooLarge { name: String, cap: usize },
}

impl Source {
    pub fn new(name: impl Into<String>, bytes: impl Into<Vec<u8>>) -> Self {
        Source { name: name.into(), bytes: bytes.into() }
    }

    /// Reads a path (or `-` for stdin) without ever holding more than `cap + 1` bytes.
    pub fn read(path: &str, cap: usize) -> Result<Source, ReadError> {
        let io = |source| ReadError::Io { name: path.to_string(), source };
        let bytes = if path == "-" {
            read_capped(std::io::stdin().lock(), cap).map_err(io)?
        } else {
            let p = Path::new(path);
            if p.is_dir() {
                return Err(io(std::io::Error::other("is a directory")));
            }
            read_capped(std::fs::File::open(p).map_err(io)?, cap).map_err(io)?
        };
        match bytes {
            Some(bytes) => Ok(Source::new(path, bytes)),
            None => Err(ReadError::TooLarge { name: path.to_string(), cap }),
        }
    }
}

/// `Ok(None)` when the reader holds more than `cap` bytes.
pub fn read_capped(reader: impl Read, cap: usize) -> std::io::Result<Option<Vec<u8>>> {
    let mut buf = Vec::new();
    reader.take(cap as u64 + 1).read_to_end(&mut buf)?;
    Ok((buf.len() <= cap).then_some(buf))
}

pub fn human_bytes(n: usize) -> String {
    if n >= 1024 * 1024 && n.is_multiple_of(1024 * 1024) {
        format!("{} MiB", n / (1024 * 1024))
    } else if n >= 1024 && n.is_multiple_of(1024) {
        format!("{} KiB", n / 1024)
    } else {
        format!("{n} bytes")
    }
}

/// Line starts of a byte buffer, for offset → (line, column) lookups.
#[derive(Debug, Clone)]
pub struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    pub fn new(bytes: &[u8]) -> Self {
        let mut starts = vec![0];
        starts.extend(memchr::memchr_iter(b'\n', bytes).map(|i| i + 1));
        LineIndex { starts }
    }

    /// Byte offset where 1-based `line` starts (the end of the buffer past the last line).
    pub fn line_start(&self, line: usize) -> usize {
        self.starts.get(line.saturating_sub(1)).or(self.starts.last()).copied().unwrap_or(0)
    }

    /// 1-based line and column of `offset` (clamped to the buffer).
    pub fn locate(&self, bytes: &[u8], offset: usize) -> (usize, usize) {
        let offset = offset.min(bytes.len());
        let line = self.starts.partition_point(|s| *s <= offset).max(1);
        let start = self.starts.get(line - 1).copied().unwrap_or(0);
        let before = bytes.get(start..offset).unwrap_or_default();
        // Valid UTF-8 (nearly always) is counted in place; otherwise as the lossy text shows it.
        let chars = match std::str::from_utf8(before) {
            Ok(s) => s.chars().count(),
            Err(_) => String::from_utf8_lossy(before).chars().count(),
        };
        let col = chars + 1;
        (line, col)
    }

    /// The text of 1-based `line`, without its line ending.
    pub fn line_text<'a>(&self, bytes: &'a [u8], line: usize) -> &'a [u8] {
        let Some(&start) = self.starts.get(line.wrapping_sub(1)) else { return b"" };
        let end = self.starts.get(line).map_or(bytes.len(), |e| e - 1);
        let text = bytes.get(start.min(bytes.len())..end.max(start).min(bytes.len())).unwrap_or_default();
        text.strip_suffix(b"\r").unwrap_or(text)
    }

    pub fn line_count(&self) -> usize {
        self.starts.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_keeps_every_byte_offset() {
        let bytes = b"ab\xeb\xebcd\xe2\x82";
        let text = text_keeping_offsets(bytes);
        assert_eq!(text.len(), bytes.len());
        assert_eq!(text, "ab__cd__");
        assert!(matches!(text_keeping_offsets("é".as_bytes()), std::borrow::Cow::Borrowed("é")));
    }

    #[test]
    fn locates_lines_and_unicode_columns() {
        let text = "ab\ncé d\n\nx".as_bytes();
        let idx = LineIndex::new(text);
        assert_eq!(idx.locate(text, 0), (1, 1));
        assert_eq!(idx.locate(text, 3), (2, 1));
        assert_eq!(idx.locate(text, 7), (2, 4)); // after "cé " (é is two bytes)
        assert_eq!(idx.locate(text, 9), (3, 1));
        assert_eq!(idx.locate(text, 100), (4, 2));
        assert_eq!(idx.line_text(text, 2), "cé d".as_bytes());
        assert_eq!(idx.line_text(text, 4), b"x");
        assert_eq!(idx.line_text(text, 9), b"");
    }

    #[test]
    fn read_capped_refuses_past_the_cap() {
        assert_eq!(read_capped(&b"12345"[..], 5).unwrap(), Some(b"12345".to_vec()));
        assert_eq!(read_capped(&b"123456"[..], 5).unwrap(), None);
        assert_eq!(human_bytes(1024 * 1024), "1 MiB");
        assert_eq!(human_bytes(16384), "16 KiB");
    }
}
