//! Values a user has for a template's variables (issue #14): `--var NAME=VALUE` and
//! `--var-file FILE` in terraform's own forms (`.tfvars`: `name = value` in HCL; `.tfvars.json`:
//! one JSON object), and the small part of terraform's expression language a template's
//! conditions and interpolations mostly use: a variable (bare, as `templatefile()` passes them,
//! or `var.name`), literals, `!`, `==`, `!=`, `&&`, `||`, `<`/`>`/`<=`/`>=` on numbers and
//! `length(…)`. Anything else is unknown, and the template keeps both ways (or the placeholder)
//! there; a value is never guessed.

use serde_json::Value;
use std::collections::BTreeMap;

pub type Vars = BTreeMap<String, Value>;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{what}")]
pub struct VarsError {
    pub what: String,
}

fn err(what: impl Into<String>) -> VarsError {
    VarsError { what: what.into() }
}

/// `NAME=VALUE` as `-var` takes it: the value is a string unless it is written as an HCL list or
/// object (`["a", "b"]`, `{ a = 1 }`), which terraform parses for such variables.
pub fn parse_var(s: &str) -> Result<(String, Value), VarsError> {
    let (name, value) = s.split_once('=').ok_or_else(|| err(format!("`{s}`: expected NAME=VALUE")))?;
    let name = name.trim();
    if !is_ident(name) {
        return Err(err(format!("`{name}` is not a variable name")));
    }
    let v = if value.trim_start().starts_with(['[', '{']) {
        let mut p = Hcl { s: value.as_bytes(), i: 0 };
        let v = p.value()?;
        p.ws();
        if p.i != p.s.len() {
            return Err(err(format!("`{s}`: unexpected text after the value")));
        }
        v
    } else {
        Value::String(value.to_string())
    };
    Ok((name.to_string(), v))
}

/// A `.tfvars.json` object, a `.tfvars` file, or CloudFormation parameters, by content: JSON
/// starts with `{` or `[`. CloudFormation's forms are the `--parameters` list
/// (`[{"ParameterKey": …, "ParameterValue": …}]`, a `UsePreviousValue` entry says nothing here),
/// `--parameter-overrides`' `["Key=Value"]`, and a template configuration file
/// (`{"Parameters": {…}}`, with `Tags` or `StackPolicy` beside it).
pub fn parse_file(text: &str) -> Result<Vars, VarsError> {
    let head = text.trim_start();
    if head.starts_with('{') || head.starts_with('[') {
        return match serde_json::from_str::<Value>(text) {
            Ok(Value::Object(m)) if is_stack_configuration(&m) => match m.get("Parameters") {
                Some(Value::Object(p)) => Ok(p.iter().map(|(k, v)| (k.clone(), v.clone())).collect()),
                _ => Err(err("`Parameters` in a template configuration file is an object of names and values")),
            },
            Ok(Value::Object(m)) => Ok(m.into_iter().collect()),
            Ok(Value::Array(items)) => cloudformation_parameters(&items),
            Ok(_) => Err(err("expected a JSON object (.tfvars.json) or list (CloudFormation parameters)")),
            Err(e) => Err(err(format!("not valid JSON: {e}"))),
        };
    }
    let mut p = Hcl { s: text.as_bytes(), i: 0 };
    let mut out = Vars::new();
    loop {
        p.ws();
        if p.i >= p.s.len() {
            return Ok(out);
        }
        let name = p.ident().ok_or_else(|| err(format!("expected a variable name at byte {}", p.i)))?;
        p.ws();
        if !p.eat(b'=') {
            return Err(err(format!("expected `=` after `{name}` at byte {}", p.i)));
        }
        let v = p.value()?;
        out.insert(name, v);
    }
}

fn is_stack_configuration(m: &serde_json::Map<String, Value>) -> bool {
    m.contains_key("Parameters") && m.keys().all(|k| ["Parameters", "Tags", "StackPolicy"].contains(&k.as_str()))
}

fn cloudformation_parameters(items: &[Value]) -> Result<Vars, VarsError> {
    let mut out = Vars::new();
    for (i, item) in items.iter().enumerate() {
        match item {
            Value::String(kv) => {
                let (k, v) =
                    kv.split_once('=').ok_or_else(|| err(format!("item {}: `{kv}`: expected Key=Value", i + 1)))?;
                out.insert(k.to_string(), Value::String(v.to_string()));
            }
            Value::Object(m) => {
                let Some(Value::String(k)) = m.get("ParameterKey") else {
                    return Err(err(format!("item {}: expected a `ParameterKey` string", i + 1)));
                };
                match m.get("ParameterValue") {
                    Some(Value::String(v)) => {
                        out.insert(k.clone(), Value::String(v.clone()));
                    }
                    // `UsePreviousValue`: the stack's current value, which this file does not hold.
                    None if m.get("UsePreviousValue") == Some(&Value::Bool(true)) => {}
                    _ => return Err(err(format!("item {} (`{k}`): expected a `ParameterValue` string", i + 1))),
                }
            }
            _ => return Err(err(format!("item {}: expected a Key=Value string or a ParameterKey object", i + 1))),
        }
    }
    Ok(out)
}

