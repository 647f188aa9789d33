//! Content-Type syntax exactly as strict as Go's `mime.ParseMediaType` (RFC 2045 §5.1,
//! RFC 2616 tokens), because nodeadm calls it on the top-level header and on every part's
//! header: an error on a part aborts reading the user data
//! (`nodeadm/internal/configprovider/mime.go`), an error on the top level makes nodeadm decode
//! the whole user data as one YAML document. mailparse accepts almost anything, so the check is
//! ours.

fn is_tspecial(c: char) -> bool {
    matches!(c, '(' | ')' | '<' | '>' | '@' | ',' | ';' | ':' | '\\' | '"' | '/' | '[' | ']' | '?' | '=')
}

fn is_token_char(c: char) -> bool {
    c.is_ascii() && !c.is_ascii_control() && c != ' ' && !is_tspecial(c)
}

fn token(s: &str) -> (&str, &str) {
    let end = s.find(|c: char| !is_token_char(c)).unwrap_or(s.len());
    s.split_at(end)
}

/// A quoted-string; `None` when it is not terminated.
fn quoted(s: &str) -> Option<&str> {
    let mut chars = s.char_indices().skip(1);
    while let Some((i, c)) = chars.next() {
        match c {
            '\\' => {
                chars.next();
            }
            '"' => return s.get(i + 1..),
            _ => {}
        }
    }
    None
}

/// Why Go's `mime.ParseMediaType` would reject `value`, or `None` if it accepts it.
pub fn go_parse_error(value: &str) -> Option<String> {
    let v = value.trim_start();
    let (main, rest) = token(v);
    if main.is_empty() {
        return Some("no media type (Go: mime: no media type)".into());
    }
    let Some(rest) = rest.strip_prefix('/') else {
        return Some(format!("`{main}` has no `/subtype` (Go: mime: expected slash after first token)"));
    };
    let (sub, mut rest) = token(rest);
    if sub.is_empty() {
        return Some(format!("`{main}/` has no subtype (Go: mime: expected token after slash)"));
    }
    let mut seen: Vec<String> = Vec::new();
    loop {
        rest = rest.trim_start();
        if rest.is_empty() {
            return None;
        }
        let Some(after) = rest.strip_prefix(';') else {
            return Some(format!(
                "unexpected `{}` after the media type (Go: mime: invalid media parameter)",
                preview(rest)
            ));
        };
        let after = after.trim_start();
        if after.is_empty() {
            return None; // a trailing `;` is ignored
        }
        let (key, r) = token(after);
        let Some(r) = r.trim_start().strip_prefix('=').filter(|_| !key.is_empty()) else {
            return Some(format!(
                "parameter `{}` is not `name=value` (Go: mime: invalid media parameter)",
                preview(after)
            ));
        };
        let r = r.trim_start();
        rest = if r.starts_with('"') {
            match quoted(r) {
                Some(rest) => rest,
                None => {
                    return Some(format!(
                        "parameter `{key}` has an unterminated quoted value (Go: mime: invalid media parameter)"
                    ));
                }
            }
        } else {
            let (val, rest) = token(r);
            if val.is_empty() {
                return Some(format!("parameter `{key}` has no value (Go: mime: invalid media parameter)"));
            }
            rest
        };
        let k = key.to_ascii_lowercase();
        if seen.contains(&k) {
            return Some(format!("parameter `{key}` appears twice (Go: mime: duplicate parameter name)"));
        }
        seen.push(k);
    }
}

fn preview(s: &str) -> String {
    s.chars().take(30).collect()
}

#[cfg(test)]
mod tests {
    use super::go_parse_error;

    #[test]
    fn accepts_what_go_accepts() {
        for ok in [
            "text/x-shellscript",
            "text/x-shellscript; charset=\"us-ascii\"",
            "multipart/mixed; boundary=\"//\"",
            "multipart/mixed; boundary=MIMEBOUNDARY",
            "multipart/mixed; boundary=\"==B==\";",
            "application/node.eks.aws",
            "Text/Plain ; charset = utf-8",
            "multipart/mixed; boundary=\"a\\\"b\"",
        ] {
            assert_eq!(go_parse_error(ok), None, "{ok}");
        }
    }

    #[test]
    fn rejects_what_go_rejects() {
        for bad in [
            "",
            "text",
            "text/",
            "text/plain charset=x",
            "text/plain; charset",
            "text/plain; charset=",
            "text/plain; charset=\"us-ascii",
            "multipart/mixed; boundary=//",
            "text/plain; a=1; A=2",
        ] {
            assert!(go_parse_error(bad).is_some(), "{bad}");
        }
    }
}
