//! The only YAML entry point. nodeadm decodes NodeConfig through `sigs.k8s.io/yaml`
//! (YAML 1.1 via yaml.v2): `yes`/`on`/`off` are booleans and only the first document of a part
//! is used (docs §1.3; rust-stack §1.2). serde-saphyr's default, non-strict booleans reproduce
//! that reading; its budgets bound alias expansion, nesting and node counts, so a YAML bomb is
//! an error, not an allocation. A second pass over the parser's events records where every
//! value sits, so a JSON Pointer from the schema validator maps back to a line and column.
//! `serde_yaml` is archived; swapping to `yaml_serde` would be a change to this file only.

use serde_json::Value;
use serde_saphyr::granit_parser::{Event, Parser};
use std::collections::HashMap;

/// Where a value (and the key naming it) sits in the YAML text, as byte offsets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NodeSpan {
    pub key: Option<(usize, usize)>,
    pub value: (usize, usize),
}

#[derive(Debug, Clone, Default)]
pub struct SpanIndex {
    map: HashMap<String, NodeSpan>,
}

impl SpanIndex {
    /// The span for a JSON Pointer, or for its nearest ancestor that has one.
    pub fn lookup<'p>(&self, pointer: &'p str) -> Option<(&'p str, NodeSpan)> {
        let mut p = pointer;
        loop {
            if let Some(s) = self.map.get(p) {
                return Some((p, *s));
            }
            if p.is_empty() {
                return None;
            }
            p = &p[..p.rfind('/').unwrap_or(0)];
        }
    }
}

