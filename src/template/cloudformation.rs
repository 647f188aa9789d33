//! CloudFormation builds a `UserData` value from intrinsic functions (issue #14; AWS
//! CloudFormation User Guide, "Intrinsic function reference"): `Fn::Base64`, `Fn::Sub` (a string,
//! or `[string, variables]` whose values are themselves functions), `Fn::Join`, `Fn::If`,
//! `Ref`, in JSON and in YAML's long (`Fn::Sub:`) and short (`!Sub`) forms. This module reads a
//! template into one tree (YAML short-form tags become the long form, as CloudFormation reads
//! them; every string keeps the host offset of each byte) and renders a `UserData` value:
//! - `${Name}` in `Fn::Sub` takes the variable map's value, else a parameter value the user gave,
//!   else stays `${Name}` (a value only the stack knows); `${AWS::Region}` and other
//!   pseudo-parameters stay too; `${!Literal}` is the literal `${Literal}`.
//! - `Fn::If` is a branch point: each condition is taken both ways (all combinations up to a
//!   bound, then a deterministic spread, said as sampled), unless the user's parameter values
//!   decide it through the template's `Conditions` (`Fn::Equals`, `Fn::Not`, `Fn::And`,
//!   `Fn::Or`, `Condition`). `Ref: AWS::NoValue` removes a list item.
//! - `Ref` of a parameter the user gave is its value; parameters they did not give take their
//!   `Default` once any were given (as a stack created with a parameter file does).
//! - Anything else (`Fn::GetAtt`, `Fn::ImportValue`, …) stays a `${…}` placeholder.

use super::vars::Vars;
use crate::userdata::json_spans::{self, MAX_DEPTH, Node, Str};
use serde_json::Value;
use serde_saphyr::granit_parser::{Event, Parser, ScalarStyle};
use std::collections::BTreeMap;

/// A template read into one tree.
#[derive(Debug, Clone)]
pub struct Stack {
    pub root: Node,
    /// The user's parameter values, with the template's defaults for the others when any were given.
    params: Vars,
}

/// One rendering of a `UserData` value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendering {
    pub text: Str,
    /// The conditions this rendering took, in the order the value uses them (those the user's
    /// values decided are not listed).
    pub when: Vec<(String, bool)>,
}

impl Rendering {
    /// `IsSpot true, UseGpu false`.
    pub fn describe(&self) -> String {
        self.when.iter().map(|(c, v)| format!("`{c}` {v}")).collect::<Vec<_>>().join(", ")
    }
}

/// The renderings of a value: all when there are at most the bound, else a sample.
#[derive(Debug, Clone)]
pub struct Renderings {
    pub list: Vec<Rendering>,
    pub sampled: bool,
}

/// Reads a template (JSON or YAML), or `None` when it is neither.
pub fn read(text: &str, params: &Vars) -> Option<Stack> {
    let root = if text.trim_start().starts_with('{') { json_spans::parse(text)? } else { yaml_tree(text)? };
    let mut stack = Stack { root, params: params.clone() };
    if !params.is_empty() {
        for (name, default) in stack.defaults(text) {
            stack.params.entry(name).or_insert(Value::String(default));
        }
    }
    Some(stack)
}

impl Stack {
    /// Every `UserData` value in the template, in document order.
    pub fn user_data(&self) -> Vec<&Node> {
        self.user_data_at().into_iter().map(|(_, v)| v).collect()
    }

    /// [`Stack::user_data`] with the JSON Pointer of each.
    pub fn user_data_at(&self) -> Vec<(String, &Node)> {
        let mut out = Vec::new();
        collect_user_data(&self.root, String::new(), 0, &mut out);
        out
    }

