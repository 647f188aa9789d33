//! Renderings of a Terraform template, as `templatefile()` produces them: each `%{ if }` taken
//! one way, each `%{ for }` run over 0, 1 or 2 items, each interpolation given a value. A
//! template is the set of its renderings; a finding holds when it holds in one of them, so
//! every rendering maps each byte back to the template: literal text to the bytes it was copied
//! from, a value to its interpolation.

use super::terraform::{Node, Template, Text};
use super::vars::{Vars, as_text, eval, truth};
use serde_json::Value;

/// One way through a template's branch points.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Choices {
    /// Per `if` (by id): whether its condition holds.
    pub ifs: Vec<bool>,
    /// Per `for` (by id): how many items its collection has.
    pub fors: Vec<usize>,
}

impl Choices {
    /// How a user reads this way through: `if #1 true, for #1 × 2`.
    pub fn describe(&self, t: &Template) -> String {
        let mut parts = Vec::new();
        visit(&t.nodes, &mut |n| match n {
            Node::If { id, cond, .. } => parts.push(format!(
                "`{cond}` {}",
                if self.ifs.get(*id).copied().unwrap_or(false) { "true" } else { "false" }
            )),
            Node::For { id, collection, .. } => {
                parts.push(format!("`{collection}` with {} item(s)", self.fors.get(*id).copied().unwrap_or(0)))
            }
            _ => {}
        });
        let mut seen = Vec::new();
        parts.retain(|p| {
            let fresh = !seen.contains(p);
            seen.push(p.clone());
            fresh
        });
        parts.join(", ")
    }
}

fn visit(nodes: &[Node], f: &mut dyn FnMut(&Node)) {
    for n in nodes {
        f(n);
        match n {
            Node::If { then, otherwise, .. } => {
                visit(then, f);
                visit(otherwise, f);
            }
            Node::For { body, .. } => visit(body, f),
            _ => {}
        }
    }
}

/// Values for interpolations, keyed by where their expression starts in the template.
pub trait Values {
    /// The value of the interpolation whose expression starts at `expr_start`.
    fn value(&self, expr_start: usize, expr: &str) -> String;
    /// Item `index` of the `for` collection whose expression starts at `collection_start`.
    fn item(&self, collection_start: usize, index: usize) -> String;
}

/// A rendering and where its bytes came from.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Rendered {
    pub text: String,
    /// `(offset in text, offset in the template, copied verbatim)`, in text order.
    anchors: Vec<(usize, usize, bool)>,
}

impl Rendered {
    /// The template offset a rendered byte came from.
    pub fn origin(&self, offset: usize) -> usize {
        let i = self.anchors.partition_point(|a| a.0 <= offset);
        match i.checked_sub(1).and_then(|i| self.anchors.get(i)) {
            Some(&(o, t, true)) => t + (offset - o),
            Some(&(_, t, false)) => t,
            None => 0,
        }
    }

    fn text(&mut self, t: &Text) {
        let base = self.text.len();
        for &(o, s) in &t.anchors {
            self.anchors.push((base + o, s, true));
        }
        self.text.push_str(&t.text);
    }

    /// Bytes `from..to` of a literal piece, anchored to where they came from.
    fn text_range(&mut self, t: &Text, from: usize, to: usize) {
        if from >= to {
            return;
        }
        let base = self.text.len();
        self.anchors.push((base, text_origin(t, from), true));
        for &(o, s) in t.anchors.iter().filter(|(o, _)| *o > from && *o < to) {
            self.anchors.push((base + o - from, s, true));
        }
        self.text.push_str(t.text.get(from..to).unwrap_or_default());
    }

    fn value(&mut self, at: usize, v: &str) {
        self.anchors.push((self.text.len(), at, false));
        self.text.push_str(v);
    }
}

/// The template with its directives and strip markers applied the way `choices` says, and
/// everything else kept as written: interpolations stay `${ … }` (without their strip markers)
/// and escapes stay `$${`/`%%{`. What is left is a template without branches, which readers of
/// template text (lint's placeholder handling) read as before, byte for byte from the original.
pub fn resolve_directives(t: &Template, choices: &Choices, src: &str) -> Rendered {
    resolve_with(t, choices, src, &Vars::new())
}

