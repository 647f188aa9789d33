//! Shell word expansion, as far as it can be done before boot: quotes are removed, `$VAR` and
//! `${VAR}` (and `${VAR:-default}`) are resolved from assignments made earlier in the same script
//! when those are static, template tokens stay as their template text, and anything that only
//! exists at run time (`$(curl …)`, an unknown variable, arithmetic) is kept as its source text
//! and marked, so the translator can report it instead of guessing.

use super::template::{self, Prepared};
use brush_parser::word::{Parameter, ParameterExpr, WordPiece, WordPieceWithSource};
/// foldhash rather than SipHash: a conversion looks up variables some fifty thousand times, and
/// foldhash is randomly seeded too, so a crafted script cannot force collisions.
type HashMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// Known before boot.
    Static(String),
    /// Contains template text (`${cluster_name}`, `%s`) that a renderer fills in later; emitted
    /// as is.
    Template(String),
    /// Only known at boot; `text` is the shell source, `why` names what is dynamic.
    Runtime { text: String, why: String },
}

impl Value {
    pub fn text(&self) -> &str {
        match self {
            Value::Static(s) | Value::Template(s) => s,
            Value::Runtime { text, .. } => text,
        }
    }
    pub fn is_runtime(&self) -> bool {
        matches!(self, Value::Runtime { .. })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Var {
    pub value: Value,
    pub exported: bool,
}

/// Variables known at a point of the script.
#[derive(Debug, Clone, Default)]
pub struct Env {
    vars: HashMap<String, Var>,
    /// Expand a variable whose value is only known at boot to that value's text (what a script
    /// run over it would see, unknowns and all), not to the `$NAME` that refers to it.
    pub inline_runtime: bool,
    /// A variable the script never set expands to nothing, as it does in cloud-init's
    /// environment (used for what a command writes to a file).
    pub unset_empty: bool,
}

impl Env {
    pub fn get(&self, name: &str) -> Option<&Var> {
        self.vars.get(name)
    }
    pub fn set(&mut self, name: &str, value: Value, exported: bool) {
        let exported = exported || self.vars.get(name).is_some_and(|v| v.exported);
        self.vars.insert(name.to_string(), Var { value, exported });
    }
    pub fn export(&mut self, name: &str) {
        if let Some(v) = self.vars.get_mut(name) {
            v.exported = true;
        }
    }
    /// The variable's value is known to differ between paths (set in a branch).
    pub fn set_dynamic(&mut self, name: &str, why: String) {
        let exported = self.vars.get(name).is_some_and(|v| v.exported);
        self.vars.insert(name.to_string(), Var { value: Value::Runtime { text: format!("${name}"), why }, exported });
    }
    pub fn exported(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.vars.iter().filter(|(_, v)| v.exported).map(|(k, v)| (k.as_str(), &v.value))
    }
}

#[derive(Default)]
struct Acc {
    text: String,
    template: bool,
    runtime: Option<String>,
    /// Byte ranges of `text` that came from unquoted expansions: bash splits them into fields
    /// at IFS whitespace.
    splittable: Vec<(usize, usize)>,
    /// The word had a quoted piece, so an empty result is still one (empty) field.
    quoted: bool,
}

impl Acc {
    fn push_expansion(&mut self, s: &str, quoted: bool) {
        let start = self.text.len();
        self.text.push_str(s);
        if !quoted {
            self.splittable.push((start, self.text.len()));
        }
    }
}

fn pieces(acc: &mut Acc, list: &[WordPieceWithSource], env: &Env, prepared: &Prepared, source: &str, quoted: bool) {
    for p in list {
        let raw = source.get(p.start_index..p.end_index).unwrap_or_default();
        match &p.piece {
            WordPiece::Text(s) => {
                if s.contains(template::MARK) {
                    acc.template = true;
                }
                acc.text.push_str(&prepared.restore(s));
            }
            WordPiece::SingleQuotedText(s) | WordPiece::AnsiCQuotedText(s) => {
                acc.quoted = true;
                if s.contains(template::MARK) {
                    acc.template = true;
                }
                acc.text.push_str(&prepared.restore(s));
            }
            WordPiece::EscapeSequence(s) => acc.text.push_str(s.strip_prefix('\\').unwrap_or(s)),
            WordPiece::DoubleQuotedSequence(inner) | WordPiece::GettextDoubleQuotedSequence(inner) => {
                acc.quoted = true;
                pieces(acc, inner, env, prepared, source, true)
            }
            WordPiece::TildeExpansion(_) => acc.text.push('~'),
            WordPiece::ParameterExpansion(expr) => {
                let (name, default) = match expr {
                    ParameterExpr::Parameter { parameter: Parameter::Named(n), indirect: false } => (Some(n), None),
                    ParameterExpr::UseDefaultValues {
                        parameter: Parameter::Named(n),
                        indirect: false,
                        default_value,
                        ..
                    } => (Some(n), Some(default_value.clone().unwrap_or_default())),
                    _ => (None, None),
                };
                match (name.and_then(|n| env.get(n)), default, name) {
                    (Some(var), _, _) => match &var.value {
                        Value::Static(s) => acc.push_expansion(s, quoted),
                        Value::Template(s) => {
                            acc.template = true;
                            acc.text.push_str(s);
                        }
                        Value::Runtime { why, text } => {
                            acc.runtime.get_or_insert_with(|| why.clone());
                            if env.inline_runtime {
                                acc.text.push_str(text);
                            } else {
                                acc.text.push_str(&prepared.restore(raw));
                            }
                        }
                    },
                    // `${vpc-cidr}`: Terraform allows `-` in a variable's name, so in a template
                    // this is one input, not bash's "`$vpc`, else `cidr`".
                    (None, Some(default), Some(n))
                        if prepared.restore(raw) == format!("${{{n}-{default}}}")
                            && n.chars().any(|c| c.is_ascii_lowercase())
                            && default
                                .chars()
                                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '_' | '-')) =>
                    {
                        acc.template = true;
                        acc.text.push_str(&prepared.restore(raw));
                    }
                    (None, Some(default), _) => {
                        // The default is itself a word: `${A:-$B}` expands `$B`.
                        let inner = if default.contains('$') {
                            expand(&default, env, prepared)
                        } else {
                            Value::Static(prepared.restore(&default))
                        };
                        match &inner {
                            Value::Runtime { why, .. } => {
                                acc.runtime.get_or_insert_with(|| why.clone());
                            }
                            Value::Template(_) => acc.template = true,
                            Value::Static(_) => {}
                        }
                        acc.push_expansion(inner.text(), quoted)
                    }
                    // `${cluster_name}` that nothing in the script sets: a template input the
                    // renderer filled in (Terraform, Helm) in a file that did not read as a
                    // template; the rendered user data had its value.
                    (None, None, Some(n))
                        if prepared.restore(raw).starts_with("${")
                            && n.chars().any(|c| c.is_ascii_lowercase())
                            && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') =>
                    {
                        acc.template = true;
                        acc.text.push_str(&prepared.restore(raw));
                    }
                    (None, None, Some(_)) if env.unset_empty => {}
                    (None, None, Some(n)) => {
                        acc.runtime.get_or_insert_with(|| format!("`${n}` is not set earlier in the script"));
                        acc.text.push_str(&prepared.restore(raw));
                    }
                    (None, None, None) => {
                        acc.runtime.get_or_insert_with(|| format!("`{}` is only known at boot", prepared.restore(raw)));
                        acc.text.push_str(&prepared.restore(raw));
                    }
                }
            }
            WordPiece::CommandSubstitution(_) | WordPiece::BackquotedCommandSubstitution(_) => {
                acc.runtime.get_or_insert_with(|| format!("`{}` runs a command at boot", prepared.restore(raw)));
                acc.text.push_str(&prepared.restore(raw));
            }
            WordPiece::ArithmeticExpression(_) => {
                acc.runtime.get_or_insert_with(|| format!("`{}` is computed at boot", prepared.restore(raw)));
                acc.text.push_str(&prepared.restore(raw));
            }
        }
    }
}

