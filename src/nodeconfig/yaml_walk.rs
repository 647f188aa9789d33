//! One pass over granit-parser's events for a NodeConfig text (the parser serde-saphyr reads
//! with, `yaml.rs`): where each value sits, by JSON Pointer, and, when the YAML 1.1 reading of
//! every node is certain, the first document's value too, so a common NodeConfig is read once
//! rather than twice. "Certain" is deliberately narrow: plain scalars that can only be strings
//! (they hold a character no number, boolean or null spelling has), plain decimal integers,
//! quoted and block scalars, and mappings with distinct keys of that kind. Anything else
//! (anchors, aliases, tags, merge keys, floats, octal or hex, null and boolean spellings, a
//! second document, a `%YAML` directive, deep nesting, a parse error) leaves the value to
//! serde-saphyr, which stays the judge; the tests hold both readings equal over the fixtures, the
//! corpus and generated documents.

use serde_json::{Map, Value};
use serde_saphyr::granit_parser::{Event, Parser, ScalarStyle};
use std::sync::{Arc, OnceLock};

/// Spans by pointer. foldhash rather than SipHash: the index is built for every linted document
/// and hashing was a twentieth of lint's time; still seeded per process, so keys chosen to
/// collide cannot make a lookup slow, and never iterated, so output order does not depend on it.
type HashMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;

/// Where a value (and the key naming it) sits in the YAML text, as byte offsets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NodeSpan {
    pub key: Option<(usize, usize)>,
    pub value: (usize, usize),
}

/// Spans by JSON Pointer, found on first use: most readings (`render`, the equivalence check)
/// never ask, and a clone (the parse memo hands out clones) shares the one index.
#[derive(Debug, Clone, Default)]
pub struct SpanIndex {
    text: Arc<str>,
    map: Arc<OnceLock<HashMap<String, NodeSpan>>>,
}

impl SpanIndex {
    pub fn of(text: &str) -> SpanIndex {
        SpanIndex { text: text.into(), map: Arc::default() }
    }

    /// The span for a JSON Pointer, or for its nearest ancestor that has one.
    pub fn lookup<'p>(&self, pointer: &'p str) -> Option<(&'p str, NodeSpan)> {
        let mut p = pointer;
        loop {
            if let Some(s) = self.map.get_or_init(|| index(&self.text)).get(p) {
                return Some((p, *s));
            }
            if p.is_empty() {
                return None;
            }
            p = p.rsplit_once('/').map_or("", |(parent, _)| parent);
        }
    }
}

/// JSON Pointer escaping (RFC 6901).
pub fn escape(segment: &str) -> String {
    let mut out = String::with_capacity(segment.len());
    super::pointer::push_escaped(&mut out, segment);
    out
}

/// Deeper nesting or more nodes than a NodeConfig has are left to serde-saphyr's budgets.
const MAX_DEPTH: usize = 32;
const MAX_NODES: usize = 20_000;

enum Build {
    /// A mapping and the key whose value comes next.
    Map(Map<String, Value>, Option<String>),
    Seq(Vec<Value>),
}

#[derive(Default)]
struct Builder {
    stack: Vec<Build>,
    root: Option<Value>,
    uncertain: bool,
    nodes: usize,
}

impl Builder {
    fn give_up(&mut self) {
        self.uncertain = true;
        self.stack.clear();
        self.root = None;
    }

    fn event(&mut self, event: &Event<'_>, docs: usize) {
        if self.uncertain {
            return;
        }
        match event {
            Event::DocumentStart(_, version) if docs > 0 || version.is_some() => self.give_up(),
            Event::Scalar(text, style, anchor, tag) if *anchor == 0 && tag.is_none() => self.scalar(text, *style),
            Event::MappingStart(_, anchor, tag) if *anchor == 0 && tag.is_none() => {
                self.open(Build::Map(Map::new(), None))
            }
            Event::SequenceStart(_, anchor, tag) if *anchor == 0 && tag.is_none() => self.open(Build::Seq(Vec::new())),
            Event::MappingEnd | Event::SequenceEnd => self.close(),
            Event::StreamStart | Event::StreamEnd | Event::DocumentStart(..) | Event::DocumentEnd => {}
            _ => self.give_up(),
        }
    }

    fn in_key_position(&self) -> bool {
        matches!(self.stack.last(), Some(Build::Map(_, None)))
    }