/// [`resolve_directives`] with the values a user gave (`--var`, `--var-file`): a condition,
/// loop collection or interpolation they decide (`vars::eval`) is rendered as terraform would;
/// the rest follows `choices` or stays as written.
pub fn resolve_with(t: &Template, choices: &Choices, src: &str, vars: &Vars) -> Rendered {
    let mut out = Rendered::default();
    resolve(&t.nodes, choices, src, vars, false, &[], &mut out);
    out
}

/// [`resolve_with`] as lint reads it: an interpolation that is an item of a YAML flow sequence
/// (`clusterDNS: [${dns_ip}]`) renders to one item, but its braces would end the sequence for a
/// YAML parser, so it is read quoted (`["${dns_ip}"]`), a scalar of unknown value.
pub fn lint_reading(t: &Template, choices: &Choices, src: &str, vars: &Vars) -> Rendered {
    let mut out = Rendered::default();
    resolve(&t.nodes, choices, src, vars, true, &[], &mut out);
    out
}

/// Whether an interpolation at `span` is an item of a YAML flow sequence written as a value
/// (`key: [a, ${x}]`, `- [${x}]`): `[` or `,` before it on the line, `,` or `]` after it.
fn flow_item(out: &str, src: &str, span: (usize, usize)) -> bool {
    let line = out.rsplit('\n').next().unwrap_or(out);
    let before = line.trim_end_matches([' ', '\t']);
    let after = src.get(span.1..).unwrap_or_default().trim_start_matches([' ', '\t']);
    (before.ends_with('[') || before.ends_with(','))
        && (after.starts_with(',') || after.starts_with(']'))
        && (line.contains(": [") || line.trim_start().starts_with("- ["))
}

/// `lint` (the lint reading) also gets `marks`: the names an unknown `%{ for }` binds, with the
/// iteration number. The same placeholder in every iteration would repeat a YAML key
/// (`${name}: true` twice) where terraform renders distinct ones, so from the second iteration
/// on the placeholder gets that many spaces before its `}`: still an unknown value, a distinct one.
fn resolve(
    nodes: &[Node],
    choices: &Choices,
    src: &str,
    vars: &Vars,
    flow: bool,
    marks: &[(String, usize)],
    out: &mut Rendered,
) {
    for n in nodes {
        match n {
            Node::Text(t) => {
                let mut from = 0;
                for &e in &t.escapes {
                    out.text_range(t, from, e);
                    // The escape's first character, then the `${` it stands for.
                    let origin = text_origin(t, e);
                    out.anchors.push((out.text.len(), origin.saturating_sub(1), true));
                    out.text.push_str(t.text.get(e..e + 1).unwrap_or_default());
                    from = e;
                }
                out.text_range(t, from, t.text.len());
            }
            Node::Interp { expr, expr_span, span } => match eval(expr, vars).as_ref().and_then(as_text) {
                Some(v) => out.value(span.0, &v),
                None => {
                    let quoted = flow && flow_item(&out.text, src, *span);
                    out.anchors.push((out.text.len(), span.0, false));
                    if quoted {
                        out.text.push('"');
                    }
                    out.text.push_str("${");
                    out.anchors.push((out.text.len(), expr_span.0, true));
                    out.text.push_str(src.get(expr_span.0..expr_span.1).unwrap_or_default());
                    let root: String = expr.trim().chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
                    let iteration = marks.iter().rev().find(|(name, _)| *name == root).map_or(0, |(_, i)| *i);
                    out.text.extend(std::iter::repeat_n(' ', iteration));
                    out.anchors.push((out.text.len(), span.1.saturating_sub(1), true));
                    out.text.push('}');
                    if quoted {
                        out.text.push('"');
                    }
                }
            },
            Node::If { id, cond, then, otherwise, .. } => {
                let on = match eval(cond, vars).as_ref().and_then(truth) {
                    Some(b) => b,
                    None => choices.ifs.get(*id).copied().unwrap_or(false),
                };
                resolve(if on { then } else { otherwise }, choices, src, vars, flow, marks, out);
            }
            Node::For { id, key, value, collection, body, .. } => match eval(collection, vars) {
                Some(Value::Array(items)) => {
                    for (i, item) in items.iter().enumerate() {
                        let mut scope = vars.clone();
                        if let Some(k) = key {
                            scope.insert(k.clone(), Value::from(i as i64));
                        }
                        scope.insert(value.clone(), item.clone());
                        resolve(body, choices, src, &scope, flow, marks, out);
                    }
                }
                _ => {
                    // Unknown items: the loop's names hide any outer variable of the same name.
                    let mut scope = vars.clone();
                    scope.remove(value);
                    if let Some(k) = key {
                        scope.remove(k);
                    }
                    for i in 0..choices.fors.get(*id).copied().unwrap_or(0) {
                        let mut inner = marks.to_vec();
                        if flow {
                            inner.push((value.clone(), i));
                            inner.extend(key.iter().map(|k| (k.clone(), i)));
                        }
                        resolve(body, choices, src, &scope, flow, &inner, out);
                    }
                }
            },
        }
    }
}