    /// The ways `value` renders: one per combination of the conditions the user's values leave
    /// open (at most `bound`), or `None` when it is not a text CloudFormation builds.
    pub fn renderings(&self, value: &Node, bound: usize) -> Option<Renderings> {
        let (decided, open) = self.conditions(value);
        let total = 1u128.checked_shl(open.len() as u32).unwrap_or(u128::MAX);
        let masks: Vec<u128> = if total <= bound as u128 {
            (0..total).collect()
        } else {
            // A spread from all-false to all-true.
            let last = bound.saturating_sub(1).max(1) as u128;
            (0..bound as u128).map(|k| k.saturating_mul(total - 1) / last).collect()
        };
        let mut list = Vec::new();
        for mask in masks {
            let mut choices = decided.clone();
            let mut when = Vec::new();
            for (i, name) in open.iter().enumerate() {
                let on = mask >> i & 1 == 1;
                choices.insert(name.clone(), on);
                when.push((name.clone(), on));
            }
            match self.text(value, &Env { choices, sub_body: false }, 0)? {
                Out::Text(text) => list.push(Rendering { text, when }),
                Out::NoValue => list.push(Rendering { text: Str::default(), when }),
            }
        }
        Some(Renderings { list, sampled: total > bound as u128 })
    }

    /// The one rendering the user's values leave, or the conditions they leave open.
    pub fn decided(&self, value: &Node) -> Result<Option<Str>, Vec<String>> {
        let Some(r) = self.renderings(value, 1) else { return Ok(None) };
        match r.list.as_slice() {
            [one] if !r.sampled => Ok(Some(one.text.clone())),
            _ => Err(self.conditions(value).1.into_iter().map(|n| format!("`{n}`")).collect()),
        }
    }

    /// `value` as an `Fn::Sub` body (what `convert` reads and writes back), with the conditions
    /// the user's values leave open taken true, and those conditions.
    pub fn conditions_true(&self, value: &Node) -> Option<(Str, Vec<String>)> {
        let (mut choices, open) = self.conditions(value);
        choices.extend(open.iter().map(|n| (n.clone(), true)));
        match self.text(value, &Env { choices, sub_body: true }, 0)? {
            Out::Text(t) => Some((t, open)),
            Out::NoValue => Some((Str::default(), open)),
        }
    }

    /// The conditions `value`'s `Fn::If`s use: those the user's values decide, with their value,
    /// and the rest, in the order the value uses them.
    fn conditions(&self, value: &Node) -> (BTreeMap<String, bool>, Vec<String>) {
        let mut names = Vec::new();
        conditions_used(value, 0, &mut names);
        let mut decided = BTreeMap::new();
        let mut open = Vec::new();
        for n in names {
            match self.condition(&n, 0) {
                Some(v) => {
                    decided.insert(n, v);
                }
                None => open.push(n),
            }
        }
        (decided, open)
    }

    /// Parameter defaults from the `Parameters` section.
    fn defaults(&self, text: &str) -> Vec<(String, String)> {
        let Some(Node::Obj(params, _)) = member(&self.root, "Parameters") else { return Vec::new() };
        params.iter().filter_map(|(name, p)| Some((name.clone(), scalar_text(member(p, "Default")?, text)?))).collect()
    }

    /// A condition's value when the user's parameter values decide it.
    fn condition(&self, name: &str, depth: usize) -> Option<bool> {
        if self.params.is_empty() || depth > MAX_DEPTH {
            return None;
        }
        self.truth(member(member(&self.root, "Conditions")?, name)?, depth + 1)
    }

    fn truth(&self, node: &Node, depth: usize) -> Option<bool> {
        let Node::Obj(m, _) = node else { return None };
        let [(f, arg)] = m.as_slice() else { return None };
        let items = match arg {
            Node::Arr(items, _) => items.as_slice(),
            _ => &[],
        };
        match (f.as_str(), arg) {
            ("Condition", Node::Str(s)) => self.condition(&s.text, depth + 1),
            ("Fn::Equals", _) => match items {
                [a, b] => Some(self.plain(a, depth)? == self.plain(b, depth)?),
                _ => None,
            },
            ("Fn::Not", _) => match items {
                [c] => self.truth(c, depth + 1).map(|v| !v),
                _ => None,
            },
            ("Fn::And", _) => items.iter().try_fold(true, |acc, c| Some(acc & self.truth(c, depth + 1)?)),
            ("Fn::Or", _) => items.iter().try_fold(false, |acc, c| Some(acc | self.truth(c, depth + 1)?)),
            _ => None,
        }
    }

