//! The only YAML entry point. nodeadm decodes NodeConfig through `sigs.k8s.io/yaml`
//! (YAML 1.1 via yaml.v2): `yes`/`on`/`off` are booleans and only the first document of a part
//! is used (docs §1.3; rust-stack §1.2). serde-saphyr's default, non-strict booleans reproduce
//! that reading; its budgets bound alias expansion, nesting and node counts, so a YAML bomb is
//! an error, not an allocation. One pass over the parser's events (`yaml_walk`) records where
//! every value sits, so a JSON Pointer from the schema validator maps back to a line and column,
//! and reads the value itself when its reading is certain; serde-saphyr reads the rest.
//! `serde_yaml` is archived; swapping to `yaml_serde` would be a change to this file only.

use serde_json::Value;

pub use super::yaml_walk::{NodeSpan, SpanIndex, escape};

#[derive(Debug, Clone)]
pub struct YamlDoc {
    /// The first document (`null` when there is none). Shared: the parse memo hands out clones.
    pub value: std::sync::Arc<Value>,
    pub spans: SpanIndex,
    /// Byte offsets where further non-empty documents start: nodeadm ignores them.
    pub extra_documents: Vec<usize>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct YamlError {
    pub message: String,
    /// Byte offset of the problem in the text, when known.
    pub offset: Option<usize>,
}

fn options() -> serde_saphyr::Options {
    let mut opts = serde_saphyr::Options::default();
    // Lower than the library default: a NodeConfig has a few hundred nodes, not a million.
    opts.alias_limits.max_total_replayed_events = 100_000;
    opts.with_snippet = false;
    opts
}

thread_local! {
    static MEMO: std::cell::RefCell<crate::memo::Memo<String, Result<YamlDoc, YamlError>>> = Default::default();
}

/// Parses YAML (or JSON) the way nodeadm reads a NodeConfig part. Spans are found on first use.
pub fn parse(text: &str) -> Result<YamlDoc, YamlError> {
    crate::memo::get_or(&MEMO, text.to_string(), |t| parse_uncached(t, false))
}

/// [`parse`] for a reader that will ask where values sit (lint): the spans are found in the
/// same pass over the text as the value.
pub fn parse_indexed(text: &str) -> Result<YamlDoc, YamlError> {
    crate::memo::get_or(&MEMO, text.to_string(), |t| parse_uncached(t, true))
}

fn parse_uncached(text: &str, indexed: bool) -> Result<YamlDoc, YamlError> {
    let (walk, spans) = if indexed {
        super::yaml_walk::walk_indexed(text)
    } else {
        (super::yaml_walk::walk(text), SpanIndex::of(text))
    };
    if let Some(value) = walk.value {
        return Ok(YamlDoc { value: value.into(), spans, extra_documents: Vec::new() });
    }
    let docs = serde_saphyr_documents(text)?;
    let extra_documents =
        docs.iter().zip(walk.starts.iter()).skip(1).filter(|(v, _)| !v.is_null()).map(|(_, s)| *s).collect();
    Ok(YamlDoc { value: docs.into_iter().next().unwrap_or(Value::Null).into(), spans, extra_documents })
}

/// Every document as serde-saphyr reads it: the judge for whatever the one-pass reading of
/// `yaml_walk` is not certain of.
fn serde_saphyr_documents(text: &str) -> Result<Vec<Value>, YamlError> {
    serde_saphyr::from_multiple_with_options(text, options()).map_err(|e| {
        let offset = e.location().and_then(|l| l.span().byte_offset()).map(|o| o as usize);
        let rendered = e.without_snippet().to_string();
        let message = strip_location_prefix(rendered.lines().next().unwrap_or_default());
        YamlError { message, offset: offset.or_else(|| e.location().map(|l| offset_of(text, l.line(), l.column()))) }
    })
}

/// serde-saphyr's message without the position (findings carry their own) or advice aimed at
/// programmers using the library.
fn strip_location_prefix(s: &str) -> String {
    let mut s = s.strip_prefix("error: ").unwrap_or(s);
    if s.starts_with("line ")
        && let Some((_, rest)) = s.split_once(": ")
    {
        s = rest;
    }
    if let Some((head, _)) = s.split_once(" at line ") {
        s = head;
    }
    if s.starts_with("alias replay limit exceeded") {
        return "aliases expand to more than 100000 nodes (a YAML alias bomb); refused".into();
    }
    if s.starts_with("recursion limit exceeded") {
        return "nesting is deeper than 64 levels; refused".into();
    }
    let s = s.replace(", set DuplicateKeyPolicy in Options if acceptable", "");
    match s.strip_prefix("duplicate mapping key: ") {
        Some(key) => format!("duplicate key `{key}` (YAML forbids it; parsers disagree on which value wins)"),
        None => s,
    }
}

fn offset_of(text: &str, line: u64, column: u64) -> usize {
    let mut off = 0;
    for (i, l) in text.split_inclusive('\n').enumerate() {
        if i as u64 + 1 == line {
            return off + l.char_indices().nth(column.saturating_sub(1) as usize).map_or(l.len(), |(b, _)| b);
        }
        off += l.len();
    }
    text.len()
}

/// Deserialises a typed value with the same options (YAML 1.1 booleans, budgets) as [`parse`].
pub fn from_str<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, YamlError> {
    serde_saphyr::from_str_with_options(text, options()).map_err(|e| YamlError {
        message: strip_location_prefix(e.without_snippet().to_string().lines().next().unwrap_or_default()),
        offset: e.location().and_then(|l| l.span().byte_offset()).map(|o| o as usize),
    })
}

/// Serialises to YAML that reads the same under YAML 1.1 (nodeadm, cloud-init) and 1.2:
/// serde-saphyr quotes `yes`/`on`/`0755`-like strings.
pub fn to_string<T: serde::Serialize>(value: &T) -> Result<String, serde_saphyr::SerializeError> {
    serde_saphyr::to_string(value)
}

#[cfg(test)]
#[allow(clippy::string_slice)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn long_base64_survives_the_writer() {
        // A real cluster CA is ~1.4 KB of base64; the writer may choose a folded scalar, which
        // must not insert spaces (Go's base64 rejects them).
        let ca: String = "LS0tLS1CRUdJTi".repeat(100);
        let text = to_string(&json!({"cluster": {"certificateAuthority": ca}})).unwrap();
        assert_eq!(*parse(&text).unwrap().value, json!({"cluster": {"certificateAuthority": ca}}), "{text}");
    }

    #[test]
    fn reads_yaml_11_booleans_like_nodeadm() {
        let d = parse("a: yes\nb: on\nc: 'yes'\nd: 110\n").unwrap();
        assert_eq!(*d.value, json!({"a": true, "b": true, "c": "yes", "d": 110}));
    }

    #[test]
    fn indexes_pointers_to_spans() {
        let text = "apiVersion: v\nspec:\n  kubelet:\n    flags:\n      - --a=b\n      - --c\n  cluster: {name: x}\n";
        let d = parse(text).unwrap();
        let (p, s) = d.spans.lookup("/spec/kubelet/flags/1").unwrap();
        assert_eq!(p, "/spec/kubelet/flags/1");
        assert_eq!(&text[s.value.0..s.value.1], "--c");
        let (_, s) = d.spans.lookup("/spec/cluster/name").unwrap();
        assert_eq!(&text[s.key.unwrap().0..s.key.unwrap().1], "name");
        let (p, _) = d.spans.lookup("/spec/cluster/nope/deeper").unwrap();
        assert_eq!(p, "/spec/cluster");
        let (_, s) = d.spans.lookup("/spec").unwrap();
        assert_eq!(&text[s.key.unwrap().0..s.key.unwrap().1], "spec");
    }

    #[test]
    fn counts_extra_documents_and_reports_errors() {
        let d = parse("---\na: 1\n---\nb: 2\n").unwrap();
        assert_eq!(*d.value, json!({"a": 1}));
        assert_eq!(d.extra_documents, vec![9]);
        assert!(parse("---\na: 1\n---\n").unwrap().extra_documents.is_empty());
        let e = parse("a: [1, 2\nb: 3\n").unwrap_err();
        assert!(e.offset.is_some(), "{e:?}");
        assert!(!e.message.starts_with("error:"), "{}", e.message);
        let dup = parse("a: 1\na: 2\n").unwrap_err();
        assert!(dup.message.contains("duplicate"), "{}", dup.message);
    }

    #[test]
    fn bombs_and_deep_nesting_are_errors() {
        let mut bomb = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 0..9 {
            let prev = if i == 0 { "a".to_string() } else { format!("b{}", i - 1) };
            bomb.push_str(&format!("b{i}: &b{i} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]\n"));
        }
        assert!(parse(&bomb).is_err());
        let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
        assert!(parse(&deep).is_err());
        let deep_block: String = (0..2_000).map(|i| format!("{}k:\n", " ".repeat(i))).collect();
        assert!(parse(&deep_block).is_err());
    }

    #[test]
    fn serialises_ambiguous_strings_quoted() {
        let out = to_string(&json!({"a": "yes", "b": "on", "c": "x"})).unwrap();
        assert!(out.contains("a: \"yes\"") || out.contains("a: 'yes'"), "{out}");
    }
}
