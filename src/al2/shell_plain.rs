//! A fast reader for plain shell: simple commands joined by `;`, newlines, `&&`, `||` and `|`,
//! with quoting, `$NAME`/`${NAME}` expansions, comments, line continuations between words,
//! file redirections and here-documents (POSIX.1-2017 XCU §2.3 token recognition, §2.7
//! redirection, §2.9.1 simple commands, §2.10 grammar). It yields exactly what `shell.rs`'s walk
//! over brush-parser's syntax tree yields for the same text, and declines (`None`) anything
//! else: compound commands, reserved words in command position, command and arithmetic
//! substitution, backquotes, subshells, brace groups, background jobs, `!`, `[[`, here-strings,
//! process substitution, array assignments, control characters, unterminated quotes or
//! here-documents. Declined texts go to brush-parser, which also reports every syntax error.
//!
//! Why it exists: brush-parser tokenizes char by char through a reader and a PEG parser, and
//! was half of `convert`'s time (issue #13). Most user data, and all of `convert`'s own output
//! but its branches, is plain shell. `tests/it/shell_plain.rs` checks the two readings agree on
//! every fixture, corpus sample and generated script this reader accepts.

use super::shell::{Command, Redirect, Word};
use super::template::Prepared;

/// Words bash (and brush-parser) read as reserved in command position.
const RESERVED: &[&str] = &[
    "!", "{", "}", "case", "do", "done", "elif", "else", "esac", "fi", "for", "if", "in", "then", "until", "while",
    "[[", "]]", "function", "select", "coproc",
    // brush-parser reads `time` before a pipeline as its timing, not as a command.
    "time",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tok {
    /// A word: byte range in the parsed text.
    Word(usize, usize),
    Op(&'static str),
    Newline,
    Eof,
}

struct Lexer<'a> {
    s: &'a [u8],
    i: usize,
    prepared: &'a Prepared,
    orig: &'a [u8],
}

/// `None` everywhere below means "not plain shell: let brush-parser read it".
impl Lexer<'_> {
    fn at(&self, i: usize) -> Option<u8> {
        self.s.get(i).copied()
    }

    /// Skips blanks, line continuations and a comment; the next token starts at `self.i`.
    fn skip_blanks(&mut self) -> Option<()> {
        loop {
            match self.at(self.i) {
                Some(b' ' | b'\t') => self.i += 1,
                Some(b'\\') if self.at(self.i + 1) == Some(b'\n') => {
                    // A continuation the template made (a directive between `\` and the
                    // newline) starts brush-parser's next word at the backslash.
                    let at = self.prepared.remap.to_orig(self.i);
                    if !self.orig.get(at..).is_some_and(|o| o.starts_with(b"\\\n")) {
                        return None;
                    }
                    self.i += 2;
                }
                Some(b'#') => {
                    while !matches!(self.at(self.i), None | Some(b'\n')) {
                        self.i += 1;
                    }
                }
                _ => return Some(()),
            }
        }
    }

    fn next(&mut self) -> Option<Tok> {
        self.skip_blanks()?;
        let Some(c) = self.at(self.i) else { return Some(Tok::Eof) };
        let two = self.at(self.i + 1);
        let op = |s: &'static str| Some(Tok::Op(s));
        let (tok, len) = match (c, two) {
            (b'\n', _) => (Some(Tok::Newline), 1),
            (b';', Some(b';' | b'&')) => return None,
            (b';', _) => (op(";"), 1),
            (b'&', Some(b'&')) => (op("&&"), 2),
            (b'&', _) => return None,
            (b'|', Some(b'|')) => (op("||"), 2),
            (b'|', Some(b'&')) => return None,
            (b'|', _) => (op("|"), 1),
            (b'<', Some(b'<')) => match self.at(self.i + 2) {
                Some(b'<') => return None,
                Some(b'-') => (op("<<-"), 3),
                _ => (op("<<"), 2),
            },
            (b'<', Some(b'&')) => (op("<&"), 2),
            (b'<', Some(b'>')) => (op("<>"), 2),
            (b'<', Some(b'(')) | (b'>', Some(b'(')) => return None,
            (b'<', _) => (op("<"), 1),
            (b'>', Some(b'>')) => (op(">>"), 2),
            (b'>', Some(b'&')) => (op(">&"), 2),
            (b'>', Some(b'|')) => (op(">|"), 2),
            (b'>', _) => (op(">"), 1),
            _ => {
                let start = self.i;
                self.word()?;
                return Some(Tok::Word(start, self.i));
            }
        };
        self.i += len;
        tok
    }

    /// Reads one word from `self.i` to its end.
    fn word(&mut self) -> Option<()> {
        loop {
            match self.at(self.i) {
                None | Some(b' ' | b'\t' | b'\n' | b';' | b'&' | b'|' | b'<' | b'>') => return Some(()),
                Some(b'(' | b')' | b'`' | b'{' | b'}') => return None,
                Some(b'\'') => {
                    let close = self.s.get(self.i + 1..)?.iter().position(|&b| b == b'\'')?;
                    self.i += close + 2;
                }
                Some(b'"') => {
                    self.i += 1;
                    loop {
                        match self.at(self.i)? {
                            b'"' => break,
                            b'\\' => self.escape()?,
                            b'`' => return None,
                            b'$' => self.dollar()?,
                            _ => self.i += 1,
                        }
                    }
                    self.i += 1;
                }
                Some(b'\\') => self.escape()?,
                Some(b'$') => self.dollar()?,
                Some(_) => self.i += 1,
            }
        }
    }

    /// A backslash and the character it quotes (a line continuation inside a word is declined).
    fn escape(&mut self) -> Option<()> {
        match self.at(self.i + 1)? {
            b'\n' => None,
            // brush-parser reads a token ending in `$` as the start of `$'…'`, `$"…"`, `$[…]`.
            b'$' if matches!(self.at(self.i + 2), Some(b'\'' | b'"' | b'[' | b'(' | b'{')) => None,
            c if c < 0x80 => {
                self.i += 2;
                Some(())
            }
            _ => None,
        }
    }

    /// `$NAME`, `$1`, `$?` and other special parameters, or `${…}` without nested expansions.
    fn dollar(&mut self) -> Option<()> {
        match self.at(self.i + 1)? {
            b'{' => {
                let body = self.s.get(self.i + 2..)?;
                let close = body.iter().position(|&b| b == b'}')?;
                let inner = body.get(..close)?;
                let plain = |b: &u8| b.is_ascii_alphanumeric() || b"_:#%/?=+-.*@!,^~[]".contains(b);
                if inner.is_empty() || !inner.iter().all(plain) {
                    return None;
                }
                self.i += close + 3;
            }
            c if c.is_ascii_alphabetic() || c == b'_' => self.i += 1,
            // `$$` is declined: brush-parser reads its second `$` afresh (`$$[`, `$$'…'`).
            c if c.is_ascii_digit() || b"?@*#!-".contains(&c) => self.i += 2,
            _ => return None,
        }
        Some(())
    }

    /// Skips newlines, blanks and comments after `&&`, `||` or `|`, reading here-documents due
    /// at each newline.
    fn linebreak(&mut self, pending: &mut Vec<Pending>, out: &mut [Command]) -> Option<()> {
        loop {
            self.skip_blanks()?;
            if self.at(self.i) != Some(b'\n') {
                return Some(());
            }
            self.i += 1;
            self.heredocs(pending, out)?;
        }
    }

    /// Reads the bodies of the here-documents started on the line that just ended.
    fn heredocs(&mut self, pending: &mut Vec<Pending>, out: &mut [Command]) -> Option<()> {
        for p in pending.drain(..) {
            let mut body = String::new();
            let start = self.i;
            loop {
                let rest = self.s.get(self.i..)?;
                // The delimiter line must end in a newline (at the very end brush-parser differs).
                let len = rest.iter().position(|&b| b == b'\n')?;
                let line = rest.get(..len)?;
                let content = if p.strip_tabs {
                    let tabs = line.iter().take_while(|&&b| b == b'\t').count();
                    line.get(tabs..)?
                } else {
                    line
                };
                let line_start = self.i;
                self.i += len + 1;
                if content == p.tag.as_bytes() {
                    if !p.strip_tabs {
                        body = std::str::from_utf8(self.s.get(start..line_start)?).ok()?.to_string();
                    }
                    break;
                }
                if p.strip_tabs {
                    body.push_str(std::str::from_utf8(content).ok()?);
                    body.push('\n');
                }
            }
            let cmd = out.get_mut(p.command)?;
            if let Some(Redirect::HereDoc { body: b, .. }) = cmd.redirects.get_mut(p.redirect) {
                *b = body;
            }
        }
        Some(())
    }
}