/// A Terraform template rendered with the values a user gave, when they leave one way through
/// it: `Ok(None)` when the text is not a Terraform template, `Err` naming the conditions and
/// loops the values do not decide.
pub fn single_rendering(text: &str, vars: &Vars) -> Result<Option<Rendered>, Vec<String>> {
    if crate::al2::template::detect(text) != crate::al2::template::Syntax::Terraform {
        return Ok(None);
    }
    let Ok(t) = super::terraform::parse(text) else { return Ok(None) };
    let combos = combinations(&t, 256);
    let mut first: Option<Rendered> = None;
    for c in &combos.choices {
        let r = resolve_with(&t, c, text, vars);
        match &first {
            None => first = Some(r),
            Some(f) if f.text == r.text => {}
            Some(_) => {
                let mut open = Vec::new();
                visit(&t.nodes, &mut |n| match n {
                    Node::If { cond, .. } if eval(cond, vars).as_ref().and_then(truth).is_none() => {
                        open.push(format!("`{cond}`"))
                    }
                    Node::For { collection, .. } if !matches!(eval(collection, vars), Some(Value::Array(_))) => {
                        open.push(format!("`{collection}` (a loop)"))
                    }
                    _ => {}
                });
                open.dedup();
                return Err(open);
            }
        }
    }
    Ok(first)
}

/// The template offset of byte `at` of a literal piece.
fn text_origin(t: &Text, at: usize) -> usize {
    let i = t.anchors.partition_point(|a| a.0 <= at);
    i.checked_sub(1).and_then(|i| t.anchors.get(i)).map_or(0, |&(o, s)| s + (at - o))
}

/// Renders `t` the way `choices` says, with `values` for interpolations.
pub fn render(t: &Template, choices: &Choices, values: &dyn Values) -> Rendered {
    let mut out = Rendered::default();
    let mut scope: Vec<(String, String)> = Vec::new();
    go(&t.nodes, choices, values, &mut scope, &mut out);
    out
}

fn go(nodes: &[Node], choices: &Choices, values: &dyn Values, scope: &mut Vec<(String, String)>, out: &mut Rendered) {
    for n in nodes {
        match n {
            Node::Text(t) => out.text(t),
            Node::Interp { expr, expr_span, span } => {
                // A loop variable, innermost first.
                let v = match scope.iter().rev().find(|(name, _)| name == expr) {
                    Some((_, v)) => v.clone(),
                    None => values.value(expr_span.0, expr),
                };
                out.value(span.0, &v);
            }
            Node::If { id, then, otherwise, .. } => {
                let branch = if choices.ifs.get(*id).copied().unwrap_or(false) { then } else { otherwise };
                go(branch, choices, values, scope, out);
            }
            Node::For { id, key, value, collection_span, body, .. } => {
                for i in 0..choices.fors.get(*id).copied().unwrap_or(0) {
                    let depth = scope.len();
                    if let Some(k) = key {
                        scope.push((k.clone(), i.to_string()));
                    }
                    scope.push((value.clone(), values.item(collection_span.0, i)));
                    go(body, choices, values, scope, out);
                    scope.truncate(depth);
                }
            }
        }
    }
}

/// The ways through a template: every combination when there are at most `bound`, otherwise
/// `bound` of them chosen deterministically (`sampled` says so; a report must say it too).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Combinations {
    pub choices: Vec<Choices>,
    pub total: u128,
    pub sampled: bool,
}

/// Items a `for` loop is rendered with: none, one and two.
pub const LOOP_SIZES: [usize; 3] = [0, 1, 2];

