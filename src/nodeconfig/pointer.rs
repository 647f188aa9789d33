//! JSON Pointer lookup (RFC 6901) without an allocation per segment. `serde_json::Value::pointer`
//! unescapes every segment with two `str::replace` calls, which made it a tenth of lint's time:
//! the rules look up fixed paths such as `/spec/kubelet/flags` many times per document, and no
//! NodeConfig path they use holds an escape.

use serde_json::Value;
use std::borrow::Cow;

/// `value.pointer(p)`, with segments unescaped only when they hold a `~`.
pub trait Pointer {
    fn at(&self, pointer: &str) -> Option<&Value>;
}

impl Pointer for Value {
    fn at(&self, pointer: &str) -> Option<&Value> {
        if pointer.is_empty() {
            return Some(self);
        }
        let rest = pointer.strip_prefix('/')?;
        rest.split('/').try_fold(self, |node, raw| {
            let segment = unescape(raw);
            match node {
                Value::Object(map) => map.get(segment.as_ref()),
                Value::Array(items) => index(&segment).and_then(|i| items.get(i)),
                _ => None,
            }
        })
    }
}

/// Appends `segment` escaped as a pointer segment (RFC 6901: `~` is `~0`, `/` is `~1`).
pub fn push_escaped(out: &mut String, segment: &str) {
    if !segment.contains(['~', '/']) {
        return out.push_str(segment);
    }
    for c in segment.chars() {
        match c {
            '~' => out.push_str("~0"),
            '/' => out.push_str("~1"),
            c => out.push(c),
        }
    }
}

fn unescape(raw: &str) -> Cow<'_, str> {
    if raw.contains('~') { Cow::Owned(raw.replace("~1", "/").replace("~0", "~")) } else { Cow::Borrowed(raw) }
}

/// An array index as RFC 6901 spells it: digits, no leading zero, no sign.
fn index(segment: &str) -> Option<usize> {
    let plain = !segment.is_empty() && segment.bytes().all(|b| b.is_ascii_digit());
    (plain && (segment == "0" || !segment.starts_with('0'))).then(|| segment.parse().ok()).flatten()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn agrees_with_serde_json_pointer() {
        let v = json!({
            "spec": {"kubelet": {"flags": ["--a", "--b"], "config": {"maxPods": 20}}},
            "a/b": {"c~d": 1}, "": {"": 2}, "01": 3, "list": [[0, 1], {"1": "x"}]
        });
        for p in [
            "",
            "/",
            "//",
            "/spec",
            "/spec/kubelet/flags",
            "/spec/kubelet/flags/1",
            "/spec/kubelet/flags/2",
            "/spec/kubelet/flags/01",
            "/spec/kubelet/flags/-1",
            "/spec/kubelet/flags/+1",
            "/spec/kubelet/config/maxPods",
            "/spec/kubelet/config/maxPods/x",
            "/a~1b/c~0d",
            "/a/b",
            "/a~1b/c~d",
            "/01",
            "/list/0/1",
            "/list/1/1",
            "/list/00",
            "spec",
            "/spec/",
            "/~2",
            "/list/18446744073709551616",
        ] {
            assert_eq!(v.at(p), v.pointer(p), "{p:?}");
        }
    }

    #[test]
    fn escapes_segments_both_ways() {
        for seg in ["plain", "a/b", "c~d", "~/~1/~0", "", "ü/ß"] {
            let mut p = String::from("/");
            push_escaped(&mut p, seg);
            let v = json!({ seg: 1 });
            assert_eq!(v.at(&p), Some(&json!(1)), "{seg:?} as {p:?}");
        }
    }
}