    /// A string a condition compares: a literal or a parameter the user's values give.
    fn plain(&self, node: &Node, depth: usize) -> Option<String> {
        match node {
            Node::Str(s) => Some(s.text.clone()),
            Node::Obj(m, _) => match m.as_slice() {
                [(f, Node::Str(name))] if f == "Ref" => self.param(&name.text),
                [(f, _)] if f != "Ref" => self.truth(node, depth + 1).map(|b| b.to_string()),
                _ => None,
            },
            _ => None,
        }
    }

    fn param(&self, name: &str) -> Option<String> {
        super::vars::as_text(self.params.get(name)?)
    }

    fn text(&self, node: &Node, env: &Env, depth: usize) -> Option<Out> {
        if depth > MAX_DEPTH {
            return None;
        }
        let Node::Obj(m, at) = node else {
            return match node {
                Node::Str(s) if env.sub_body => Some(Out::Text(escape_literal(s))),
                Node::Str(s) => Some(Out::Text(s.clone())),
                _ => Some(Out::Text(placeholder("value", node.start()))),
            };
        };
        let [(f, arg)] = m.as_slice() else { return None };
        let at = *at;
        Some(match (f.as_str(), arg) {
            ("Fn::Base64", v) => self.text(v, env, depth + 1)?,
            ("Fn::Sub", Node::Str(s)) => Out::Text(self.sub(s, &[], env, depth)?),
            ("Fn::Sub", Node::Arr(items, _)) => match items.as_slice() {
                [Node::Str(s)] => Out::Text(self.sub(s, &[], env, depth)?),
                [Node::Str(s), Node::Obj(vars, _)] => Out::Text(self.sub(s, vars, env, depth)?),
                _ => return None,
            },
            ("Fn::Join", Node::Arr(args, _)) => {
                let [Node::Str(delim), list] = args.as_slice() else { return None };
                let Node::Arr(items, _) = list else { return Some(Out::Text(placeholder("Fn::Join", at))) };
                let mut out = Str { text: String::new(), offsets: vec![at] };
                let mut first = true;
                for item in items {
                    if let Out::Text(s) = self.text(item, env, depth + 1)? {
                        if !first {
                            out.push(delim);
                        }
                        out.push(&s);
                        first = false;
                    }
                }
                Out::Text(out)
            }
            ("Fn::If", Node::Arr(args, _)) => {
                let [Node::Str(cond), then, otherwise] = args.as_slice() else { return None };
                let on = env.choices.get(&cond.text).copied().unwrap_or(true);
                self.text(if on { then } else { otherwise }, env, depth + 1)?
            }
            ("Ref", Node::Str(name)) if name.text == "AWS::NoValue" => Out::NoValue,
            ("Ref", Node::Str(name)) => Out::Text(match self.param(&name.text) {
                Some(v) => value_text(&v, at, env),
                None => placeholder(&name.text, at),
            }),
            ("Fn::GetAtt", Node::Arr(parts, _)) => {
                let names: Vec<&str> = parts
                    .iter()
                    .filter_map(|p| match p {
                        Node::Str(s) => Some(s.text.as_str()),
                        _ => None,
                    })
                    .collect();
                Out::Text(placeholder(&names.join("."), at))
            }
            ("Fn::GetAtt", Node::Str(s)) => Out::Text(placeholder(&s.text, at)),
            (other, _) => Out::Text(placeholder(other, at)),
        })
    }

