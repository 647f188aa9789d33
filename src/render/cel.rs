//! The subset of CEL that nodeadm's `spec.kubelet.maxPodsExpression` uses (docs §5.2): integer
//! arithmetic over `default_enis`, `ips_per_eni` and `max_pods`, comparisons, `&&`/`||`/`!` and
//! the `?:` conditional. nodeadm treats an expression that does not compile, is not an integer,
//! or is ≤ 0 or > MaxInt32 as a warning and falls back to the standard value; [`evaluate`]
//! reports the same cases as errors so `render` can say which happened. Arithmetic is checked
//! (CEL errors on overflow) and nesting is bounded.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Val {
    Int(i64),
    Bool(bool),
}

impl fmt::Display for Val {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Val::Int(i) => write!(f, "{i}"),
            Val::Bool(b) => write!(f, "{b}"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vars {
    pub default_enis: i64,
    pub ips_per_eni: i64,
    pub max_pods: i64,
}

const MAX_DEPTH: usize = 64;

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
    vars: &'a Vars,
    depth: usize,
}

type R<T> = Result<T, String>;

impl Parser<'_> {
    fn ws(&mut self) {
        while self.s.get(self.i).is_some_and(|c| c.is_ascii_whitespace()) {
            self.i += 1;
        }
    }
    fn eat(&mut self, tok: &str) -> bool {
        self.ws();
        if self.s.get(self.i..).is_some_and(|rest| rest.starts_with(tok.as_bytes())) {
            self.i += tok.len();
            true
        } else {
            false
        }
    }
    fn int(v: Val, op: &str) -> R<i64> {
        match v {
            Val::Int(i) => Ok(i),
            Val::Bool(_) => Err(format!("`{op}` needs integers, got a boolean")),
        }
    }
    fn boolean(v: Val, op: &str) -> R<bool> {
        match v {
            Val::Bool(b) => Ok(b),
            Val::Int(_) => Err(format!("`{op}` needs booleans, got an integer")),
        }
    }
    fn expr(&mut self) -> R<Val> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(format!("nested more than {MAX_DEPTH} levels"));
        }
        let cond = self.or()?;
        let out = if self.eat("?") {
            let c = Self::boolean(cond, "?:")?;
            let a = self.expr()?;
            if !self.eat(":") {
                return Err("`?` without `:`".into());
            }
            let b = self.expr()?;
            if c { a } else { b }
        } else {
            cond
        };
        self.depth -= 1;
        Ok(out)
    }
    fn or(&mut self) -> R<Val> {
        let mut v = self.and()?;
        while self.eat("||") {
            let r = self.and()?;
            v = Val::Bool(Self::boolean(v, "||")? || Self::boolean(r, "||")?);
        }
        Ok(v)
    }
    fn and(&mut self) -> R<Val> {
        let mut v = self.cmp()?;
        while self.eat("&&") {
            let r = self.cmp()?;
            v = Val::Bool(Self::boolean(v, "&&")? && Self::boolean(r, "&&")?);
        }
        Ok(v)
    }
    fn cmp(&mut self) -> R<Val> {
        let l = self.add()?;
        for op in ["<=", ">=", "==", "!=", "<", ">"] {
            if self.eat(op) {
                let r = self.add()?;
                if op == "==" || op == "!=" {
                    return Ok(Val::Bool((l == r) == (op == "==")));
                }
                let (a, b) = (Self::int(l, op)?, Self::int(r, op)?);
                return Ok(Val::Bool(match op {
                    "<=" => a <= b,
                    ">=" => a >= b,
                    "<" => a < b,
                    _ => a > b,
                }));
            }
        }
        Ok(l)
    }
    fn add(&mut self) -> R<Val> {
        let mut v = self.mul()?;
        loop {
            let op = if self.eat("+") {
                "+"
            } else if self.peek_minus() {
                "-"
            } else {
                return Ok(v);
            };
            let r = self.mul()?;
            let (a, b) = (Self::int(v, op)?, Self::int(r, op)?);
            let res = if op == "+" { a.checked_add(b) } else { a.checked_sub(b) };
            v = Val::Int(res.ok_or("integer overflow")?);
        }
    }
    fn peek_minus(&mut self) -> bool {
        self.eat("-")
    }
    fn mul(&mut self) -> R<Val> {
        let mut v = self.unary()?;
        loop {
            let op = if self.eat("*") {
                "*"
            } else if self.eat("/") {
                "/"
            } else if self.eat("%") {
                "%"
            } else {
                return Ok(v);
            };
            let r = self.unary()?;
            let (a, b) = (Self::int(v, op)?, Self::int(r, op)?);
            let res = match op {
                "*" => a.checked_mul(b),
                "/" if b == 0 => return Err("division by zero".into()),
                "/" => a.checked_div(b),
                _ if b == 0 => return Err("modulus by zero".into()),
                _ => a.checked_rem(b),
            };
            v = Val::Int(res.ok_or("integer overflow")?);
        }
    }
    fn unary(&mut self) -> R<Val> {
        self.depth += 1;
        if self.depth > MAX_DEPTH * 4 {
            return Err(format!("nested more than {MAX_DEPTH} levels"));
        }
        let v = self.unary_inner();
        self.depth -= 1;
        v
    }
    fn unary_inner(&mut self) -> R<Val> {
        if self.eat("-") {
            let v = self.unary()?;
            return Ok(Val::Int(Self::int(v, "-")?.checked_neg().ok_or("integer overflow")?));
        }
        if self.eat("!") {
            let v = self.unary()?;
            return Ok(Val::Bool(!Self::boolean(v, "!")?));
        }
        self.primary()
    }
    fn primary(&mut self) -> R<Val> {
        self.ws();
        if self.eat("(") {
            let v = self.expr()?;
            if !self.eat(")") {
                return Err("missing `)`".into());
            }
            return Ok(v);
        }
        let start = self.i;
        while self.s.get(self.i).is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_') {
            self.i += 1;
        }
        let word = std::str::from_utf8(self.s.get(start..self.i).unwrap_or_default()).unwrap_or_default();
        if word.is_empty() {
            return Err(match self.s.get(self.i) {
                Some(c) => format!("unexpected `{}`", *c as char),
                None => "unexpected end of expression".into(),
            });
        }
        if let Ok(n) = word.parse::<i64>() {
            return Ok(Val::Int(n));
        }
        Ok(match word {
            "true" => Val::Bool(true),
            "false" => Val::Bool(false),
            "default_enis" => Val::Int(self.vars.default_enis),
            "ips_per_eni" => Val::Int(self.vars.ips_per_eni),
            "max_pods" => Val::Int(self.vars.max_pods),
            other => {
                return Err(format!("unknown name `{other}` (the variables are default_enis, ips_per_eni, max_pods)"));
            }
        })
    }
}

