//! `sed` as GNU sed 4 runs the one-line programs AL2 user data uses to edit node files
//! (`sed -i 's/a/b/g' F`, `sed -i '/^re/a text' F`, `sed -i '$a text' F`, `sed -i '/re/d' F`):
//! addresses (line, `$`, `/re/`, ranges, `!`), the `s`, `a`, `i`, `c` and `d` commands, BRE and
//! ERE (`-E`/`-r`) translated to Rust's regex syntax, and the replacement escapes. Anything else
//! is refused with a reason rather than guessed (GNU sed manual, "sed scripts" and "BRE syntax").
//! The command line (`-i[SUFFIX]`, `-e`, `-n`, grouped short options) is parsed as getopt does:
//! `-ie` means the suffix `e`, not `-i -e`.

use regex::{Regex, RegexBuilder};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct SedError(pub String);

fn err<T>(s: impl Into<String>) -> Result<T, SedError> {
    Err(SedError(s.into()))
}

/// `sed` arguments: what it edits and with which program.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invocation {
    pub in_place: bool,
    pub extended: bool,
    pub quiet: bool,
    pub script: String,
    pub files: Vec<String>,
}

/// Reads `sed`'s arguments (after the command word).
pub fn parse_command_line(args: &[String]) -> Result<Invocation, SedError> {
    let mut inv = Invocation { in_place: false, extended: false, quiet: false, script: String::new(), files: vec![] };
    let mut scripts: Vec<String> = Vec::new();
    let mut plain: Vec<String> = Vec::new();
    let mut i = 0;
    let mut options_done = false;
    while let Some(a) = args.get(i) {
        i += 1;
        if options_done || !a.starts_with('-') || a == "-" {
            plain.push(a.clone());
            continue;
        }
        if a == "--" {
            options_done = true;
            continue;
        }
        if let Some(long) = a.strip_prefix("--") {
            let (name, value) = long.split_once('=').map_or((long, None), |(n, v)| (n, Some(v)));
            match name {
                "in-place" => inv.in_place = true,
                "regexp-extended" => inv.extended = true,
                "quiet" | "silent" => inv.quiet = true,
                "expression" => match value.map(str::to_string).or_else(|| {
                    i += 1;
                    args.get(i - 1).cloned()
                }) {
                    Some(s) => scripts.push(s),
                    None => return err("`--expression` has no program"),
                },
                "posix" | "debug" | "follow-symlinks" | "sandbox" | "unbuffered" | "separate" => {}
                _ => return err(format!("sed option `{a}` is not modelled")),
            }
            continue;
        }
        let chars: Vec<char> = a.chars().skip(1).collect();
        let mut k = 0;
        while let Some(&flag) = chars.get(k) {
            match flag {
                // getopt: everything after `i` in the same word is the backup suffix.
                'i' => {
                    inv.in_place = true;
                    break;
                }
                'E' | 'r' => inv.extended = true,
                'n' => inv.quiet = true,
                's' | 'u' | 'z' if flag != 'z' => {}
                'e' => {
                    let rest: String = chars.iter().skip(k + 1).collect();
                    if rest.is_empty() {
                        match args.get(i) {
                            Some(s) => {
                                scripts.push(s.clone());
                                i += 1;
                            }
                            None => return err("`-e` has no program"),
                        }
                    } else {
                        scripts.push(rest);
                    }
                    break;
                }
                c => return err(format!("sed option `-{c}` is not modelled")),
            }
            k += 1;
        }
    }
    if scripts.is_empty() {
        if plain.is_empty() {
            return err("sed has no program");
        }
        scripts.push(plain.remove(0));
    }
    inv.script = scripts.join("\n");
    inv.files = plain;
    Ok(inv)
}

#[derive(Debug, Clone)]
enum Addr {
    Line(usize),
    Last,
    Re(Regex),
}

#[derive(Debug, Clone)]
enum Cmd {
    Subst { re: Regex, replacement: Vec<Piece>, global: bool, nth: usize },
    Append(String),
    Insert(String),
    Change(String),
    Delete,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Lit(String),
    Whole,
    Group(usize),
}

#[derive(Debug, Clone)]
struct Command {
    from: Option<Addr>,
    to: Option<Addr>,
    negate: bool,
    cmd: Cmd,
}