fn is_ident(s: &str) -> bool {
    s.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// The HCL literal values a `.tfvars` file holds: strings, numbers, booleans, null, lists and
/// objects, with `#`, `//` and `/* */` comments.
struct Hcl<'a> {
    s: &'a [u8],
    i: usize,
}

impl Hcl<'_> {
    fn ws(&mut self) {
        loop {
            match self.s.get(self.i) {
                Some(c) if c.is_ascii_whitespace() || *c == b',' => self.i += 1,
                Some(b'#') => self.skip_line(),
                Some(b'/') if self.s.get(self.i + 1) == Some(&b'/') => self.skip_line(),
                Some(b'/') if self.s.get(self.i + 1) == Some(&b'*') => {
                    let end = self.s.get(self.i + 2..).and_then(|r| r.windows(2).position(|w| w == b"*/"));
                    self.i = end.map_or(self.s.len(), |e| self.i + 2 + e + 2);
                }
                _ => return,
            }
        }
    }

    fn skip_line(&mut self) {
        while self.s.get(self.i).is_some_and(|c| *c != b'\n') {
            self.i += 1;
        }
    }

    fn eat(&mut self, c: u8) -> bool {
        let hit = self.s.get(self.i) == Some(&c);
        self.i += usize::from(hit);
        hit
    }

    fn ident(&mut self) -> Option<String> {
        let start = self.i;
        while self.s.get(self.i).is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_' || *c == b'-') {
            self.i += 1;
        }
        let id = std::str::from_utf8(self.s.get(start..self.i)?).ok()?.to_string();
        if is_ident(&id) {
            return Some(id);
        }
        self.i = start;
        None
    }

    fn value(&mut self) -> Result<Value, VarsError> {
        self.ws();
        match self.s.get(self.i) {
            Some(b'"') => self.string().map(Value::String),
            Some(b'[') => {
                self.i += 1;
                let mut items = Vec::new();
                loop {
                    self.ws();
                    if self.eat(b']') {
                        return Ok(Value::Array(items));
                    }
                    if self.i >= self.s.len() {
                        return Err(err("a list is never closed"));
                    }
                    items.push(self.value()?);
                }
            }
            Some(b'{') => {
                self.i += 1;
                let mut m = serde_json::Map::new();
                loop {
                    self.ws();
                    if self.eat(b'}') {
                        return Ok(Value::Object(m));
                    }
                    let key = match self.s.get(self.i) {
                        Some(b'"') => self.string()?,
                        _ => self.ident().ok_or_else(|| err(format!("expected a key at byte {}", self.i)))?,
                    };
                    self.ws();
                    if !self.eat(b'=') && !self.eat(b':') {
                        return Err(err(format!("expected `=` after `{key}`")));
                    }
                    let v = self.value()?;
                    m.insert(key, v);
                }
            }
            _ => {
                let word = self.ident().unwrap_or_default();
                match word.as_str() {
                    "true" => Ok(Value::Bool(true)),
                    "false" => Ok(Value::Bool(false)),
                    "null" => Ok(Value::Null),
                    _ => self.number(&word),
                }
            }
        }
    }

    fn number(&mut self, word: &str) -> Result<Value, VarsError> {
        let start = self.i - word.len();
        while self.s.get(self.i).is_some_and(|c| c.is_ascii_digit() || matches!(c, b'.' | b'-' | b'+' | b'e' | b'E')) {
            self.i += 1;
        }
        let text = std::str::from_utf8(self.s.get(start..self.i).unwrap_or_default()).unwrap_or_default();
        if let Ok(n) = text.parse::<i64>() {
            return Ok(Value::from(n));
        }
        text.parse::<f64>().ok().and_then(serde_json::Number::from_f64).map(Value::Number).ok_or_else(|| {
            err(format!("`{text}` is not a value this reader knows (string, number, bool, null, list, object)"))
        })
    }

    fn string(&mut self) -> Result<String, VarsError> {
        self.i += 1;
        let mut out = Vec::new();
        loop {
            match self.s.get(self.i) {
                None | Some(b'\n') => return Err(err("a string is never closed")),
                Some(b'"') => {
                    self.i += 1;
                    return String::from_utf8(out).map_err(|_| err("a string is not UTF-8"));
                }
                Some(b'\\') => {
                    let c = self.s.get(self.i + 1).copied().unwrap_or(b'\\');
                    out.push(match c {
                        b'n' => b'\n',
                        b't' => b'\t',
                        b'r' => b'\r',
                        other => other,
                    });
                    self.i += 2;
                }
                Some(c) => {
                    out.push(*c);
                    self.i += 1;
                }
            }
        }
    }
}