/// A here-document whose body comes after the current line.
struct Pending {
    command: usize,
    redirect: usize,
    tag: String,
    strip_tabs: bool,
}

/// `NAME=value` or `NAME+=value` with a plain variable name.
fn assignment(text: &str) -> Option<(&str, &str, bool)> {
    let eq = text.find('=')?;
    let (name, value) = (text.get(..eq)?, text.get(eq + 1..)?);
    let (name, append) = match name.strip_suffix('+') {
        Some(n) => (n, true),
        None => (name, false),
    };
    let mut chars = name.bytes();
    let first = chars.next()?;
    ((first.is_ascii_alphabetic() || first == b'_') && chars.all(|b| b.is_ascii_alphanumeric() || b == b'_'))
        .then_some((name, value, append))
}

/// Starts like `name[`: brush-parser may read it as an array element assignment.
fn array_element(text: &str) -> bool {
    let name = text.bytes().take_while(|b| b.is_ascii_alphanumeric() || *b == b'_').count();
    name > 0 && text.as_bytes().get(name) == Some(&b'[')
}

/// A here-document delimiter: a plain word, or one in single or double quotes (no expansion).
fn here_tag(text: &str) -> Option<(String, bool)> {
    let (tag, expands) = match text.as_bytes() {
        [b'\'', .., b'\''] | [b'"', .., b'"'] => (text.get(1..text.len() - 1)?, false),
        _ => (text, true),
    };
    (!tag.is_empty() && tag.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-'))
        .then(|| (tag.to_string(), expands))
}

struct Reader<'a> {
    lex: Lexer<'a>,
    prepared: &'a Prepared,
    orig: &'a str,
    out: Vec<Command>,
    pending: Vec<Pending>,
}