/// A parsed sed program.
#[derive(Debug, Clone)]
pub struct Program {
    commands: Vec<Command>,
}

/// Translates a POSIX basic (or extended) regular expression to Rust regex syntax.
pub fn translate_regex(re: &str, extended: bool) -> String {
    let chars: Vec<char> = re.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    let mut at_start = true;
    while let Some(&c) = chars.get(i) {
        i += 1;
        match c {
            '[' => {
                // A bracket expression is copied with its backslashes made literal.
                out.push('[');
                let mut first = true;
                if chars.get(i) == Some(&'^') {
                    out.push('^');
                    i += 1;
                }
                while let Some(&d) = chars.get(i) {
                    i += 1;
                    if d == ']' && !first {
                        break;
                    }
                    if d == '[' && chars.get(i) == Some(&':') {
                        let close = chars
                            .get(i..)
                            .and_then(|r| r.windows(2).position(|w| matches!(w, [':', ']'])))
                            .map(|p| i + p);
                        if let Some(j) = close {
                            out.extend(chars.get(i - 1..j + 2).unwrap_or_default());
                            i = j + 2;
                            first = false;
                            continue;
                        }
                    }
                    match d {
                        '\\' | '[' | '&' | '~' | '-' if d != '-' || first || chars.get(i) == Some(&']') => {
                            out.push('\\');
                            out.push(d)
                        }
                        _ => out.push(d),
                    }
                    first = false;
                }
                out.push(']');
            }
            '\\' => {
                let Some(&n) = chars.get(i) else {
                    out.push_str("\\\\");
                    continue;
                };
                i += 1;
                match n {
                    '(' | ')' | '{' | '}' | '|' | '+' | '?' if !extended => out.push(n),
                    'n' => out.push_str("\\n"),
                    't' => out.push_str("\\t"),
                    'w' | 'W' | 's' | 'S' | 'b' | 'B' => {
                        out.push('\\');
                        out.push(n)
                    }
                    '<' | '>' => out.push_str("\\b"),
                    d if d.is_ascii_digit() => {
                        out.push('\\');
                        out.push(d)
                    }
                    other => {
                        if other.is_ascii_alphanumeric() || other == ' ' {
                            out.push(other);
                        } else {
                            out.push('\\');
                            out.push(other);
                        }
                    }
                }
            }
            '(' | ')' | '{' | '}' | '|' | '+' | '?' if !extended => {
                out.push('\\');
                out.push(c)
            }
            '*' if at_start && !extended => out.push_str("\\*"),
            '^' if !at_start && !extended => out.push_str("\\^"),
            '$' if !extended && i < chars.len() && !(chars.get(i) == Some(&'\\') && chars.get(i + 1) == Some(&')')) => {
                out.push_str("\\$")
            }
            '.' | '*' | '^' | '$' | '(' | ')' | '{' | '}' | '|' | '+' | '?' => out.push(c),
            other => {
                if "#&~-".contains(other) || other.is_whitespace() {
                    out.push('\\');
                }
                out.push(other);
            }
        }
        at_start =
            matches!(c, '^') && out.ends_with('^') && out.len() == 1 || (!extended && c == '(' && out.ends_with('('));
    }
    out
}

fn compile(re: &str, extended: bool, icase: bool) -> Result<Regex, SedError> {
    RegexBuilder::new(&translate_regex(re, extended))
        .case_insensitive(icase)
        .size_limit(1 << 20)
        .build()
        .map_err(|e| SedError(format!("the regular expression `{re}` is not understood ({e})")))
}

struct Reader<'a> {
    chars: Vec<char>,
    i: usize,
    extended: bool,
    _src: &'a str,
}