/// The value of `expr` with `vars`, when this evaluator can be sure of it.
pub fn eval(expr: &str, vars: &Vars) -> Option<Value> {
    let tokens = tokens(expr)?;
    let mut e = Eval { t: &tokens, i: 0, vars };
    let v = e.or()?;
    (e.i == tokens.len()).then_some(v)
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    Str(String),
    Num(f64),
    Op(&'static str),
}

fn tokens(s: &str) -> Option<Vec<Tok>> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        if c == b'"' {
            let mut p = Hcl { s: b, i };
            let text = p.string().ok()?;
            if text.contains("${") || text.contains("%{") {
                return None;
            }
            out.push(Tok::Str(text));
            i = p.i;
            continue;
        }
        if c.is_ascii_digit() {
            let start = i;
            while b.get(i).is_some_and(|c| c.is_ascii_digit() || *c == b'.') {
                i += 1;
            }
            out.push(Tok::Num(s.get(start..i)?.parse().ok()?));
            continue;
        }
        if c.is_ascii_alphabetic() || c == b'_' {
            let start = i;
            while b.get(i).is_some_and(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'.')) {
                i += 1;
            }
            out.push(Tok::Ident(s.get(start..i)?.to_string()));
            continue;
        }
        let two = s.get(i..i + 2).unwrap_or_default();
        let op = ["==", "!=", "&&", "||", "<=", ">="].into_iter().find(|o| *o == two);
        if let Some(op) = op {
            out.push(Tok::Op(op));
            i += 2;
            continue;
        }
        let one = ["!", "<", ">", "(", ")", ","].into_iter().find(|o| o.as_bytes().first() == Some(&c))?;
        out.push(Tok::Op(one));
        i += 1;
    }
    Some(out)
}

struct Eval<'a> {
    t: &'a [Tok],
    i: usize,
    vars: &'a Vars,
}

impl Eval<'_> {
    fn op(&mut self, op: &str) -> bool {
        let hit = matches!(self.t.get(self.i), Some(Tok::Op(o)) if *o == op);
        self.i += usize::from(hit);
        hit
    }

    fn or(&mut self) -> Option<Value> {
        let mut v = self.and()?;
        while self.op("||") {
            let r = self.and()?;
            v = Value::Bool(truth(&v)? || truth(&r)?);
        }
        Some(v)
    }

    fn and(&mut self) -> Option<Value> {
        let mut v = self.cmp()?;
        while self.op("&&") {
            let r = self.cmp()?;
            v = Value::Bool(truth(&v)? && truth(&r)?);
        }
        Some(v)
    }

    fn cmp(&mut self) -> Option<Value> {
        let l = self.unary()?;
        for op in ["==", "!=", "<=", ">=", "<", ">"] {
            if self.op(op) {
                let r = self.unary()?;
                return Some(Value::Bool(match op {
                    "==" => l == r,
                    "!=" => l != r,
                    _ => {
                        let (a, b) = (number(&l)?, number(&r)?);
                        match op {
                            "<=" => a <= b,
                            ">=" => a >= b,
                            "<" => a < b,
                            _ => a > b,
                        }
                    }
                }));
            }
        }
        Some(l)
    }

    fn unary(&mut self) -> Option<Value> {
        if self.op("!") {
            return Some(Value::Bool(!truth(&self.unary()?)?));
        }
        if self.op("(") {
            let v = self.or()?;
            return self.op(")").then_some(v);
        }
        let tok = self.t.get(self.i)?.clone();
        self.i += 1;
        match tok {
            Tok::Str(s) => Some(Value::String(s)),
            Tok::Num(n) => serde_json::Number::from_f64(n).map(|n| {
                // Whole numbers compare equal to the integers a .tfvars file gives.
                n.as_f64()
                    .filter(|f| f.fract() == 0.0 && f.abs() < 1e15)
                    .map_or(Value::Number(n), |f| Value::from(f as i64))
            }),
            // `try(a, b, …)` is `a` when `a` evaluates; an argument that fails in terraform is
            // an unknown one here, so a `try` is known only through its first argument.
            Tok::Ident(id) if id == "try" && self.op("(") => {
                let v = self.or()?;
                let mut depth = 1usize;
                while depth > 0 {
                    match self.t.get(self.i)? {
                        Tok::Op("(") => depth += 1,
                        Tok::Op(")") => depth -= 1,
                        _ => {}
                    }
                    self.i += 1;
                }
                Some(v)
            }
            Tok::Ident(id) if id == "true" => Some(Value::Bool(true)),
            Tok::Ident(id) if id == "false" => Some(Value::Bool(false)),
            Tok::Ident(id) if id == "length" && self.op("(") => {
                let v = self.or()?;
                if !self.op(")") {
                    return None;
                }
                let n = match &v {
                    Value::String(s) => s.chars().count(),
                    Value::Array(a) => a.len(),
                    Value::Object(m) => m.len(),
                    _ => return None,
                };
                Some(Value::from(n as i64))
            }
            Tok::Ident(id) => self.vars.get(id.strip_prefix("var.").unwrap_or(&id)).cloned(),
            Tok::Op(_) => None,
        }
    }
}