    /// `Fn::Sub`: `${Name}` from the variable map, the user's parameters, or kept.
    fn sub(&self, s: &Str, vars: &[(String, Node)], env: &Env, depth: usize) -> Option<Str> {
        let t = &s.text;
        let mut out = Str { text: String::new(), offsets: vec![s.offsets.first().copied().unwrap_or(0)] };
        let mut i = 0;
        while let Some(rel) = t.get(i..).and_then(|r| r.find("${")) {
            let open = i + rel;
            out.push(&slice(s, i, open));
            let Some(close) = t.get(open..).and_then(|r| r.find('}')).map(|c| open + c) else {
                i = open;
                break;
            };
            let inner = t.get(open + 2..close).unwrap_or_default();
            if inner.starts_with('!') && env.sub_body {
                out.push(&slice(s, open, close + 1));
            } else if let Some(literal) = inner.strip_prefix('!') {
                // `${!Literal}` is the text `${Literal}`: the `!` is dropped.
                out.push(&slice(s, open, open + 2));
                out.push(&slice(s, open + 3, open + 3 + literal.len() + 1));
            } else {
                let name = inner.trim();
                let at = s.offsets.get(open).copied().unwrap_or(0);
                match vars.iter().find(|(k, _)| k == name) {
                    Some((_, v)) => {
                        if let Out::Text(value) = self.text(v, env, depth + 1)? {
                            out.push(&value);
                        }
                    }
                    None => match self.param(name) {
                        Some(v) => out.push(&value_text(&v, at, env)),
                        None => out.push(&slice(s, open, close + 1)),
                    },
                }
            }
            i = close + 1;
        }
        out.push(&slice(s, i, t.len()));
        Some(out)
    }
}

/// The first `UserData` of a CloudFormation template as an `Fn::Sub` body with the user's
/// parameter values filled in (what `convert --var-file` converts): `Ok(None)` when the text is
/// not such a template, `Err` naming the conditions the values leave open.
pub fn single_rendering(text: &str, params: &Vars) -> Result<Option<Str>, Vec<String>> {
    if !text.contains("UserData") {
        return Ok(None);
    }
    let Some(stack) = read(text, params) else { return Ok(None) };
    let Some(value) = stack.user_data().into_iter().next() else { return Ok(None) };
    match stack.conditions_true(value) {
        Some((body, open)) if open.is_empty() => Ok(Some(body)),
        Some((_, open)) => Err(open.into_iter().map(|c| format!("`{c}`")).collect()),
        None => Ok(None),
    }
}

/// How a value is read: the conditions' values, and whether as CloudFormation renders it (lint)
/// or as an `Fn::Sub` body that renders to that (convert, whose output goes back into one).
struct Env {
    choices: BTreeMap<String, bool>,
    /// `${!Literal}` kept, literal `${` written `${!`, so the text is a valid `Fn::Sub` string.
    sub_body: bool,
}

enum Out {
    Text(Str),
    /// `Ref: AWS::NoValue`: nothing, not even a list item.
    NoValue,
}

/// Bytes `from..to` of `s` with their offsets.
fn slice(s: &Str, from: usize, to: usize) -> Str {
    let to = to.min(s.text.len());
    let from = from.min(to);
    Str {
        text: s.text.get(from..to).unwrap_or_default().to_string(),
        offsets: s.offsets.get(from..=to).map(<[usize]>::to_vec).unwrap_or_else(|| vec![0; to - from + 1]),
    }
}

/// A value the user gave, every byte placed at the reference it replaces.
fn at_one(v: &str, at: usize) -> Str {
    Str { text: v.to_string(), offsets: vec![at; v.len() + 1] }
}

/// A parameter's value at the reference it replaces, escaped in an `Fn::Sub` body.
fn value_text(v: &str, at: usize, env: &Env) -> Str {
    let s = at_one(v, at);
    if env.sub_body { escape_literal(&s) } else { s }
}