impl Reader<'_> {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.i).copied()
    }
    fn skip_blank(&mut self) {
        while self.peek().is_some_and(|c| c == ' ' || c == '\t') {
            self.i += 1;
        }
    }
    /// Reads up to the unescaped delimiter; `\delim` becomes the delimiter itself.
    fn delimited(&mut self, delim: char) -> Result<String, SedError> {
        let mut out = String::new();
        let mut in_bracket = false;
        while let Some(c) = self.peek() {
            self.i += 1;
            if c == '\\' {
                match self.peek() {
                    Some(n) if n == delim => {
                        self.i += 1;
                        if "/|,#:@".contains(n) {
                            out.push(n)
                        } else {
                            out.push('\\');
                            out.push(n)
                        }
                    }
                    Some('n') => {
                        self.i += 1;
                        out.push_str("\\n");
                    }
                    Some(n) => {
                        self.i += 1;
                        out.push('\\');
                        out.push(n);
                    }
                    None => out.push('\\'),
                }
                continue;
            }
            if c == '[' && !in_bracket {
                in_bracket = true;
            } else if c == ']' && in_bracket {
                in_bracket = false;
            } else if c == delim && !in_bracket {
                return Ok(out);
            } else if c == '\n' {
                return err("a newline inside a sed expression");
            }
            out.push(c);
        }
        err(format!("an unterminated `{delim}` in the sed program"))
    }
    fn number(&mut self) -> Option<usize> {
        let start = self.i;
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.i += 1;
        }
        (self.i > start).then(|| self.chars.get(start..self.i)?.iter().collect::<String>().parse().ok()).flatten()
    }
    fn address(&mut self) -> Result<Option<Addr>, SedError> {
        match self.peek() {
            Some(c) if c.is_ascii_digit() => Ok(self.number().map(Addr::Line)),
            Some('$') => {
                self.i += 1;
                Ok(Some(Addr::Last))
            }
            Some('/') | Some('\\') => {
                let delim = if self.peek() == Some('\\') {
                    self.i += 1;
                    self.peek().ok_or_else(|| SedError("a sed address ends after `\\`".into()))?
                } else {
                    '/'
                };
                self.i += 1;
                let re = self.delimited(delim)?;
                let icase = self.peek() == Some('I');
                if icase {
                    self.i += 1;
                }
                Ok(Some(Addr::Re(compile(&re, self.extended, icase)?)))
            }
            _ => Ok(None),
        }
    }
    /// The text of `a`, `i` or `c`: GNU's one-liner form or `a\` followed by lines.
    fn text(&mut self) -> String {
        if self.peek() == Some('\\') {
            self.i += 1;
            if self.peek() == Some('\n') {
                self.i += 1;
            }
        } else {
            self.skip_blank();
        }
        let mut out = String::new();
        while let Some(c) = self.peek() {
            self.i += 1;
            match c {
                '\\' => match self.peek() {
                    Some('\n') => {
                        self.i += 1;
                        out.push('\n');
                    }
                    Some('t') => {
                        self.i += 1;
                        out.push('\t');
                    }
                    Some('n') => {
                        self.i += 1;
                        out.push('\n');
                    }
                    Some(n) => {
                        self.i += 1;
                        out.push(n);
                    }
                    None => {}
                },
                '\n' => break,
                c => out.push(c),
            }
        }
        out
    }
}

fn replacement(text: &str) -> Vec<Piece> {
    let mut out = Vec::new();
    let mut lit = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '&' => {
                out.push(Piece::Lit(std::mem::take(&mut lit)));
                out.push(Piece::Whole);
            }
            '\\' => match chars.next() {
                Some(d) if d.is_ascii_digit() => {
                    out.push(Piece::Lit(std::mem::take(&mut lit)));
                    out.push(Piece::Group(d.to_digit(10).unwrap_or(0) as usize));
                }
                Some('n') => lit.push('\n'),
                Some('t') => lit.push('\t'),
                Some(o) => lit.push(o),
                None => {}
            },
            c => lit.push(c),
        }
    }
    out.push(Piece::Lit(lit));
    out.retain(|p| p != &Piece::Lit(String::new()));
    out
}