/// Branch points that repeat a condition (`%{ if enable_x }` twice) or loop over the same
/// collection take the same way in every rendering, as terraform evaluates the same expression
/// to the same value: the ways through are over the distinct expressions.
fn groups(t: &Template) -> (Vec<usize>, usize, Vec<usize>, usize) {
    let (mut ifs, mut fors) = (vec![0; t.ifs], vec![0; t.fors]);
    let (mut conds, mut colls): (Vec<String>, Vec<String>) = (Vec::new(), Vec::new());
    let group = |seen: &mut Vec<String>, text: &str| match seen.iter().position(|c| c == text) {
        Some(g) => g,
        None => {
            seen.push(text.to_string());
            seen.len() - 1
        }
    };
    visit(&t.nodes, &mut |n| match n {
        Node::If { id, cond, .. } => {
            if let Some(slot) = ifs.get_mut(*id) {
                *slot = group(&mut conds, cond);
            }
        }
        Node::For { id, collection, .. } => {
            if let Some(slot) = fors.get_mut(*id) {
                *slot = group(&mut colls, collection);
            }
        }
        _ => {}
    });
    (ifs, conds.len(), fors, colls.len())
}

pub fn combinations(t: &Template, bound: usize) -> Combinations {
    let (if_group, conds, for_group, colls) = groups(t);
    let total = 2u128.saturating_pow(conds as u32).saturating_mul(3u128.saturating_pow(colls as u32));
    let nth = |mut n: u128| {
        let mut on = Vec::with_capacity(conds);
        for _ in 0..conds {
            on.push(n % 2 == 1);
            n /= 2;
        }
        let mut sizes = Vec::with_capacity(colls);
        for _ in 0..colls {
            sizes.push(LOOP_SIZES.get((n % 3) as usize).copied().unwrap_or_default());
            n /= 3;
        }
        Choices {
            ifs: if_group.iter().map(|g| on.get(*g).copied().unwrap_or(false)).collect(),
            fors: for_group.iter().map(|g| sizes.get(*g).copied().unwrap_or(0)).collect(),
        }
    };
    if total <= bound as u128 {
        return Combinations { choices: (0..total).map(nth).collect(), total, sampled: false };
    }
    // Every `if` both ways and every loop size at least once, then a deterministic spread.
    let mut choices = vec![
        Choices { ifs: vec![false; t.ifs], fors: vec![0; t.fors] },
        Choices { ifs: vec![true; t.ifs], fors: vec![1; t.fors] },
        Choices { ifs: vec![true; t.ifs], fors: vec![2; t.fors] },
    ];
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let mut tries = 0;
    while choices.len() < bound.max(3) && tries < bound * 64 {
        tries += 1;
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let c = nth(u128::from(state) % total);
        if !choices.contains(&c) {
            choices.push(c);
        }
    }
    Combinations { choices, total, sampled: true }
}

#[cfg(test)]
#[allow(clippy::string_slice)]
mod tests {
    use super::super::terraform::parse;
    use super::*;

    struct Named;
    impl Values for Named {
        fn value(&self, _: usize, expr: &str) -> String {
            expr.to_string()
        }
        fn item(&self, _: usize, index: usize) -> String {
            format!("item{index}")
        }
    }

    #[test]
    fn renders_strip_markers_as_terraform_does() {
        // terraform 1.11: templatefile() of this text with c = true, w = "w".
        let t = parse("a\n%{ if c ~}\n\n  x\n%{ endif }\nb  \n  \n  ${ v ~}  \n\n  c\nd \n\n ${~ w}e\n").unwrap();
        let r = render(&t, &Choices { ifs: vec![true], fors: vec![] }, &Named);
        assert_eq!(r.text, "a\n\n  x\n\nb  \n  \n  v\n  c\nd \n\nwe\n");
    }

    #[test]
    fn loops_bind_their_variables_and_origins_point_into_the_template() {
        let src = "%{ for i, f in flags }--${f}=${i} %{ endfor }$${x}";
        let t = parse(src).unwrap();
        let r = render(&t, &Choices { ifs: vec![], fors: vec![2] }, &Named);
        assert_eq!(r.text, "--item0=0 --item1=1 ${x}");
        // `--` of the second item is template bytes 22..24; `${x}` comes from `$${x}` at 45.
        assert_eq!(r.origin(10), 22);
        assert_eq!(&src[r.origin(12)..r.origin(12) + 4], "${f}");
        assert_eq!(r.origin(r.text.len() - 3), src.len() - 3);
    }