    fn open(&mut self, b: Build) {
        // A collection as a mapping key is not a JSON key.
        if self.in_key_position() || self.stack.len() >= MAX_DEPTH {
            return self.give_up();
        }
        self.stack.push(b);
    }

    fn close(&mut self) {
        match self.stack.pop() {
            Some(Build::Map(m, None)) => self.put(Value::Object(m)),
            Some(Build::Seq(items)) => self.put(Value::Array(items)),
            _ => self.give_up(),
        }
    }

    fn scalar(&mut self, text: &str, style: ScalarStyle) {
        if let Some(Build::Map(m, key @ None)) = self.stack.last_mut() {
            match typed(text, style) {
                Some(Value::String(k)) if k != "<<" && !m.contains_key(&k) => *key = Some(k),
                _ => self.give_up(),
            }
            return;
        }
        match typed(text, style) {
            Some(v) => self.put(v),
            None => self.give_up(),
        }
    }

    fn put(&mut self, v: Value) {
        self.nodes += 1;
        if self.nodes > MAX_NODES {
            return self.give_up();
        }
        match self.stack.last_mut() {
            None if self.root.is_none() => self.root = Some(v),
            Some(Build::Seq(items)) => items.push(v),
            Some(Build::Map(m, key)) => match key.take() {
                Some(k) => {
                    m.insert(k, v);
                }
                None => self.give_up(),
            },
            None => self.give_up(),
        }
    }

    fn finish(self) -> Option<Value> {
        if self.uncertain || !self.stack.is_empty() { None } else { self.root }
    }
}

/// A scalar's value when its reading is certain: quoted and block scalars are strings; a plain
/// one is a decimal integer, a YAML 1.1 boolean, null, or a string only when nothing else could
/// read it.
fn typed(text: &str, style: ScalarStyle) -> Option<Value> {
    if style != ScalarStyle::Plain {
        return Some(Value::String(text.to_owned()));
    }
    if let Some(n) = decimal(text) {
        return Some(n);
    }
    // serde-saphyr's non-strict booleans are YAML 1.1's, in any letter case; null is its
    // four spellings and nothing.
    if ["", "~", "null", "Null", "NULL"].contains(&text) {
        return Some(Value::Null);
    }
    if ["true", "yes", "y", "on"].iter().any(|w| text.eq_ignore_ascii_case(w)) {
        return Some(Value::Bool(true));
    }
    if ["false", "no", "n", "off"].iter().any(|w| text.eq_ignore_ascii_case(w)) {
        return Some(Value::Bool(false));
    }
    if only_a_string(text) {
        return Some(Value::String(text.to_owned()));
    }
    number_shaped(text)
}

/// A plain scalar shaped like a number (`10.100.0.10`, `0-1`, `1.5`, `0x1F`): serde-saphyr types
/// it on its own, the way it would in place (a plain scalar's type depends only on its text).
/// Only texts that read as one scalar when alone are asked: a sign, digit or dot then a digit,
/// and no trailing `:`.
fn number_shaped(t: &str) -> Option<Value> {
    let b = t.as_bytes();
    let unsigned = t.strip_prefix(['+', '-']).unwrap_or(t);
    let unsigned = unsigned.strip_prefix('.').unwrap_or(unsigned);
    if !unsigned.bytes().next().is_some_and(|c| c.is_ascii_digit()) || t.ends_with(':') || b.len() > 64 {
        return None;
    }
    if !t.bytes().all(|c| NUMBER_CHARS.contains(&c)) {
        return None;
    }
    match serde_saphyr::from_str::<Value>(t).ok()? {
        v @ (Value::String(_) | Value::Number(_) | Value::Bool(_) | Value::Null) => Some(v),
        _ => None,
    }
}

/// `58`, `-3`: decimal integers with no leading zero, short enough for any integer type.
fn decimal(t: &str) -> Option<Value> {
    let (negative, digits) = match t.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, t),
    };
    if digits.is_empty() || digits.len() > 18 || (digits.len() > 1 && digits.starts_with('0')) {
        return None;
    }
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n: i64 = digits.parse().ok()?;
    Some(if negative { Value::from(-n) } else { Value::from(n) })
}

/// Characters a YAML 1.1 or 1.2 number (hex, octal, binary, float, exponent, sexagesimal) can
/// be spelled with; a plain scalar made only of these might be one.
const NUMBER_CHARS: &[u8] = b"0123456789abcdefABCDEFxXoObB_.+-eE:";