/// Literal text written into an `Fn::Sub` body: each `${` becomes `${!`, which `Fn::Sub` renders
/// back as `${` (the `!` sits at the brace's offset).
fn escape_literal(s: &Str) -> Str {
    if !s.text.contains("${") {
        return s.clone();
    }
    let mut out = Str { text: String::new(), offsets: vec![s.offsets.first().copied().unwrap_or(0)] };
    let mut i = 0;
    while let Some(rel) = s.text.get(i..).and_then(|r| r.find("${")) {
        let open = i + rel;
        out.push(&slice(s, i, open + 2));
        let brace = s.offsets.get(open + 1).copied().unwrap_or(0);
        out.push(&at_one("!", brace));
        i = open + 2;
    }
    out.push(&slice(s, i, s.text.len()));
    out
}

/// `${name}` for a value only the stack knows, placed at its function.
fn placeholder(name: &str, at: usize) -> Str {
    at_one(&format!("${{{name}}}"), at)
}

fn member<'n>(node: &'n Node, key: &str) -> Option<&'n Node> {
    match node {
        Node::Obj(m, _) => m.iter().find(|(k, _)| k == key).map(|(_, v)| v),
        _ => None,
    }
}

/// A scalar's text: a string, or a JSON number or boolean as written.
fn scalar_text(node: &Node, text: &str) -> Option<String> {
    match node {
        Node::Str(s) => Some(s.text.clone()),
        Node::Scalar(at) => {
            let rest = text.get(*at..)?;
            let end = rest.find(|c: char| matches!(c, ',' | '}' | ']') || c.is_whitespace()).unwrap_or(rest.len());
            rest.get(..end).map(str::to_string)
        }
        _ => None,
    }
}

fn collect_user_data<'n>(node: &'n Node, path: String, depth: usize, out: &mut Vec<(String, &'n Node)>) {
    if depth > MAX_DEPTH {
        return;
    }
    match node {
        Node::Obj(m, _) => {
            for (k, v) in m {
                let here = format!("{path}/{}", k.replace('~', "~0").replace('/', "~1"));
                if k == "UserData" {
                    out.push((here, v));
                } else {
                    collect_user_data(v, here, depth + 1, out);
                }
            }
        }
        Node::Arr(items, _) => {
            for (i, item) in items.iter().enumerate() {
                collect_user_data(item, format!("{path}/{i}"), depth + 1, out)
            }
        }
        _ => {}
    }
}

/// The conditions `Fn::If` uses under `node`, each once, in order.
fn conditions_used(node: &Node, depth: usize, out: &mut Vec<String>) {
    if depth > MAX_DEPTH {
        return;
    }
    match node {
        Node::Obj(m, _) => {
            if let [(f, Node::Arr(args, _))] = m.as_slice()
                && f == "Fn::If"
                && let Some(Node::Str(c)) = args.first()
                && !out.contains(&c.text)
            {
                out.push(c.text.clone());
            }
            m.iter().for_each(|(_, v)| conditions_used(v, depth + 1, out));
        }
        Node::Arr(items, _) => items.iter().for_each(|i| conditions_used(i, depth + 1, out)),
        _ => {}
    }
}

