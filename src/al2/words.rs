//! Shell word expansion, as far as it can be done before boot: quotes are removed, `$VAR` and
//! `${VAR}` (and `${VAR:-default}`) are resolved from assignments made earlier in the same script
//! when those are static, template tokens stay as their template text, and anything that only
//! exists at run time (`$(curl …)`, an unknown variable, arithmetic) is kept as its source text
//! and marked, so the translator can report it instead of guessing.

use super::template::{self, Prepared};
use brush_parser::word::{Parameter, ParameterExpr, WordPiece, WordPieceWithSource};
use std::collections::HashMap;

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
}

fn pieces(acc: &mut Acc, list: &[WordPieceWithSource], env: &Env, prepared: &Prepared, source: &str) {
    for p in list {
        let raw = source.get(p.start_index..p.end_index).unwrap_or_default();
        match &p.piece {
            WordPiece::Text(s) | WordPiece::SingleQuotedText(s) | WordPiece::AnsiCQuotedText(s) => {
                if s.contains(template::MARK) {
                    acc.template = true;
                }
                acc.text.push_str(&prepared.restore(s));
            }
            WordPiece::EscapeSequence(s) => acc.text.push_str(s.strip_prefix('\\').unwrap_or(s)),
            WordPiece::DoubleQuotedSequence(inner) | WordPiece::GettextDoubleQuotedSequence(inner) => {
                pieces(acc, inner, env, prepared, source)
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
                        Value::Static(s) => acc.text.push_str(s),
                        Value::Template(s) => {
                            acc.template = true;
                            acc.text.push_str(s);
                        }
                        Value::Runtime { why, .. } => {
                            acc.runtime.get_or_insert_with(|| why.clone());
                            acc.text.push_str(&prepared.restore(raw));
                        }
                    },
                    (None, Some(default), _) => acc.text.push_str(&prepared.restore(&default)),
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

/// Expands one word as the shell would, as far as that is possible before boot.
pub fn expand(parsed: &str, env: &Env, prepared: &Prepared) -> Value {
    let options = brush_parser::ParserOptions::default();
    let Ok(ps) = brush_parser::word::parse(parsed, &options) else {
        return Value::Runtime { text: prepared.restore(parsed), why: "the word does not parse".into() };
    };
    let mut acc = Acc::default();
    pieces(&mut acc, &ps, env, prepared, parsed);
    // Literal `${…}` that survived shell expansion (single quotes) is template text for a
    // renderer (Terraform's templatefile without escapes, for example).
    let literal_placeholder = acc.text.contains("${") && acc.text.contains('}');
    match acc.runtime {
        Some(why) => Value::Runtime { text: acc.text, why },
        None if acc.template || literal_placeholder || template::has_printf_verb(&acc.text) => {
            Value::Template(acc.text)
        }
        None => Value::Static(acc.text),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::al2::template::{Syntax, prepare};

    fn ex(word: &str, env: &Env) -> Value {
        expand(word, env, &prepare("", Syntax::None))
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

    #[test]
    fn template_placeholders_restore() {
        let p = prepare("--b64-cluster-ca ${ca}", Syntax::Terraform);
        let word = p.text.split(' ').nth(1).unwrap();
        assert_eq!(expand(word, &Env::default(), &p), Value::Template("${ca}".into()));
        let p = prepare("\"--node-labels=${labels},x=y\"", Syntax::Terraform);
        assert_eq!(expand(&p.text, &Env::default(), &p), Value::Template("--node-labels=${labels},x=y".into()));
    }
}