/// Words serde-saphyr (YAML 1.1 booleans, null) or a float parser might read as a non-string.
const WORDS: &[&str] = &["~", "null", "true", "false", "yes", "no", "y", "n", "on", "off", "nan", "inf", "infinity"];

fn only_a_string(t: &str) -> bool {
    if t.is_empty() || t.len() != t.trim_matches([' ', '\t', '\r', '\n']).len() {
        return false;
    }
    let bare = t.trim_start_matches(['+', '-', '.']);
    if WORDS.iter().any(|w| bare.eq_ignore_ascii_case(w) || t.eq_ignore_ascii_case(w)) {
        return false;
    }
    t.bytes().any(|b| !NUMBER_CHARS.contains(&b))
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

/// What one pass over the events found.
pub struct Walk {
    /// Byte offsets where documents start.
    pub starts: Vec<usize>,
    /// The first document's value, when this pass is certain of it (see the module comment).
    pub value: Option<Value>,
}

/// Reads the documents' start offsets, and the first document's value while certain.
pub fn walk(text: &str) -> Walk {
    walk_with(text, None)
}

/// [`walk`], and the span index built in the same pass (lint asks for spans on nearly every
/// document; building them lazily would parse the text a second time).
pub fn walk_indexed(text: &str) -> (Walk, SpanIndex) {
    let mut indexer = Indexer::default();
    let walk = walk_with(text, Some(&mut indexer));
    let map = OnceLock::new();
    let _ = map.set(indexer.idx);
    (walk, SpanIndex { text: text.into(), map: Arc::new(map) })
}

fn walk_with(text: &str, mut indexer: Option<&mut Indexer>) -> Walk {
    let mut starts = Vec::new();
    let mut value = Builder::default();
    for ev in Parser::new_from_str(text) {
        let Ok((event, span)) = ev else {
            value.give_up();
            break;
        };
        if let Some(ix) = indexer.as_deref_mut() {
            ix.event(&event, &span);
        }
        value.event(&event, starts.len());
        if let Event::DocumentStart(..) = event {
            starts.push(span.start.byte_offset().unwrap_or(0));
        }
    }
    let value = if starts.len() == 1 { value.finish() } else { None };
    Walk { starts, value }
}

/// Walks the first document's events, recording where each value and its key sit.
fn index(text: &str) -> HashMap<String, NodeSpan> {
    let mut indexer = Indexer::default();
    for ev in Parser::new_from_str(text) {
        let Ok((event, span)) = ev else { break };
        indexer.event(&event, &span);
    }
    indexer.idx
}

/// The span index built one event at a time, so that `walk_indexed` can build it in the same
/// pass as the value.
#[derive(Default)]
struct Indexer {
    idx: HashMap<String, NodeSpan>,
    stack: Vec<Frame>,
    docs: usize,
}

impl Indexer {
    fn event(&mut self, event: &Event<'_>, span: &serde_saphyr::granit_parser::Span) {
        let byte = |m: &serde_saphyr::granit_parser::Marker| m.byte_offset().unwrap_or(0);
        let (s, e) = (byte(&span.start), byte(&span.end));
        let (idx, stack) = (&mut self.idx, &mut self.stack);
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
            return;
        }
        match event {
            Event::DocumentStart(..) => self.docs += 1,
            Event::Scalar(..) | Event::Alias(..) | Event::MappingStart(..) | Event::SequenceStart(..)
                if self.docs <= 1 =>
            {
                let opens = matches!(event, Event::MappingStart(..) | Event::SequenceStart(..));
                // Key position in a mapping?
                if let Some(Frame::Map { key, .. }) = stack.last_mut()
                    && key.is_none()
                {
                    match event {
                        Event::Scalar(v, ..) => *key = Some((v.to_string(), (s, e))),
                        Event::Alias(..) => *key = Some(("*".into(), (s, e))),
                        _ => stack.push(Frame::Skip { depth: 1 }),
                    }
                    return;
                }
                let (pointer, key_span) = match stack.last_mut() {
                    None => (String::new(), None),
                    Some(Frame::Map { pointer, key, .. }) => {
                        let (k, ks) = key.as_ref().map_or(("", (0, 0)), |(k, ks)| (k.as_str(), *ks));
                        let mut p = String::with_capacity(pointer.len() + k.len() + 1);
                        p.push_str(pointer);
                        p.push('/');
                        super::pointer::push_escaped(&mut p, k);
                        (p, Some(ks))
                    }
                    Some(Frame::Seq { pointer, next, .. }) => (format!("{pointer}/{next}"), None),
                    Some(Frame::Skip { .. }) => return,
                };
                if opens {
                    stack.push(if matches!(event, Event::MappingStart(..)) {
                        Frame::Map { pointer: pointer.clone(), start: s, key: None }
                    } else {
                        Frame::Seq { pointer: pointer.clone(), start: s, next: 0 }
                    });
                    idx.insert(pointer, NodeSpan { key: key_span, value: (s, s) });
                } else {
                    idx.insert(pointer, NodeSpan { key: key_span, value: (s, e) });
                    advance(stack);
                }
            }
            Event::MappingEnd | Event::SequenceEnd if self.docs <= 1 => {
                if let Some(Frame::Map { pointer, start, .. } | Frame::Seq { pointer, start, .. }) = stack.pop()
                    && let Some(n) = idx.get_mut(&pointer)
                {
                    n.value = (start, e.max(start));
                }
                advance(stack);
            }
            _ => {}
        }
    }
}