/// A YAML template as the same tree JSON gives: short-form tags become their long form
/// (`!Ref X` → `{"Ref": X}`, `!GetAtt A.B` → `{"Fn::GetAtt": "A.B"}`, `!Sub …` →
/// `{"Fn::Sub": …}`). Only the first document; anchors are ignored, aliases are opaque.
fn yaml_tree(text: &str) -> Option<Node> {
    enum Frame {
        Map { members: Vec<(String, Node)>, key: Option<String>, at: usize, tag: Option<String> },
        Seq { items: Vec<Node>, at: usize, tag: Option<String> },
    }
    let mut stack: Vec<Frame> = Vec::new();
    let mut root = None;
    let place = |stack: &mut Vec<Frame>, root: &mut Option<Node>, node: Node| match stack.last_mut() {
        Some(Frame::Map { members, key, .. }) => match key.take() {
            Some(k) => members.push((k, node)),
            None => *key = Some(if let Node::Str(s) = &node { s.text.clone() } else { String::new() }),
        },
        Some(Frame::Seq { items, .. }) => items.push(node),
        None => *root = Some(node),
    };
    for ev in Parser::new_from_str(text) {
        let (event, span) = ev.ok()?;
        let at = span.start.byte_offset().unwrap_or(0);
        let end = span.end.byte_offset().unwrap_or(at);
        let tag_of = |t: &Option<std::borrow::Cow<'_, serde_saphyr::granit_parser::Tag>>| {
            t.as_ref().filter(|t| t.handle() == "!").map(|t| t.suffix().to_string())
        };
        match event {
            Event::Scalar(value, style, _, tag) => {
                let s = scalar_str(text, &value, style, at, end);
                let node = tagged(tag_of(&tag), Node::Str(s), at);
                place(&mut stack, &mut root, node);
            }
            Event::Alias(_) => place(&mut stack, &mut root, Node::Scalar(at)),
            Event::MappingStart(_, _, tag) | Event::SequenceStart(_, _, tag) if stack.len() >= MAX_DEPTH => {
                let _ = tag;
                return None;
            }
            Event::MappingStart(_, _, tag) => {
                stack.push(Frame::Map { members: Vec::new(), key: None, at, tag: tag_of(&tag) })
            }
            Event::SequenceStart(_, _, tag) => stack.push(Frame::Seq { items: Vec::new(), at, tag: tag_of(&tag) }),
            Event::MappingEnd | Event::SequenceEnd => {
                let node = match stack.pop()? {
                    Frame::Map { members, at, tag, .. } => tagged(tag, Node::Obj(members, at), at),
                    Frame::Seq { items, at, tag } => tagged(tag, Node::Arr(items, at), at),
                };
                place(&mut stack, &mut root, node);
            }
            Event::DocumentEnd => break,
            _ => {}
        }
    }
    root
}

fn tagged(tag: Option<String>, node: Node, at: usize) -> Node {
    let Some(tag) = tag else { return node };
    let name = match tag.as_str() {
        "Ref" | "Condition" => tag,
        "GetAtt" => {
            // `!GetAtt Resource.Attribute`: the long form's two-item list.
            if let Node::Str(s) = &node
                && let Some((a, b)) = s.text.split_once('.')
            {
                let parts = vec![Node::Str(at_one(a, at)), Node::Str(at_one(b, at))];
                return Node::Obj(vec![("Fn::GetAtt".into(), Node::Arr(parts, at))], at);
            }
            "Fn::GetAtt".into()
        }
        other => format!("Fn::{other}"),
    };
    Node::Obj(vec![(name, node)], at)
}

/// A YAML scalar with the host offset of each byte: a literal block scalar line by line (its
/// indentation cut), a scalar whose text is its source (plain, or quoted without escapes) byte
/// for byte, anything else (folded, escaped) at its start.
fn scalar_str(text: &str, value: &str, style: ScalarStyle, at: usize, end: usize) -> Str {
    let coarse = || Str { text: value.to_string(), offsets: vec![at; value.len() + 1] };
    let src = text.get(at..end).unwrap_or_default();
    match style {
        ScalarStyle::Plain | ScalarStyle::SingleQuoted | ScalarStyle::DoubleQuoted => {
            let skip = usize::from(style != ScalarStyle::Plain);
            if src.get(skip..skip + value.len()) == Some(value) {
                let from = at + skip;
                Str { text: value.to_string(), offsets: (from..=from + value.len()).collect() }
            } else {
                coarse()
            }
        }
        ScalarStyle::Literal => {
            // The span starts at the content, after the first line's indentation.
            let mut line_start = text.get(..at).and_then(|b| b.rfind('\n')).map_or(0, |n| n + 1);
            let indent = at - line_start;
            let mut offsets = Vec::with_capacity(value.len() + 1);
            for line in value.split_inclusive('\n') {
                let src_line = text.get(line_start..).and_then(|r| r.split('\n').next()).unwrap_or_default();
                let body = line.trim_end_matches('\n');
                let from = if src_line.get(indent.min(src_line.len())..).is_some_and(|l| l.starts_with(body)) {
                    line_start + indent.min(src_line.len())
                } else {
                    line_start
                };
                offsets.extend(from..from + body.len());
                if line.ends_with('\n') {
                    offsets.push(line_start + src_line.len());
                }
                line_start += src_line.len() + 1;
            }
            offsets.push(offsets.last().map_or(at, |o| o + 1));
            if offsets.len() == value.len() + 1 { Str { text: value.to_string(), offsets } } else { coarse() }
        }
        _ => coarse(),
    }
}