impl Reader<'_> {
    fn text(&self, s: usize, e: usize) -> Option<&str> {
        self.prepared.text.get(s..e)
    }

    fn word(&self, s: usize, e: usize) -> Option<Word> {
        let parsed = self.text(s, e)?.to_string();
        let span = (self.prepared.remap.to_orig(s), self.prepared.remap.to_orig(e));
        let raw = match self.orig.get(span.0..span.1) {
            Some(raw) if span.1 > span.0 => raw.to_string(),
            _ => self.prepared.restore(&parsed),
        };
        Some(Word { raw, parsed, span })
    }

    /// On a line whose here-document body is still to come, brush-parser sets words aside and
    /// gets some of them differently: `${…}` (read again, as two words), digits followed by a
    /// blank and a redirection (taken for a file descriptor), and any word's start when a
    /// template directive was taken out of the line.
    fn after_here_tag_is_unsure(&self, text: &str, digits: bool, end: usize) -> bool {
        if text.contains("${") || !self.prepared.tokens.is_empty() {
            return true;
        }
        let mut i = end;
        loop {
            match self.lex.at(i) {
                Some(b' ' | b'\t') => i += 1,
                Some(b'\\') if self.lex.at(i + 1) == Some(b'\n') => i += 2,
                next => return digits && matches!(next, Some(b'<' | b'>')),
            }
        }
    }

    /// An assignment's value, which brush-parser gives no location.
    fn value(&self, v: &str) -> Word {
        Word { raw: self.prepared.restore(v), parsed: v.to_string(), span: (0, 0) }
    }

    /// One simple command starting with `first`; returns the token after it.
    fn simple(&mut self, first: Tok, piped: bool) -> Option<Tok> {
        let mut cmd = Command {
            words: Vec::new(),
            assignments: Vec::new(),
            redirects: Vec::new(),
            span: (usize::MAX, 0),
            branch: Vec::new(),
            conditional: false,
            function: None,
            piped,
            appends: Vec::new(),
            tested: false,
        };
        let grow = |span: (usize, usize), cmd: &mut Command| {
            if span.1 > span.0 || span.0 != 0 {
                cmd.span = (cmd.span.0.min(span.0), cmd.span.1.max(span.1));
            }
        };
        let mut tok = first;
        let mut items = 0;
        loop {
            match tok {
                Tok::Word(s, e) => {
                    let text = self.text(s, e)?;
                    let digits = text.bytes().all(|b| b.is_ascii_digit());
                    let io_number = digits && matches!(self.lex.at(e), Some(b'<' | b'>'));
                    // brush-parser's file descriptors are i32; a larger one panics it.
                    if io_number && text.parse::<i32>().is_err() {
                        return None;
                    }
                    if !self.pending.is_empty() && self.after_here_tag_is_unsure(text, digits, e) {
                        return None;
                    }
                    if !io_number {
                        let word = self.word(s, e)?;
                        grow(word.span, &mut cmd);
                        match assignment(text) {
                            Some((name, value, append)) if cmd.words.is_empty() => {
                                if append {
                                    cmd.appends.push(name.to_string());
                                }
                                cmd.assignments.push((name.to_string(), self.value(value)));
                            }
                            Some((name, value, _)) => {
                                let mut w = word;
                                w.parsed = format!("{name}={value}");
                                cmd.words.push(w);
                            }
                            None if cmd.words.is_empty() && RESERVED.contains(&text) => return None,
                            // `a[i]=v` is an array element assignment to brush-parser.
                            None if array_element(text) => return None,
                            None => cmd.words.push(word),
                        }
                    }
                }
                Tok::Op(op @ ("<" | "<&" | "<>" | ">" | ">&" | ">>" | ">|" | "<<" | "<<-")) => {
                    let Tok::Word(s, e) = self.lex.next()? else { return None };
                    let target = self.text(s, e)?;
                    if RESERVED.contains(&target)
                        || (!self.pending.is_empty() && self.after_here_tag_is_unsure(target, false, e))
                    {
                        return None;
                    }
                    let redirect = match op {
                        ">" | ">|" => Redirect::Write { path: self.word(s, e)?, append: false },
                        ">>" => Redirect::Write { path: self.word(s, e)?, append: true },
                        "<<" | "<<-" => {
                            let (tag, expands) = here_tag(target)?;
                            self.pending.push(Pending {
                                command: self.out.len(),
                                redirect: cmd.redirects.len(),
                                tag,
                                strip_tabs: op == "<<-",
                            });
                            Redirect::HereDoc { body: String::new(), expands }
                        }
                        _ => Redirect::Other,
                    };
                    cmd.redirects.push(redirect);
                }
                _ => break,
            }
            items += 1;
            tok = self.lex.next()?;
        }
        if items == 0 {
            return None;
        }
        if cmd.span.0 == usize::MAX {
            cmd.span = (0, 0);
        }
        self.out.push(cmd);
        Some(tok)
    }

    /// A pipeline; returns the token after it and the commands it added.
    fn pipeline(&mut self, first: Tok) -> Option<(Tok, std::ops::Range<usize>)> {
        let start = self.out.len();
        let mut tok = self.simple(first, false)?;
        while tok == Tok::Op("|") {
            self.lex.linebreak(&mut self.pending, &mut self.out)?;
            let next = self.lex.next()?;
            tok = self.simple(next, true)?;
        }
        Some((tok, start..self.out.len()))
    }

    /// An `&&`/`||` list, with `conditional` and `tested` as `shell.rs`'s walk sets them.
    fn and_or(&mut self, first: Tok) -> Option<Tok> {
        let (mut tok, first_range) = self.pipeline(first)?;
        let mut rest = Vec::new();
        while matches!(tok, Tok::Op("&&" | "||")) {
            self.lex.linebreak(&mut self.pending, &mut self.out)?;
            let next = self.lex.next()?;
            let (t, range) = self.pipeline(next)?;
            rest.push(range);
            tok = t;
        }
        let n = rest.len();
        for c in self.out.get_mut(first_range)? {
            c.tested = n > 0;
        }
        for (i, range) in rest.into_iter().enumerate() {
            for c in self.out.get_mut(range)? {
                c.conditional = true;
                c.tested = i + 1 < n;
            }
        }
        Some(tok)
    }

    fn program(&mut self) -> Option<()> {
        loop {
            let tok = match self.lex.next()? {
                Tok::Eof => break,
                Tok::Newline => {
                    self.lex.heredocs(&mut self.pending, &mut self.out)?;
                    continue;
                }
                t => t,
            };
            match self.and_or(tok)? {
                Tok::Eof => break,
                Tok::Newline => self.lex.heredocs(&mut self.pending, &mut self.out)?,
                Tok::Op(";") => {}
                _ => return None,
            }
        }
        // A here-document whose body never came: brush-parser reports it.
        self.pending.is_empty().then_some(())
    }
}