/// Evaluates a max-pods expression; `Ok` only for an integer in 1..=MaxInt32.
pub fn evaluate(expr: &str, vars: &Vars) -> Result<i64, String> {
    let mut p = Parser { s: expr.as_bytes(), i: 0, vars, depth: 0 };
    let v = p.expr()?;
    p.ws();
    if p.i < p.s.len() {
        return Err(format!("unexpected `{}`", String::from_utf8_lossy(p.s.get(p.i..).unwrap_or_default())));
    }
    match v {
        Val::Int(n) if n > 0 && n <= i64::from(i32::MAX) => Ok(n),
        Val::Int(n) => Err(format!("the result {n} is not between 1 and {}", i32::MAX)),
        Val::Bool(b) => Err(format!("the result is a boolean ({b}), not an integer")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const M5: Vars = Vars { default_enis: 3, ips_per_eni: 10, max_pods: 29 };

    #[test]
    fn evaluates_nodeadm_style_expressions() {
        assert_eq!(evaluate("max_pods", &M5), Ok(29));
        assert_eq!(evaluate("((default_enis - 1) * (ips_per_eni - 1)) + 2", &M5), Ok(20));
        assert_eq!(evaluate("(2 < default_enis ? 2 : default_enis) * (ips_per_eni - 1) + 2", &M5), Ok(20));
        assert_eq!(
            evaluate(
                "default_enis * ((ips_per_eni - 1) * 16) + 2 > 250 ? 250 : default_enis * ((ips_per_eni - 1) * 16) + 2",
                &M5
            ),
            Ok(250)
        );
        assert_eq!(evaluate("max_pods > 100 && max_pods < 200 ? 110 : max_pods % 7 + -1 * -3", &M5), Ok(4));
    }

    #[test]
    fn reports_what_nodeadm_falls_back_on() {
        assert!(evaluate("max_pods +", &M5).unwrap_err().contains("unexpected end"));
        assert!(evaluate("min(1, 2)", &M5).unwrap_err().contains("unknown name `min`"));
        assert!(evaluate("max_pods - 100", &M5).unwrap_err().contains("not between 1"));
        assert!(evaluate("max_pods > 1", &M5).unwrap_err().contains("boolean"));
        assert!(evaluate("max_pods / 0", &M5).unwrap_err().contains("division by zero"));
        assert!(evaluate("9223372036854775807 + 1", &M5).unwrap_err().contains("overflow"));
        let deep = format!("{}1{}", "(".repeat(500), ")".repeat(500));
        assert!(evaluate(&deep, &M5).unwrap_err().contains("nested"));
        assert!(evaluate("true ? 1", &M5).unwrap_err().contains("without `:`"));
        assert!(evaluate(&"-".repeat(100_000), &M5).is_err());
    }
}