#[cfg(test)]
#[allow(clippy::string_slice)]
mod tests {
    use super::*;

    fn texts(stack: &Stack, value: &Node) -> Vec<(String, String)> {
        stack.renderings(value, 16).unwrap().list.into_iter().map(|r| (r.describe(), r.text.text)).collect()
    }

    #[test]
    fn yaml_short_forms_render_both_ways() {
        let t = "Conditions:\n  IsSpot: !Equals [!Ref Capacity, spot]\nResources:\n  LT:\n    Properties:\n      UserData: !Base64\n        Fn::Join:\n          - ''\n          - - \"#!/bin/bash\\n\"\n            - !Sub '/etc/eks/bootstrap.sh ${ClusterName} --kubelet-extra-args ${Args}'\n            - !If [IsSpot, \" --node-labels=spot=true\", !Ref AWS::NoValue]\n            - \"\\n\"\n";
        let stack = read(t, &Vars::new()).unwrap();
        let values = stack.user_data();
        assert_eq!(values.len(), 1);
        assert_eq!(
            texts(&stack, values[0]),
            vec![
                ("`IsSpot` false".into(), "#!/bin/bash\n/etc/eks/bootstrap.sh ${ClusterName} --kubelet-extra-args ${Args}\n".into()),
                (
                    "`IsSpot` true".into(),
                    "#!/bin/bash\n/etc/eks/bootstrap.sh ${ClusterName} --kubelet-extra-args ${Args} --node-labels=spot=true\n".into()
                ),
            ]
        );
        // Parameter values decide the condition and fill the references.
        let vars: Vars =
            [("Capacity".to_string(), Value::from("spot")), ("ClusterName".to_string(), Value::from("prod"))]
                .into_iter()
                .collect();
        let stack = read(t, &vars).unwrap();
        let one = stack.decided(stack.user_data()[0]).unwrap().unwrap();
        assert_eq!(
            one.text,
            "#!/bin/bash\n/etc/eks/bootstrap.sh prod --kubelet-extra-args ${Args} --node-labels=spot=true\n"
        );
        let stack = read(t, &[("ClusterName".to_string(), Value::from("prod"))].into_iter().collect()).unwrap();
        assert_eq!(stack.decided(stack.user_data()[0]), Err(vec!["`IsSpot`".to_string()]));
    }