    #[test]
    fn lint_reads_each_iteration_of_an_unknown_loop_as_a_distinct_value() {
        // Found by a second reader on real user data: `${name}: true` twice was a duplicate key.
        let src = "gates:\n%{ for name, on in gates ~}\n  ${name}: ${on}\n%{ endfor ~}\nx: ${other}\n";
        let t = parse(src).unwrap();
        let two = Choices { ifs: vec![], fors: vec![2] };
        let r = lint_reading(&t, &two, src, &Vars::new());
        assert_eq!(r.text, "gates:\n  ${name}: ${on}\n  ${name }: ${on }\nx: ${other}\n");
        assert_eq!(r.origin(r.text.find("${name }").unwrap()), src.find("${name}").unwrap());
        // terraform's own rendering (the differential's) is untouched.
        assert_eq!(
            resolve_with(&t, &two, src, &Vars::new()).text,
            "gates:\n  ${name}: ${on}\n  ${name}: ${on}\nx: ${other}\n"
        );
    }

    #[test]
    fn resolving_directives_keeps_interpolations_and_escapes_as_written() {
        let src = "a %{ if x ~}\n  ${ f(\"}\") ~}  \n%{ else }no%{ endif }$${HOME} %%{ y }\n";
        let t = parse(src).unwrap();
        let on = resolve_directives(&t, &Choices { ifs: vec![true], fors: vec![] }, src);
        assert_eq!(on.text, "a   ${f(\"}\")}$${HOME} %%{ y }\n");
        let at = |needle: &str| on.origin(on.text.find(needle).unwrap());
        assert_eq!(at("f("), src.find("f(").unwrap());
        assert_eq!(at("$${"), src.find("$${").unwrap());
        assert_eq!(at("{HOME"), src.find("{HOME").unwrap());
        assert_eq!(at("%%{"), src.find("%%{").unwrap());
        let off = resolve_directives(&t, &Choices { ifs: vec![false], fors: vec![] }, src);
        assert_eq!(off.text, "a no$${HOME} %%{ y }\n");
    }

    #[test]
    fn values_the_user_gave_decide_branches_loops_and_interpolations() {
        let src = "%{ if on ~}\nA=${name} ${unknown}\n%{ endif ~}\n%{ for f in flags }${f},%{ endfor }%{ for x in other }${x};%{ endfor }";
        let t = parse(src).unwrap();
        let vars: Vars = [
            ("on", serde_json::json!(true)),
            ("name", serde_json::json!("n1")),
            ("flags", serde_json::json!(["a", "b"])),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        let r = resolve_with(&t, &Choices { ifs: vec![false], fors: vec![0, 1] }, src, &vars);
        assert_eq!(r.text, "A=n1 ${unknown}\na,b,${x};");
        assert_eq!(r.origin(2), src.find("${name}").unwrap());
    }

    #[test]
    fn a_repeated_condition_takes_the_same_way_everywhere() {
        let t = parse("%{ if x }a%{ endif }%{ if y }b%{ endif }%{ if x }c%{ endif }%{ for i in l }${i}%{ endfor }%{ for j in l }${j}%{ endfor }").unwrap();
        let all = combinations(&t, 64);
        assert_eq!(all.total, 12);
        assert!(all.choices.iter().all(|c| c.ifs[0] == c.ifs[2] && c.fors[0] == c.fors[1]));
        assert_eq!(all.choices[1].describe(&t), "`x` true, `y` false, `l` with 0 item(s)");
    }

    #[test]
    fn combinations_are_all_or_a_reported_sample() {
        let t = parse("%{ if a }1%{ endif }%{ if b }2%{ endif }%{ for x in l }${x}%{ endfor }").unwrap();
        let all = combinations(&t, 64);
        assert_eq!((all.choices.len(), all.total, all.sampled), (12, 12, false));
        let some = combinations(&t, 5);
        assert_eq!((some.choices.len(), some.sampled), (5, true));
        assert!(
            some.choices.iter().any(|c| c.ifs == [true, true]) && some.choices.iter().any(|c| c.ifs == [false, false])
        );
        assert_eq!(all.choices[5].describe(&t), "`a` true, `b` false, `l` with 1 item(s)");
    }
}