fn advance(stack: &mut [Frame]) {
    match stack.last_mut() {
        Some(Frame::Map { key, .. }) => *key = None,
        Some(Frame::Seq { next, .. }) => *next += 1,
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    /// serde-saphyr's first document, read as `yaml.rs` reads it when the walk gives up.
    fn judge(text: &str) -> Option<Value> {
        let mut opts = serde_saphyr::Options::default();
        opts.alias_limits.max_total_replayed_events = 100_000;
        let docs: Vec<Value> = serde_saphyr::from_multiple_with_options(text, opts).ok()?;
        (docs.len() == 1).then(|| docs.into_iter().next()).flatten()
    }

    /// The walk's value, when it has one, is serde-saphyr's; returns whether it had one.
    fn agrees(text: &str) -> bool {
        let Some(v) = walk(text).value else { return false };
        assert_eq!(Some(&v), judge(text).as_ref(), "the walk and serde-saphyr read differently:\n{text}");
        true
    }

    const SCALARS: &[&str] = &[
        "58",
        "0",
        "-0",
        "-3",
        "007",
        "0x1F",
        "0o17",
        "1_000",
        "1e3",
        "1.5",
        ".5",
        "-.inf",
        ".NaN",
        "inf",
        "Infinity",
        "nan",
        "+12",
        "1:30",
        "190:20:30",
        "2001-12-14",
        "yes",
        "No",
        "ON",
        "off",
        "y",
        "n",
        "Y",
        "true",
        "False",
        "null",
        "Null",
        "NULL",
        "NuLL",
        "~",
        "250m",
        "1Gi",
        "10%",
        "172.20.0.0/16",
        "10.100.0.10",
        "cluster-1",
        "memory.available<500Mi",
        "--max-pods=58",
        "a b",
        "<<",
        "deadbeef",
        "abc",
        "e",
        "x",
        "ab:cd",
        "é",
        "0b101",
        "999999999999999999",
        "9999999999999999999",
        "-9223372036854775808",
        "static",
        "none",
        "None",
        "true1",
        "https://x.eks.amazonaws.com",
        "key=value:NoSchedule",
        "#notacomment",
        "1e999",
        "0.",
        "+",
        "-",
        ".",
    ];

    fn styled(s: &str, style: usize) -> String {
        match style {
            0 => s.to_string(),
            1 => format!("'{}'", s.replace('\'', "''")),
            2 => format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\"")),
            _ => s.to_string(),
        }
    }

    #[test]
    fn certain_readings_agree_with_serde_saphyr_scalar_by_scalar() {
        let mut certain = 0;
        // (`a`, `b`, `c` alone could be hex digits: a key must be certainly a string.)
        let text = "ka: yes\nkb: Off\nkc:\nkd: ~\n";
        assert_eq!(walk(text).value, Some(serde_json::json!({"ka": true, "kb": false, "kc": null, "kd": null})));
        assert!(agrees(text));
        for s in SCALARS {
            for style in 0..3 {
                let v = styled(s, style);
                // A plain scalar that YAML cannot hold as written is not a test of typing.
                for text in [format!("a: {v}\n"), format!("{v}: a\n"), format!("- {v}\n"), format!("k: [{v}]\n")] {
                    if judge(&text).is_some() {
                        certain += usize::from(agrees(&text));
                    }
                }
            }
            let block = format!("a: |\n  {s}\nb: >-\n  {s}\n");
            certain += usize::from(agrees(&block));
        }
        assert!(certain > 200, "the walk should be certain of most of these ({certain})");
        for uncertain in [
            "ka: &x 1\nkb: *x\n",
            "ka: !!str 1\n",
            "<<: {ka: 1}\n",
            "ka: 1\nka: 2\n",
            "ka: {? [x] : y}\n",
            "1: x\n",
            "a: x\n",
        ] {
            assert!(walk(uncertain).value.is_none(), "{uncertain}");
        }
        for docs in ["---\na: 1\n---\nb: 2\n", "", "# only a comment\n", "%YAML 1.2\n---\na: b\n", "[a, b"] {
            assert!(walk(docs).value.is_none(), "{docs:?}");
        }
        // An empty document is null however it is read.
        assert_eq!(walk("---\n").value, Some(Value::Null));
        assert_eq!(
            serde_saphyr::from_multiple::<Value>("---\n").ok().and_then(|d| d.into_iter().next()).unwrap_or_default(),
            Value::Null
        );
    }

    struct Rng(u64);
    impl Rng {
        fn below(&mut self, n: usize) -> usize {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            (self.0 % n as u64) as usize
        }
    }

    fn node(rng: &mut Rng, indent: usize, depth: usize, out: &mut String) {
        let pad = " ".repeat(indent);
        match if depth > 3 { 2 } else { rng.below(4) } {
            0 => {
                for i in 0..1 + rng.below(4) {
                    let key = if rng.below(8) == 0 {
                        styled(SCALARS[rng.below(SCALARS.len())], rng.below(3))
                    } else {
                        format!("k{i}")
                    };
                    out.push_str(&format!("{pad}{key}:\n"));
                    node(rng, indent + 2, depth + 1, out);
                }
            }
            1 => {
                for _ in 0..1 + rng.below(3) {
                    out.push_str(&format!("{pad}-\n"));
                    node(rng, indent + 2, depth + 1, out);
                }
            }
            2 => {
                let s = styled(SCALARS[rng.below(SCALARS.len())], rng.below(3));
                out.push_str(&format!("{pad}{s}\n"));
            }
            _ => {
                let items: Vec<String> =
                    (0..rng.below(4)).map(|_| styled(SCALARS[rng.below(SCALARS.len())], 1 + rng.below(2))).collect();
                out.push_str(&format!("{pad}[{}]\n", items.join(", ")));
            }
        }
    }

    #[test]
    fn certain_readings_agree_with_serde_saphyr_on_generated_documents() {
        let mut rng = Rng(0x5EED_CAFE);
        let (mut read, mut certain) = (0, 0);
        for _ in 0..10_000 {
            let mut text = String::new();
            node(&mut rng, 0, 0, &mut text);
            if judge(&text).is_some() {
                read += 1;
                certain += usize::from(agrees(&text));
            }
        }
        assert!(read > 5_000 && certain > 1_000, "{read} read, {certain} certain");
    }

    fn files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
        let Ok(rd) = std::fs::read_dir(dir) else { return };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                files(&p, out);
            } else {
                out.push(p);
            }
        }
    }

    #[test]
    fn certain_readings_agree_with_serde_saphyr_on_every_fixture_and_corpus_nodeconfig() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut all = Vec::new();
        for d in ["fixtures", "examples", "tests", "../shared/corpus", "../shared/reference"] {
            files(&root.join(d), &mut all);
        }
        let (mut texts, mut certain) = (0, 0);
        for f in all {
            let Ok(bytes) = std::fs::read(&f) else { continue };
            let env = crate::userdata::Envelope::parse(&bytes, &crate::userdata::Limits::default());
            let mut bodies: Vec<String> =
                env.nodeconfig_parts().filter_map(|p| std::str::from_utf8(&p.body).ok().map(str::to_string)).collect();
            if f.extension().is_some_and(|e| e == "yaml" || e == "yml") {
                bodies.extend(String::from_utf8(bytes).ok());
            }
            for b in bodies {
                texts += 1;
                // The index built in the value's pass is the one built on its own.
                let (_, spans) = walk_indexed(&b);
                assert_eq!(spans.map.get(), Some(&index(&b)), "{}", f.display());
                if judge(&b).is_some() {
                    certain += usize::from(agrees(&b));
                }
            }
        }
        assert!(texts > 50 && certain > 25, "{texts} texts, {certain} certain");
    }
}
