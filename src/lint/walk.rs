//! Every leaf of a decoded document with its JSON Pointer (RFC 6901: `~` → `~0`, `/` → `~1`),
//! the key the YAML span index is looked up by.

use serde_json::Value;
use std::fmt::Write as _;

/// Leaves (scalars) under `v`, in document order, with pointers prefixed by `prefix`.
pub fn leaves<'v>(v: &'v Value, prefix: &str) -> Vec<(String, &'v Value)> {
    fn go<'v>(v: &'v Value, pointer: &mut String, out: &mut Vec<(String, &'v Value)>) {
        match v {
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    let len = pointer.len();
                    let _ = write!(pointer, "/{i}");
                    go(item, pointer, out);
                    pointer.truncate(len);
                }
            }
            Value::Object(map) => {
                for (k, item) in map {
                    let len = pointer.len();
                    pointer.push('/');
                    crate::nodeconfig::pointer::push_escaped(pointer, k);
                    go(item, pointer, out);
                    pointer.truncate(len);
                }
            }
            leaf => out.push((pointer.clone(), leaf)),
        }
    }
    let mut out = Vec::new();
    go(v, &mut prefix.to_owned(), &mut out);
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn pointers_escape_keys() {
        let v = serde_json::json!({"a": [1, {"b/c": true}], "d~": "x"});
        let got: Vec<String> = super::leaves(&v, "").into_iter().map(|(p, _)| p).collect();
        assert_eq!(got, ["/a/0", "/a/1/b~1c", "/d~0"]);
    }
}