    #[test]
    fn sub_variables_literals_and_offsets() {
        let t = "Resources:\n  LT:\n    Properties:\n      UserData:\n        Fn::Base64: !Sub\n          - |\n            #!/bin/bash\n            ${Boot} ${AWS::StackName} ${!HOME}\n          - Boot: !Join [' ', [/etc/eks/bootstrap.sh, !Ref Cluster, !GetAtt Role.Arn]]\n";
        let stack = read(t, &Vars::new()).unwrap();
        let r = stack.renderings(stack.user_data()[0], 16).unwrap();
        assert!(!r.sampled);
        let s = &r.list[0].text;
        assert_eq!(s.text, "#!/bin/bash\n/etc/eks/bootstrap.sh ${Cluster} ${Role.Arn} ${AWS::StackName} ${HOME}\n");
        assert_eq!(s.offsets.len(), s.text.len() + 1);
        let at = |needle: &str| s.offsets[s.text.find(needle).unwrap()];
        assert_eq!(&t[at("#!")..at("#!") + 11], "#!/bin/bash");
        assert_eq!(&t[at("/etc")..at("/etc") + 4], "/etc");
        assert_eq!(&t[at("${AWS")..at("${AWS") + 6], "${AWS:");
        assert_eq!(&t[at("{HOME")..at("{HOME") + 6], "{!HOME", "the literal's brace is its own");
        // As an `Fn::Sub` body (convert's reading), the literal stays escaped.
        let (body, open) = stack.conditions_true(stack.user_data()[0]).unwrap();
        assert!(open.is_empty());
        assert_eq!(body.text, "#!/bin/bash\n/etc/eks/bootstrap.sh ${Cluster} ${Role.Arn} ${AWS::StackName} ${!HOME}\n");
        // A literal `${` outside `Fn::Sub` (a join's string) is escaped to stay literal there.
        let j = "UserData: !Join ['', ['echo ${HOME} ', !Ref Name, !If [C, ' x', !Ref AWS::NoValue]]]\n";
        let stack = read(j, &Vars::new()).unwrap();
        let (body, open) = stack.conditions_true(stack.user_data()[0]).unwrap();
        assert_eq!((body.text.as_str(), open), ("echo ${!HOME} ${Name} x", vec!["C".to_string()]));
        assert_eq!(body.offsets.len(), body.text.len() + 1);
    }

    #[test]
    fn json_long_forms_and_defaults() {
        let t = r##"{"Parameters": {"Spot": {"Type": "String", "Default": "false"}, "Max": {"Type": "Number", "Default": 58}},
 "Conditions": {"UseSpot": {"Fn::Equals": [{"Ref": "Spot"}, "true"]}},
 "Resources": {"LT": {"Properties": {"LaunchTemplateData": {"UserData": {"Fn::Base64": {"Fn::Sub": [
   "#!/bin/bash\n/etc/eks/bootstrap.sh c --kubelet-extra-args '--max-pods=${Max}${Extra}'\n",
   {"Extra": {"Fn::If": ["UseSpot", " --node-labels=spot=true", ""]}}]}}}}}}}"##;
        let stack = read(t, &Vars::new()).unwrap();
        assert_eq!(stack.renderings(stack.user_data()[0], 16).unwrap().list.len(), 2);
        // One value given: the others take their defaults, which decide the condition.
        let stack = read(t, &[("Max".to_string(), Value::from(110))].into_iter().collect()).unwrap();
        assert_eq!(
            stack.decided(stack.user_data()[0]).unwrap().unwrap().text,
            "#!/bin/bash\n/etc/eks/bootstrap.sh c --kubelet-extra-args '--max-pods=110'\n"
        );
    }

    #[test]
    fn many_conditions_are_sampled_and_bad_input_is_refused() {
        let items: String = (0..6).map(|i| format!("!If [C{i}, a{i}, b{i}], ")).collect();
        let t = format!("UserData: !Join ['', [{items}end]]\n");
        let stack = read(&t, &Vars::new()).unwrap();
        let r = stack.renderings(stack.user_data()[0], 16).unwrap();
        assert!(r.sampled);
        assert_eq!(r.list.len(), 16);
        assert_eq!(r.list[0].text.text, "b0b1b2b3b4b5end");
        assert_eq!(r.list[15].text.text, "a0a1a2a3a4a5end");
        assert!(read("{\"UserData\": [", &Vars::new()).is_none());
        assert!(read("a: [", &Vars::new()).is_none());
        let deep = format!("UserData: {}x{}\n", "[".repeat(200), "]".repeat(200));
        assert!(read(&deep, &Vars::new()).is_none());
    }
}