fn accumulate(parsed: &str, env: &Env, prepared: &Prepared) -> Result<Acc, Value> {
    if let Some(acc) = literal(parsed, prepared) {
        return Ok(acc);
    }
    let options = brush_parser::ParserOptions::default();
    let Ok(ps) = brush_parser::word::parse(parsed, &options) else {
        return Err(Value::Runtime { text: prepared.restore(parsed), why: "the word does not parse".into() });
    };
    let mut acc = Acc::default();
    pieces(&mut acc, &ps, env, prepared, parsed, false);
    Ok(acc)
}

/// A word with nothing to expand: plain text, or one single- or double-quoted string without
/// `$`, backslashes or backquotes. Most words are, and brush-parser's word parser costs more
/// than the rest of their reading; the result is what [`pieces`] makes of its one text piece
/// (checked against it in the tests).
fn literal(parsed: &str, prepared: &Prepared) -> Option<Acc> {
    let special = |b: u8| matches!(b, b'$' | b'\\' | b'`' | b'\'' | b'"');
    let bytes = parsed.as_bytes();
    let (inner, quoted) = match bytes {
        [b'\'', inner @ .., b'\''] if !inner.contains(&b'\'') => (parsed.get(1..parsed.len() - 1)?, true),
        [b'"', inner @ .., b'"'] if !inner.iter().any(|&b| special(b)) => (parsed.get(1..parsed.len() - 1)?, true),
        _ if !bytes.iter().any(|&b| special(b) || b == b'~') => (parsed, false),
        _ => return None,
    };
    let template = inner.contains(template::MARK);
    Some(Acc { text: prepared.restore(inner), template, quoted, ..Acc::default() })
}