#[derive(Debug, Clone)]
pub struct YamlDoc {
    /// The first document (`null` when there is none).
    pub value: Value,
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

/// Parses YAML (or JSON) the way nodeadm reads a NodeConfig part.
pub fn parse(text: &str) -> Result<YamlDoc, YamlError> {
    thread_local! {
        static MEMO: std::cell::RefCell<crate::memo::Memo<String, Result<YamlDoc, YamlError>>> = Default::default();
    }
    crate::memo::get_or(&MEMO, text.to_string(), |t| parse_uncached(t))
}

fn parse_uncached(text: &str) -> Result<YamlDoc, YamlError> {
    let docs: Vec<Value> = serde_saphyr::from_multiple_with_options(text, options()).map_err(|e| {
        let offset = e.location().and_then(|l| l.span().byte_offset()).map(|o| o as usize);
        let rendered = e.without_snippet().to_string();
        let message = strip_location_prefix(rendered.lines().next().unwrap_or_default());
        YamlError { message, offset: offset.or_else(|| e.location().map(|l| offset_of(text, l.line(), l.column()))) }
    })?;
    let (spans, starts) = index(text);
    let extra_documents =
        docs.iter().zip(starts.iter()).skip(1).filter(|(v, _)| !v.is_null()).map(|(_, s)| *s).collect();
    Ok(YamlDoc { value: docs.into_iter().next().unwrap_or(Value::Null), spans, extra_documents })
}

/// serde-saphyr's message without the position (findings carry their own) or advice aimed at
/// programmers using the library.
fn strip_location_prefix(s: &str) -> String {
    let mut s = s.strip_prefix("error: ").unwrap_or(s);
    if s.starts_with("line ")
        && let Some(i) = s.find(": ")
    {
        s = &s[i + 2..];
    }
    if let Some(i) = s.find(" at line ") {
        s = &s[..i];
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

/// JSON Pointer escaping (RFC 6901).
pub fn escape(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

enum Frame {
    Map {
        pointer: String,
        start: usize,
        key: Option<(String, (usize, usize))>,
    },
    Seq {
        pointer: String,
        start: usize,
        next: usize,
    },
    /// A complex (non-scalar) mapping key: skipped.
    Skip {
        depth: usize,
    },
}

/// Walks the first document's events, recording spans; returns document start offsets too.
fn index(text: &str) -> (SpanIndex, Vec<usize>) {
    let mut idx = SpanIndex::default();
    let mut starts = Vec::new();
    let mut stack: Vec<Frame> = Vec::new();
    let mut docs = 0;
    let byte = |m: &serde_saphyr::granit_parser::Marker| m.byte_offset().unwrap_or(0);
    for ev in Parser::new_from_str(text) {
        let Ok((event, span)) = ev else { break };
        let (s, e) = (byte(&span.start), byte(&span.end));
        if let Some(Frame::Skip { depth }) = stack.last_mut() {
            match event {
                Event::MappingStart(..) | Event::SequenceStart(..) => *depth += 1,
                Event::MappingEnd | Event::SequenceEnd => {
                    *depth -= 1;
                    if *depth == 0 {
                        stack.pop();
                        if let Some(Frame::Map { key, .. }) = stack.last_mut() {
                            *key = Some(("?".into(), (s, e)));
                        }
                    }
                }
                _ => {}
            }
            continue;
        }
        match event {
            Event::DocumentStart(..) => {
                docs += 1;
                starts.push(s);
            }
            Event::Scalar(..) | Event::Alias(..) | Event::MappingStart(..) | Event::SequenceStart(..) if docs <= 1 => {
                let opens = matches!(event, Event::MappingStart(..) | Event::SequenceStart(..));
                // Key position in a mapping?
                if let Some(Frame::Map { key, .. }) = stack.last_mut()
                    && key.is_none()
                {
                    match &event {
                        Event::Scalar(v, ..) => *key = Some((v.to_string(), (s, e))),
                        Event::Alias(..) => *key = Some(("*".into(), (s, e))),
                        _ => stack.push(Frame::Skip { depth: 1 }),
                    }
                    continue;
                }
                let (pointer, key_span) = match stack.last_mut() {
                    None => (String::new(), None),
                    Some(Frame::Map { pointer, key, .. }) => {
                        let (k, ks) = key.clone().unwrap_or_default();
                        (format!("{pointer}/{}", escape(&k)), Some(ks))
                    }
                    Some(Frame::Seq { pointer, next, .. }) => (format!("{pointer}/{next}"), None),
                    Some(Frame::Skip { .. }) => continue,
                };
                if opens {
                    stack.push(if matches!(event, Event::MappingStart(..)) {
                        Frame::Map { pointer: pointer.clone(), start: s, key: None }
                    } else {
                        Frame::Seq { pointer: pointer.clone(), start: s, next: 0 }
                    });
                    idx.map.insert(pointer, NodeSpan { key: key_span, value: (s, s) });
                } else {
                    idx.map.insert(pointer, NodeSpan { key: key_span, value: (s, e) });
                    advance(&mut stack);
                }
            }
            Event::MappingEnd | Event::SequenceEnd if docs <= 1 => {
                if let Some(Frame::Map { pointer, start, .. } | Frame::Seq { pointer, start, .. }) = stack.pop()
                    && let Some(n) = idx.map.get_mut(&pointer)
                {
                    n.value = (start, e.max(start));
                }
                advance(&mut stack);
            }
            _ => {}
        }
    }
    (idx, starts)
}

fn advance(stack: &mut [Frame]) {
    match stack.last_mut() {
        Some(Frame::Map { key, .. }) => *key = None,
        Some(Frame::Seq { next, .. }) => *next += 1,
        _ => {}
    }
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
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn long_base64_survives_the_writer() {
        // A real cluster CA is ~1.4 KB of base64; the writer may choose a folded scalar, which
        // must not insert spaces (Go's base64 rejects them).
        let ca: String = "LS0tLS1CRUdJTi".repeat(100);
        let text = to_string(&json!({"cluster": {"certificateAuthority": ca}})).unwrap();
        assert_eq!(parse(&text).unwrap().value, json!({"cluster": {"certificateAuthority": ca}}), "{text}");
    }

    #[test]
    fn reads_yaml_11_booleans_like_nodeadm() {
        let d = parse("a: yes\nb: on\nc: 'yes'\nd: 110\n").unwrap();
        assert_eq!(d.value, json!({"a": true, "b": true, "c": "yes", "d": 110}));
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
        assert_eq!(d.value, json!({"a": 1}));
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