/// The commands of `prepared` (its template tokens already opaque), or `None` when the text is
/// not plain shell.
pub(super) fn parse(prepared: &Prepared, orig: &str) -> Option<Vec<Command>> {
    let text = prepared.text.as_bytes();
    if text.iter().any(|&b| (b < 0x20 && b != b'\n' && b != b'\t') || b == 0x7f) {
        return None;
    }
    let lex = Lexer { s: text, i: 0, prepared, orig: orig.as_bytes() };
    let mut r = Reader { lex, prepared, orig, out: Vec::new(), pending: Vec::new() };
    r.program()?;
    let mut out = r.out;
    for c in &mut out {
        for red in &mut c.redirects {
            if let Redirect::HereDoc { body, .. } = red {
                *body = prepared.restore(body);
            }
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::al2::template::{Syntax, prepare};

    fn read(text: &str) -> Option<Vec<Command>> {
        parse(&prepare(text, Syntax::None), text)
    }

    #[test]
    fn declines_what_only_a_full_parser_reads() {
        for text in [
            "if true; then echo; fi\n",
            "echo $(date)\n",
            "echo `date`\n",
            "( echo )\n",
            "{ echo; }\n",
            "a &\n",
            "! a\n",
            "cat <<EOF\nno end\n",
            "echo 'open\n",
            "a=(1 2)\n",
            "echo a\rb\n",
            "a ;; b\n",
        ] {
            assert!(read(text).is_none(), "{text:?}");
        }
    }

    #[test]
    fn reads_lists_pipes_redirections_and_here_documents() {
        let cs = read("set -e\nA=1 b 2>/dev/null && c | d || e\ncat <<-'X' > /f\n\tbody $v\n\tX\n").unwrap();
        let names: Vec<_> = cs.iter().map(|c| c.name().unwrap_or_default().to_string()).collect();
        assert_eq!(names, ["set", "b", "c", "d", "e", "cat"]);
        let b = &cs[1];
        assert_eq!((b.assignments[0].0.as_str(), b.tested, b.conditional), ("A", true, false));
        assert_eq!((cs[2].conditional, cs[2].tested, cs[3].piped), (true, true, true));
        assert_eq!((cs[4].conditional, cs[4].tested), (true, false));
        assert_eq!(
            cs[5].redirects,
            [
                Redirect::HereDoc { body: "body $v\n".into(), expands: false },
                Redirect::Write { path: Word { raw: "/f".into(), parsed: "/f".into(), span: (52, 54) }, append: false }
            ]
        );
    }
}
