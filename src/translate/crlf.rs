//! CRLF line endings as cloud-init treats them (`cloudinit/util.py` `dos2unix`, the same in the
//! AL2 and AL2023 releases): when the first line of a script ends in CRLF every CRLF becomes LF
//! before the script runs; otherwise the carriage returns stay and bash reads them as part of
//! the last word of their lines.

/// A script with its CRLF endings converted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Converted {
    pub text: String,
    /// Positions in `text` where a carriage return was removed (before each such `\n`).
    pub crs: Vec<usize>,
    /// cloud-init converted them itself (the first line ends in CRLF).
    pub by_cloud_init: bool,
    /// 1-based numbers of the lines that ended in CRLF.
    pub lines: Vec<usize>,
}

/// `None` when no line ends in CRLF.
pub(super) fn convert(text: &str) -> Option<Converted> {
    if !text.contains("\r\n") {
        return None;
    }
    let first = text.find('\n').is_some_and(|i| i > 0 && text.as_bytes().get(i - 1) == Some(&b'\r'));
    let mut out = String::with_capacity(text.len());
    let mut crs = Vec::new();
    let mut lines = Vec::new();
    for (n, line) in text.split_inclusive('\n').enumerate() {
        match line.strip_suffix("\r\n") {
            Some(body) => {
                out.push_str(body);
                crs.push(out.len());
                out.push('\n');
                lines.push(n + 1);
            }
            None => out.push_str(line),
        }
    }
    Some(Converted { text: out, crs, by_cloud_init: first, lines })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converts_and_maps_back() {
        let c = convert("a\r\nbc\r\nd").unwrap();
        assert_eq!(c.text, "a\nbc\nd");
        assert_eq!(c.crs, [1, 4]);
        assert!(c.by_cloud_init);
        assert_eq!(c.lines, [1, 2]);
        let c = convert("#!/bin/bash\nx\r\n").unwrap();
        assert!(!c.by_cloud_init);
        assert_eq!(c.lines, [2]);
        assert!(convert("a\nb\n").is_none());
    }
}