/// Parses a sed program.
pub fn parse(script: &str, extended: bool) -> Result<Program, SedError> {
    let mut r = Reader { chars: script.chars().collect(), i: 0, extended, _src: script };
    let mut commands = Vec::new();
    loop {
        while r.peek().is_some_and(|c| c.is_whitespace() || c == ';') {
            r.i += 1;
        }
        let Some(_) = r.peek() else { break };
        if r.peek() == Some('#') {
            while r.peek().is_some_and(|c| c != '\n') {
                r.i += 1;
            }
            continue;
        }
        let from = r.address()?;
        let mut to = None;
        if from.is_some() && r.peek() == Some(',') {
            r.i += 1;
            to = r.address()?;
            if to.is_none() {
                return err("a sed range without an end address");
            }
        }
        r.skip_blank();
        let negate = r.peek() == Some('!');
        if negate {
            r.i += 1;
            r.skip_blank();
        }
        let Some(c) = r.peek() else { return err("a sed address without a command") };
        r.i += 1;
        let cmd = match c {
            's' => {
                let delim = r.peek().ok_or_else(|| SedError("`s` without a delimiter".into()))?;
                r.i += 1;
                let re = r.delimited(delim)?;
                let rep = r.delimited(delim)?;
                let (mut global, mut nth, mut icase) = (false, 1, false);
                while let Some(f) = r.peek() {
                    match f {
                        'g' => global = true,
                        'I' | 'i' => icase = true,
                        'p' => {}
                        d if d.is_ascii_digit() => {
                            nth = r.number().unwrap_or(1);
                            continue;
                        }
                        ';' | '\n' | ' ' | '}' => break,
                        other => return err(format!("the `s` flag `{other}` is not modelled")),
                    }
                    r.i += 1;
                }
                Cmd::Subst { re: compile(&re, extended, icase)?, replacement: replacement(&rep), global, nth }
            }
            'a' => Cmd::Append(r.text()),
            'i' => Cmd::Insert(r.text()),
            'c' => Cmd::Change(r.text()),
            'd' => Cmd::Delete,
            other => return err(format!("the sed command `{other}` is not modelled")),
        };
        commands.push(Command { from, to, negate, cmd });
    }
    Ok(Program { commands })
}

fn matches(addr: &Addr, line: &str, n: usize, last: bool) -> bool {
    match addr {
        Addr::Line(k) => *k == n,
        Addr::Last => last,
        Addr::Re(re) => re.is_match(line),
    }
}

fn substitute(line: &str, re: &Regex, rep: &[Piece], global: bool, nth: usize) -> String {
    let mut out = String::new();
    let mut last = 0;
    for (k, caps) in re.captures_iter(line).enumerate() {
        let Some(m) = caps.get(0) else { continue };
        if k + 1 < nth || (!global && k + 1 > nth) {
            continue;
        }
        out.push_str(line.get(last..m.start()).unwrap_or_default());
        for p in rep {
            match p {
                Piece::Lit(s) => out.push_str(s),
                Piece::Whole => out.push_str(m.as_str()),
                Piece::Group(g) => out.push_str(caps.get(*g).map_or("", |c| c.as_str())),
            }
        }
        last = m.end();
    }
    out.push_str(line.get(last..).unwrap_or_default());
    out
}