fn classify(text: String, template: bool, runtime: Option<String>) -> Value {
    // Literal `${…}` that survived shell expansion (single quotes) is template text for a
    // renderer (Terraform's templatefile without escapes, for example).
    let literal_placeholder = text.contains("${") && text.contains('}');
    match runtime {
        Some(why) => Value::Runtime { text, why },
        None if template || literal_placeholder || template::has_printf_verb(&text) => Value::Template(text),
        None => Value::Static(text),
    }
}

/// Expands one word as the shell would, as far as that is possible before boot, without field
/// splitting (assignments, redirection targets, heredoc bodies: places bash does not split).
pub fn expand(parsed: &str, env: &Env, prepared: &Prepared) -> Value {
    match accumulate(parsed, env, prepared) {
        Ok(acc) => classify(acc.text, acc.template, acc.runtime),
        Err(v) => v,
    }
}

/// Expands one command argument as bash does, field splitting included: the parts of an
/// unquoted `$VAR` holding `--a=1 --b=2` become separate arguments, and an unquoted empty
/// expansion disappears (bash(1) "Word Splitting"; the default IFS of a user script is space,
/// tab and newline). Each field carries whether it came from such a split.
pub fn expand_fields(parsed: &str, env: &Env, prepared: &Prepared) -> Vec<Field> {
    let acc = match accumulate(parsed, env, prepared) {
        Ok(acc) => acc,
        Err(v) => return vec![Field { value: v, split: false }],
    };
    let ifs = |c: char| matches!(c, ' ' | '\t' | '\n');
    let splits_here = |i: usize| acc.splittable.iter().any(|(s, e)| *s <= i && i < *e);
    let mut fields: Vec<String> = Vec::new();
    let mut cur = String::new();
    let mut open = false;
    for (i, c) in acc.text.char_indices() {
        if ifs(c) && splits_here(i) {
            if open {
                fields.push(std::mem::take(&mut cur));
                open = false;
            }
            continue;
        }
        cur.push(c);
        open = true;
    }
    if open {
        fields.push(cur);
    }
    if fields.is_empty() {
        if !acc.quoted && !acc.splittable.is_empty() && acc.runtime.is_none() {
            return Vec::new();
        }
        fields.push(String::new());
    }
    let split = fields.len() > 1;
    fields.into_iter().map(|f| Field { value: classify(f, acc.template, acc.runtime.clone()), split }).collect()
}

