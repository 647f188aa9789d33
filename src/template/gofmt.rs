//! Go `fmt` format strings (issue #14): test fixtures and generators written in Go fill user
//! data with `fmt.Sprintf(template, cluster, endpoint, …)`. In such a text `%%` is a literal `%`
//! and `%s`, `%d`, `%v`, `%q` (with flags, width and precision) are values only the program
//! knows (Go `fmt` package documentation). A verb is not valid YAML where a value starts
//! (`name: %s`), so the text is read the way Sprintf renders it: each verb becomes a `${%s}`
//! placeholder that value checks treat as template text, `%%` becomes `%`, and every byte keeps
//! the offset it came from.

/// The reading of a Go format string: its text and, per byte (plus one past the end), the
/// offset in the template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reading {
    pub text: String,
    pub offsets: Vec<usize>,
}

/// Whether the text is a Go format string: a verb stands where a value does (after `: `, `- `,
/// `=` or a space, outside `printf`/`date` lines, whose own `%` are shell), and it is no other
/// engine's template.
pub fn is_format_string(text: &str) -> bool {
    if !text.contains('%') || text.contains("%{") || text.contains("${AWS::") || text.contains("{{") {
        return false;
    }
    // The verb test first: it skips most lines at their first byte scan.
    text.lines().any(|line| {
        let b = line.as_bytes();
        memchr::memchr(b'%', b).is_some()
            && verbs(line).any(|(at, _)| at > 0 && matches!(b.get(at - 1), Some(b' ' | b'=' | b'\t')))
            && !line.contains("printf")
            && !line.contains("date ")
    })
}

/// `(offset, length)` of each verb in a line or text (`%%` is not one).
pub fn verbs(text: &str) -> impl Iterator<Item = (usize, usize)> + '_ {
    let b = text.as_bytes();
    let mut i = 0;
    std::iter::from_fn(move || {
        while let Some(&c) = b.get(i) {
            if c != b'%' {
                i += 1;
                continue;
            }
            let at = i;
            if b.get(i + 1) == Some(&b'%') {
                i += 2;
                continue;
            }
            let mut j = i + 1;
            while b.get(j).is_some_and(|c| matches!(c, b'+' | b'-' | b'#' | b' ' | b'0'..=b'9' | b'.')) && j - i < 8 {
                j += 1;
            }
            i = j.max(at + 1);
            if b.get(j).is_some_and(|c| matches!(c, b's' | b'd' | b'v' | b'q')) {
                i = j + 1;
                return Some((at, j + 1 - at));
            }
        }
        None
    })
}

/// The text as Sprintf renders it, verbs as `${%s}` placeholders.
pub fn reading(text: &str) -> Reading {
    let mut out = String::with_capacity(text.len() + 16);
    let mut offsets = Vec::with_capacity(text.len() + 16);
    let copy = |out: &mut String, offsets: &mut Vec<usize>, from: usize, to: usize| {
        if let Some(s) = text.get(from..to) {
            // `%%` is a literal `%`: the second one is dropped.
            let mut k = from;
            for (i, c) in s.char_indices() {
                let here = from + i;
                if c == '%' && text.as_bytes().get(here + 1) == Some(&b'%') && k <= here {
                    out.push('%');
                    offsets.push(here);
                    k = here + 2;
                    continue;
                }
                if here < k {
                    continue;
                }
                out.push(c);
                offsets.extend(std::iter::repeat_n(here, c.len_utf8()));
            }
        }
    };
    let mut last = 0;
    for (at, len) in verbs(text) {
        copy(&mut out, &mut offsets, last, at);
        let verb = text.get(at..at + len).unwrap_or("%v");
        let placeholder = format!("${{{verb}}}");
        offsets.extend(std::iter::repeat_n(at, placeholder.len()));
        out.push_str(&placeholder);
        last = at + len;
    }
    copy(&mut out, &mut offsets, last, text.len());
    offsets.push(text.len());
    Reading { text: out, offsets }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_verbs_as_placeholders_and_escapes_as_percent() {
        let t = "name: %s\nmaxPods: %-3d\necho 90%% full\n";
        assert!(is_format_string(t));
        let r = reading(t);
        assert_eq!(r.text, "name: ${%s}\nmaxPods: ${%-3d}\necho 90% full\n");
        assert_eq!(r.offsets.len(), r.text.len() + 1);
        assert_eq!(r.offsets[r.text.find("${%-3d}").unwrap()], t.find("%-3d").unwrap());
        assert_eq!(r.offsets[r.text.find("% full").unwrap()], t.find("%% full").unwrap());
        assert_eq!(r.offsets[r.text.find("full").unwrap()], t.find("full").unwrap());
        // Shell's own `%` is not a format string.
        assert!(!is_format_string("printf '%s\\n' x\ndate +%s\nx=\"50%\"\n"));
        assert!(!is_format_string("value: ${x} %s\n%{ if a }%{ endif }\n"));
    }
}