impl Program {
    /// Runs the program over `input` as `sed -i` does, returning the new file content.
    pub fn apply(&self, input: &str) -> String {
        let lines: Vec<&str> = input.split_inclusive('\n').collect();
        let final_newline = input.ends_with('\n');
        let mut out = String::new();
        let mut active = vec![false; self.commands.len()];
        let total = lines.len();
        for (idx, raw) in lines.iter().enumerate() {
            let n = idx + 1;
            let last = n == total;
            let mut space = raw.strip_suffix('\n').unwrap_or(raw).to_string();
            let mut after: Vec<String> = Vec::new();
            let mut deleted = false;
            for (c, in_range) in self.commands.iter().zip(active.iter_mut()) {
                let hit = match (&c.from, &c.to) {
                    (None, _) => true,
                    (Some(f), None) => matches(f, &space, n, last),
                    (Some(f), Some(t)) => {
                        if *in_range {
                            if matches(t, &space, n, last) || matches!(t, Addr::Line(k) if *k <= n) {
                                *in_range = false;
                            }
                            true
                        } else if matches(f, &space, n, last) {
                            *in_range = !matches!(t, Addr::Line(k) if *k <= n);
                            true
                        } else {
                            false
                        }
                    }
                };
                if hit == c.negate {
                    continue;
                }
                match &c.cmd {
                    Cmd::Subst { re, replacement, global, nth } => {
                        space = substitute(&space, re, replacement, *global, *nth)
                    }
                    Cmd::Append(t) => after.push(t.clone()),
                    Cmd::Insert(t) => {
                        out.push_str(t);
                        out.push('\n');
                    }
                    Cmd::Change(t) => {
                        if !*in_range {
                            out.push_str(t);
                            out.push('\n');
                        }
                        deleted = true;
                        break;
                    }
                    Cmd::Delete => {
                        deleted = true;
                        break;
                    }
                }
            }
            if !deleted {
                out.push_str(&space);
                if !last || final_newline || !after.is_empty() {
                    out.push('\n');
                }
            }
            for t in after {
                out.push_str(&t);
                out.push('\n');
            }
        }
        if input.is_empty() {
            return String::new();
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(script: &str, input: &str) -> String {
        parse(script, false).unwrap().apply(input)
    }

    #[test]
    fn substitutions_with_groups_and_flags() {
        assert_eq!(run("s/a/b/", "aaa\n"), "baa\n");
        assert_eq!(run("s/a/b/g", "aaa\n"), "bbb\n");
        assert_eq!(run("s/a/b/2", "aaa\n"), "aba\n");
        assert_eq!(run("s/\\(x\\)=\\(.*\\)/\\2=\\1/", "x=1\n"), "1=x\n");
        assert_eq!(run("s|/usr/bin|/opt|", "ExecStart=/usr/bin/kubelet\n"), "ExecStart=/opt/kubelet\n");
        assert_eq!(run("s/x/[&]/", "axb\n"), "a[x]b\n");
        assert_eq!(run("s/'$/ --v=4'/", "A='--x'\n"), "A='--x --v=4'\n");
        assert_eq!(run("s/a+b/X/", "a+b aab\n"), "X aab\n", "BRE `+` is literal");
        assert_eq!(parse("s/a+b/X/", true).unwrap().apply("a+b aab\n"), "a+b X\n", "ERE `+` repeats");
        assert_eq!(run("s/[[:space:]]*$//", "x  \n"), "x\n");
        assert_eq!(
            run("s/^KUBELET_EXTRA_ARGS=.*/KUBELET_EXTRA_ARGS=\"--v=2\"/", "KUBELET_EXTRA_ARGS=x\n"),
            "KUBELET_EXTRA_ARGS=\"--v=2\"\n"
        );
    }

    #[test]
    fn append_insert_change_delete_with_addresses() {
        let f = "one\ntwo\nthree\n";
        assert_eq!(run("/two/a after", f), "one\ntwo\nafter\nthree\n");
        assert_eq!(run("/two/i\\\nbefore", f), "one\nbefore\ntwo\nthree\n");
        assert_eq!(run("$a last", f), "one\ntwo\nthree\nlast\n");
        assert_eq!(run("2d", f), "one\nthree\n");
        assert_eq!(run("/one/,/two/d", f), "three\n");
        assert_eq!(run("/two/!d", f), "two\n");
        assert_eq!(run("/two/c\\2", f), "one\n2\nthree\n");
        assert_eq!(run("$ a\\\nx = 1", "a\n"), "a\nx = 1\n");
        assert_eq!(run("s/one/1/;s/two/2/", f), "1\n2\nthree\n");
        assert_eq!(run("1i #!/bin/bash", "x\n"), "#!/bin/bash\nx\n");
        assert_eq!(run("$a x", "no newline"), "no newline\nx\n");
    }

    #[test]
    fn command_lines() {
        let a = |v: &[&str]| parse_command_line(&v.iter().map(|s| s.to_string()).collect::<Vec<_>>());
        let i = a(&["-i", "s/a/b/", "/etc/f"]).unwrap();
        assert!(i.in_place && i.script == "s/a/b/" && i.files == ["/etc/f"]);
        let i = a(&["-i.bak", "-e", "s/a/b/", "-e", "s/c/d/", "/etc/f", "/etc/g"]).unwrap();
        assert_eq!((i.script.as_str(), i.files.len()), ("s/a/b/\ns/c/d/", 2));
        let i = a(&["-ri", "s/a+/b/", "f"]).unwrap();
        assert!(i.in_place && i.extended);
        let i = a(&["-ie", "s/a/b/", "f"]).unwrap();
        assert!(i.in_place, "-ie is -i with the suffix e");
        assert_eq!(i.script, "s/a/b/");
        assert!(a(&["-z", "s/a/b/", "f"]).is_err());
    }

    #[test]
    fn unsupported_programs_are_refused() {
        assert!(parse("N;s/a\\nb/c/", false).is_err());
        assert!(parse("s/a/b/w out", false).is_err());
        assert!(parse("s/a/b", false).is_err());
    }
}
