//! NC210: kubelet flags deprecated in favour of the config file (docs §6.1); a flag overrides
//! the config, a map flag replaces nodeadm's whole map (docs §6.3).
//!
//! The fix moves a flag into `kubelet.config` only where the move keeps the meaning: the flag
//! is a scalar or list setting (a map flag replaces nodeadm's map, config merges into it; lists
//! replace either way), no
//! NodeConfig already sets that key (the flag would have overridden it; after the move, merge
//! order would decide), and the YAML is block style, so lines can be moved without re-emitting
//! the user's document.

use crate::nodeconfig::pointer::Pointer as _;
use indexmap::IndexMap;
use serde_json::Value;

use crate::al2::kubelet_flags::{self, Outcome};
use crate::diagnostic::RuleMeta;
use crate::diagnostic::{Diagnostic, Edit, Severity, Span};
use crate::lint::{Context, Doc};
use crate::nodeconfig::yaml::{NodeSpan, escape};

pub const META: RuleMeta = RuleMeta {
    code: "NC210",
    name: "kubelet-flag-not-config",
    severity: Severity::Warning,
    summary: "a kubelet flag in kubelet.flags that belongs in kubelet.config",
    explanation: "Most kubelet flags are deprecated in favour of the config file (docs §6.1), and \
a flag overrides the config: a map flag such as `--kube-reserved` replaces nodeadm's whole map \
instead of merging with it (docs §6.3). In `spec.kubelet.flags` it also bypasses the strict \
kubelet schema. `--node-labels` and the few flags without a config field stay flags.\n\nFix: move \
it to `spec.kubelet.config` under the key the finding names (`eks-userdata convert` does this). \
`lint --fix` moves scalar and list flags when no NodeConfig sets the key already; map flags stay \
for you to decide, because in config they merge with nodeadm's values instead of replacing them.",
};

/// A flags item that can move: its index and the config settings it becomes.
type Move = (usize, Vec<(String, Value)>);

pub fn check(cx: &Context, out: &mut Vec<Diagnostic>) {
    let items = super::flags::items(cx);
    // Each item translated once; both the moves and the findings read it.
    let translated: Vec<Vec<kubelet_flags::Translated>> =
        items.iter().map(|(_, _, flag, _)| kubelet_flags::translate(flag)).collect();
    // Per document: the items that can move.
    let mut movable: IndexMap<usize, Vec<Move>> = IndexMap::new();
    for ((di, i, flag, _), ts) in items.iter().zip(&translated) {
        // Quotes and blanks reach the kubelet literally (NC212); moving would change the value.
        let plain = !flag.contains(['"', '\'', ' ', '\t']);
        let moves: Option<Vec<(String, Value)>> = (plain && !ts.is_empty())
            .then(|| {
                ts.iter()
                    .map(|t| match &t.outcome {
                        Outcome::Config { path, value }
                            if !(kubelet_flags::placeholder_for_structured(t) || t.replaces && value.is_object()) =>
                        {
                            Some((path.clone(), value.clone()))
                        }
                        _ => None,
                    })
                    .collect()
            })
            .flatten();
        if let Some(m) = moves {
            movable.entry(*di).or_default().push((*i, m));
        }
    }
    let mut fixes: IndexMap<usize, Vec<Edit>> = movable
        .iter()
        .filter_map(|(di, moves)| {
            let total = items.iter().filter(|it| it.0 == *di).count();
            Some((*di, move_edits(cx, *di, moves, total)?))
        })
        .collect();
    for ((di, _, _, span), ts) in items.into_iter().zip(translated) {
        for t in ts {
            // A template placeholder for a whole list or map must stay a flag.
            if kubelet_flags::placeholder_for_structured(&t) {
                continue;
            }
            if let Outcome::Config { path, value } = t.outcome {
                let Some(doc) = cx.docs.get(di) else { continue };
                let mut d = Diagnostic::new(
                    &META,
                    format!("`{}` is a kubelet config field: use spec.kubelet.config.{path}", t.text),
                )
                .with_help(if t.replaces && value.is_object() {
                    format!("spec.kubelet.config.{path}: {value} (check the result: in config the map merges with nodeadm's values, while the flag replaced them, so --fix leaves it)")
                } else {
                    format!("spec.kubelet.config.{path}: {value}")
                })
                .with_span(span)
                .with_part(cx.part_index(doc.part));
                // One fix per document, on its first finding: the moves share the insertion.
                if let Some(edits) = fixes.shift_remove(&di) {
                    d = d.with_edits(edits);
                }
                out.push(d);
            }
        }
    }
}

fn exact(doc: &Doc, pointer: &str) -> Option<NodeSpan> {
    let Some(Ok(d)) = &doc.yaml else { return None };
    d.spans.lookup(pointer).filter(|(p, _)| *p == pointer).map(|(_, s)| s)
}

/// (start of the line holding `at`, start of the next line).
fn line_of(text: &str, at: usize) -> (usize, usize) {
    let start = text.get(..at).and_then(|b| b.rfind('\n')).map_or(0, |i| i + 1);
    let end = text.get(at..).and_then(|r| r.find('\n')).map_or(text.len(), |i| at + i + 1);
    (start, end)
}

fn is_indent(s: &str) -> bool {
    s.bytes().all(|b| b == b' ')
}