/// A value as a condition: HCL converts the strings `true` and `false` (what `--var x=true`
/// gives) to booleans.
pub fn truth(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        Value::String(s) if s == "true" => Some(true),
        Value::String(s) if s == "false" => Some(false),
        _ => None,
    }
}

/// A value as a number: HCL converts numeric strings for `<`, `>`.
fn number(v: &Value) -> Option<f64> {
    match v {
        Value::String(s) => s.parse().ok(),
        other => other.as_f64(),
    }
}

/// How terraform writes a value into a template: strings as they are, numbers and booleans
/// in their literal form; lists and objects cannot be interpolated.
pub fn as_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_tfvars_and_json_and_var_flags() {
        let v = parse_file("# c\nname = \"a\\\"b\" // c\nn = 3\non = true\nl = [\"x\", \"y\",]\nm = {\n  k = 1\n  \"q\" = [ ]\n}\n/* x */").unwrap();
        assert_eq!(
            Value::Object(v.into_iter().collect()),
            json!({"name": "a\"b", "n": 3, "on": true, "l": ["x", "y"], "m": {"k": 1, "q": []}})
        );
        assert_eq!(parse_file("{\"a\": [1]}").unwrap().get("a"), Some(&json!([1])));
        assert_eq!(parse_var("a=b=c").unwrap(), ("a".into(), json!("b=c")));
        assert_eq!(parse_var("l=[\"x\"]").unwrap(), ("l".into(), json!(["x"])));
        // CloudFormation's three parameter files.
        let cfn = parse_file(
            r#"[{"ParameterKey": "A", "ParameterValue": "1"}, {"ParameterKey": "B", "UsePreviousValue": true}]"#,
        );
        assert_eq!(cfn.unwrap().into_iter().collect::<Vec<_>>(), vec![("A".into(), json!("1"))]);
        assert_eq!(parse_file(r#"["A=x=y"]"#).unwrap().get("A"), Some(&json!("x=y")));
        let conf = parse_file(r#"{"Parameters": {"A": "1"}, "Tags": {"t": "v"}}"#).unwrap();
        assert_eq!(conf.into_iter().collect::<Vec<_>>(), vec![("A".into(), json!("1"))]);
        assert!(
            parse_file(r#"[{"ParameterKey": "A"}]"#).is_err()
                && parse_file(r#"["A"]"#).is_err()
                && parse_file("3").is_err()
        );
        assert!(parse_file("a = \n").is_err() && parse_var("noequals").is_err() && parse_file("x = [1").is_err());
    }

    #[test]
    fn evaluates_what_it_can_and_nothing_else() {
        let vars: Vars =
            [("on", json!(true)), ("name", json!("x")), ("pre", json!("")), ("l", json!(["a"])), ("n", json!(3))]
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect();
        assert_eq!(eval("on", &vars), Some(json!(true)));
        assert_eq!(eval("!var.on || n > 2", &vars), Some(json!(true)));
        assert_eq!(eval("length(pre) > 0", &vars), Some(json!(false)));
        assert_eq!(eval("length(l) == 1 && name != \"y\"", &vars), Some(json!(true)));
        assert_eq!(eval("n == 3", &vars), Some(json!(true)));
        let given: Vars = [("on".to_string(), json!("false")), ("n".to_string(), json!("4"))].into_iter().collect();
        assert_eq!(eval("!on && n > 3", &given), Some(json!(true)));
        assert_eq!(truth(&json!("true")), Some(true));
        // `try` through its first argument (a second reader's real template used it).
        assert_eq!(eval("try(length(l), 0) > 0", &vars), Some(json!(true)));
        assert_eq!(eval("try(length(pre), 0) > 0 && on", &vars), Some(json!(false)));
        for unknown in [
            "missing",
            "upper(name)",
            "on ? 1 : 2",
            "\"${name}\"",
            "name[0]",
            "length(missing) > 0",
            "try(length(missing), 0) > 0",
            "f(a, b)",
        ] {
            assert_eq!(eval(unknown, &vars), None, "{unknown}");
        }
    }
}