/// One argument after field splitting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    pub value: Value,
    /// The word was split into several fields (an unquoted expansion holding whitespace).
    pub split: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::al2::template::{Syntax, prepare};

    fn ex(word: &str, env: &Env) -> Value {
        expand(word, env, &prepare("", Syntax::None))
    }

    #[test]
    fn literal_words_read_as_brush_parser_pieces_read_them() {
        let prepared = prepare("echo ${cluster_name} x", Syntax::Terraform);
        let mark = format!("{}0X", template::MARK);
        let words = [
            "plain",
            "--node-labels=a=b,c=d",
            "/etc/eks/bootstrap.sh",
            "a*b?[c]",
            "{a,b}",
            "'single $x \\ \"'",
            "\"double quoted\"",
            "\"\"",
            "''",
            "ümlaut",
            "a#b",
            "%s",
            "'--kubelet-extra-args'",
            &mark,
            "\"with {} braces\"",
            "x=y",
            "-",
            "'a'b",
            "\"a\"b",
            "~",
            "~/x",
            "\"~\"",
            "a~b",
        ];
        let options = brush_parser::ParserOptions::default();
        for w in words {
            let Some(fast) = literal(w, &prepared) else { continue };
            let ps = brush_parser::word::parse(w, &options).unwrap();
            let mut slow = Acc::default();
            pieces(&mut slow, &ps, &Env::default(), &prepared, w, false);
            assert_eq!(
                (fast.text, fast.template, fast.quoted, fast.runtime, fast.splittable),
                (slow.text, slow.template, slow.quoted, slow.runtime, slow.splittable),
                "{w}"
            );
        }
        assert!(literal("$X", &prepared).is_none() && literal("\"$X\"", &prepared).is_none());
        assert!(literal("a\\ b", &prepared).is_none() && literal("'a'b", &prepared).is_none());
    }

    #[test]
    fn quotes_and_variables() {
        let mut env = Env::default();
        env.set("CA", Value::Static("Y2E=".into()), false);
        env.set("NAME", Value::Template("${cluster}".into()), true);
        assert_eq!(ex("'a b'", &env), Value::Static("a b".into()));
        assert_eq!(ex("\"--x=$CA\"", &env), Value::Static("--x=Y2E=".into()));
        assert_eq!(ex("${CA}", &env), Value::Static("Y2E=".into()));
        assert_eq!(ex("pre\\$x", &env), Value::Static("pre$x".into()));
        assert_eq!(ex("$NAME", &env), Value::Template("${cluster}".into()));
        assert_eq!(ex("${MISSING:-dflt}", &env), Value::Static("dflt".into()));
        assert!(matches!(ex("$MISSING", &env), Value::Runtime { ref text, .. } if text == "$MISSING"));
        assert!(matches!(ex("\"$(curl -s http://169.254.169.254/x)\"", &env), Value::Runtime { .. }));
        assert_eq!(ex("'%s'", &env), Value::Template("%s".into()));
    }

    fn fields(word: &str, env: &Env) -> Vec<String> {
        expand_fields(word, env, &prepare("", Syntax::None)).into_iter().map(|f| f.value.text().to_string()).collect()
    }

    #[test]
    fn unquoted_expansions_split_into_fields() {
        let mut env = Env::default();
        env.set("ARGS", Value::Static("--kubelet-extra-args --a=1  --b=2".into()), false);
        env.set("EMPTY", Value::Static(String::new()), false);
        assert_eq!(fields("$ARGS", &env), ["--kubelet-extra-args", "--a=1", "--b=2"]);
        assert_eq!(fields("\"$ARGS\"", &env), ["--kubelet-extra-args --a=1  --b=2"]);
        assert_eq!(fields("x$ARGS", &env), ["x--kubelet-extra-args", "--a=1", "--b=2"]);
        assert_eq!(fields("'a b'$EMPTY", &env), ["a b"]);
        assert!(fields("$EMPTY", &env).is_empty(), "an unquoted empty expansion is no argument");
        assert_eq!(fields("\"$EMPTY\"", &env), [""]);
        assert_eq!(fields("${UNSET:-a b}", &env), ["a", "b"]);
        assert_eq!(fields("'--x=a b'", &env), ["--x=a b"]);
        assert!(expand_fields("$ARGS", &env, &prepare("", Syntax::None))[0].split);
    }

    #[test]
    fn template_placeholders_restore() {
        let p = prepare("--b64-cluster-ca ${ca}", Syntax::Terraform);
        let word = p.text.split(' ').nth(1).unwrap();
        assert_eq!(expand(word, &Env::default(), &p), Value::Template("${ca}".into()));
        let p = prepare("\"--node-labels=${labels},x=y\"", Syntax::Terraform);
        assert_eq!(expand(&p.text, &Env::default(), &p), Value::Template("--node-labels=${labels},x=y".into()));
    }
}