/// The edits that move `moves` (item index → config settings) out of `flags` into `config`,
/// or `None` when the document's shape does not allow a faithful line move.
fn move_edits(cx: &Context, di: usize, moves: &[Move], total: usize) -> Option<Vec<Edit>> {
    let doc = cx.docs.get(di)?;
    let text = doc.text.ok()?;
    let nl = if text.contains("\r\n") { "\r\n" } else { "\n" };
    let part = doc.part.index;
    let edit = |s: usize, e: usize, replacement: String| Edit {
        span: Span::part(part, s, e),
        expect: text.get(s..e).unwrap_or_default().to_string(),
        replacement,
    };

    let mut config: IndexMap<String, Value> = IndexMap::new();
    let mut seen: Vec<&str> = Vec::new();
    for (_, settings) in moves {
        for (path, value) in settings {
            kubelet_flags::apply(&mut config, path, value.clone(), seen.contains(&path.as_str()));
            seen.push(path);
        }
    }
    // A key some NodeConfig already sets: the flag overrode it; after a move merge order would.
    let set_elsewhere = cx.docs.iter().any(|d| {
        d.value()
            .and_then(|v| v.at("/spec/kubelet/config"))
            .and_then(Value::as_object)
            .is_some_and(|c| config.keys().any(|k| c.contains_key(k)))
    });
    if set_elsewhere {
        return None;
    }

    // Each moved item must be a block sequence entry alone on its line.
    let mut item_lines = Vec::with_capacity(moves.len());
    for (i, _) in moves {
        let v = exact(doc, &format!("/spec/kubelet/flags/{i}"))?.value;
        let (ls, le) = line_of(text, v.0);
        // A block scalar item (`- >-` with the flag on the next line) spans lines: no line move.
        let rest = text.get(v.1..le)?.trim_end_matches(['\n', '\r']);
        if text.get(ls..v.0)?.trim() != "-" || !rest.trim().is_empty() || text.get(v.0..v.1)?.contains('\n') {
            return None;
        }
        item_lines.push((ls, le));
    }
    let mut edits = Vec::new();
    if moves.len() == total {
        // Every item moves: the `flags:` key goes too, if nothing else sits in its lines.
        let key = exact(doc, "/spec/kubelet/flags")?.key?;
        let (ks, ke) = line_of(text, key.0);
        let after = text.get(key.1..ke)?.trim();
        let last = item_lines.iter().map(|l| l.1).max()?;
        let lines = text.get(ks..last)?.lines().filter(|l| !l.trim().is_empty()).count();
        if !is_indent(text.get(ks..key.0)?) || after != ":" || lines != 1 + item_lines.len() {
            return None;
        }
        edits.push(edit(ks, last, String::new()));
    } else {
        edits.extend(item_lines.iter().map(|&(s, e)| edit(s, e, String::new())));
    }

    let existing = doc.value().and_then(|v| v.at("/spec/kubelet/config"));
    let (at, indent, header) = match existing {
        Some(Value::Object(c)) if !c.is_empty() => {
            let first = c.keys().next()?;
            let key = exact(doc, &format!("/spec/kubelet/config/{}", escape(first)))?.key?;
            let (ls, _) = line_of(text, key.0);
            (ls, text.get(ls..key.0)?.to_string(), String::new())
        }
        None => {
            let kubelet = doc.value()?.at("/spec/kubelet")?.as_object()?;
            let first = kubelet.keys().next()?;
            let key = exact(doc, &format!("/spec/kubelet/{}", escape(first)))?.key?;
            let own = exact(doc, "/spec/kubelet")?.key?;
            let (ls, _) = line_of(text, key.0);
            let (os, _) = line_of(text, own.0);
            let indent = text.get(ls..key.0)?;
            let step = indent.len().checked_sub(own.0 - os).filter(|s| *s > 0)?;
            (ls, format!("{indent}{}", " ".repeat(step)), format!("{indent}config:{nl}"))
        }
        // `config: {}` or a flow mapping: inserting block lines would not parse.
        Some(_) => return None,
    };
    if !is_indent(&indent) {
        return None;
    }
    let mut insert = header;
    for (k, v) in &config {
        insert.push_str(&format!("{indent}{}: {}{nl}", scalar(k), flow(v)));
    }
    edits.push(edit(at, at, insert));
    Some(edits)
}

/// YAML flow text for a value: plain where YAML 1.1 and 1.2 read it the same, else JSON
/// (YAML 1.2 is a superset of JSON).
fn flow(v: &Value) -> String {
    match v {
        Value::String(s) => scalar(s),
        Value::Array(a) => format!("[{}]", a.iter().map(flow).collect::<Vec<_>>().join(", ")),
        Value::Object(m) => {
            format!(
                "{{{}}}",
                m.iter().map(|(k, v)| format!("{}: {}", scalar(k), flow(v))).collect::<Vec<_>>().join(", ")
            )
        }
        other => other.to_string(),
    }
}

fn scalar(s: &str) -> String {
    let plain = !s.is_empty()
        && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"._/-".contains(&b))
        && s.starts_with(|c: char| c.is_ascii_alphabetic() || c == '/')
        && !matches!(
            s.to_ascii_lowercase().as_str(),
            "y" | "n" | "yes" | "no" | "on" | "off" | "true" | "false" | "null"
        );
    if plain { s.to_string() } else { Value::String(s.to_string()).to_string() }
}
