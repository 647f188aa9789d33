//! A real shell parse of AL2 user-data scripts (brush-parser, a POSIX/bash parser with source
//! locations), flattened into what the translator needs: every simple command in order, with
//! its words, prefix assignments, redirections (heredoc bodies included), byte span in the
//! user's text, and the branch it sits in (`if`/`else`, `case`, loops, functions, `||`, template
//! `%{ if }`). Template tokens are made opaque first (`template.rs`), and every offset is mapped
//! back to the original text.

use super::template::{self, Prepared, Syntax};
use brush_parser::ast;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Word {
    /// The word as the parser read it (quotes included), placeholders restored.
    pub raw: String,
    /// As parsed (placeholders not restored), for expansion.
    pub parsed: String,
    pub span: (usize, usize),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Redirect {
    /// `> file`, `>> file`: output written to a path.
    Write {
        path: Word,
        append: bool,
    },
    /// A heredoc; `expands` is false for a quoted delimiter (`<<'EOF'`).
    HereDoc {
        body: String,
        expands: bool,
    },
    Other,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command {
    /// Command name and arguments.
    pub words: Vec<Word>,
    /// `VAR=value` before the command (or a bare assignment when `words` is empty).
    pub assignments: Vec<(String, Word)>,
    pub redirects: Vec<Redirect>,
    /// Byte span in the original text.
    pub span: (usize, usize),
    /// Enclosing conditions, outermost first (`if [ "$SPOT" = true ]`, `else`, …).
    pub branch: Vec<String>,
    /// Runs only if an earlier command in its `&&`/`||` list succeeded or failed.
    pub conditional: bool,
    pub function: Option<String>,
    /// Reads the previous command's output through a pipe (`echo x | tee f`).
    pub piped: bool,
    /// Assignments written `NAME+=value` (bash appends to the old value).
    pub appends: Vec<String>,
    /// Its exit status is tested (an `if`/`while` condition, or a command followed by `&&`/`||`
    /// or negated with `!`), so `set -e` does not stop the script when it fails.
    pub tested: bool,
}

impl Command {
    pub fn name(&self) -> Option<&str> {
        self.words.first().map(|w| w.parsed.as_str())
    }
    /// The command as written, for telling commands apart: assignments, words and the files it
    /// writes, joined by one space.
    pub fn text(&self) -> String {
        let assigned = self.assignments.iter().map(|(n, w)| format!("{n}={}", w.raw));
        let writes = self.redirects.iter().filter_map(|r| match r {
            Redirect::Write { path, append } => Some(format!("{} {}", if *append { ">>" } else { ">" }, path.raw)),
            _ => None,
        });
        assigned.chain(self.words.iter().map(|w| w.raw.clone())).chain(writes).collect::<Vec<_>>().join(" ")
    }
    /// Whether the command runs unconditionally at the top level of the script once it is
    /// rendered (a template `%{ if }` decides what the script is, not whether a line runs).
    pub fn unconditional(&self) -> bool {
        self.runs_when_rendered()
    }
    /// Whether the command runs whenever the rendered script gets to it: unconditional, or
    /// only inside template `%{ if }` branches, which decide what the script is, not whether it
    /// runs a line.
    pub fn runs_when_rendered(&self) -> bool {
        self.branch.iter().all(|b| b.starts_with("template ")) && !self.conditional && self.function.is_none()
    }
}

/// Shared, not copied: the parse memo hands a reading to every reader of the same text.
#[derive(Debug, Clone)]
pub struct Script {
    pub commands: std::sync::Arc<Vec<Command>>,
    pub prepared: std::sync::Arc<Prepared>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the script does not parse as shell: {message}")]
pub struct ParseError {
    pub message: String,
    /// Byte offset in the original text.
    pub offset: Option<usize>,
}

struct Walker<'a> {
    prepared: &'a Prepared,
    /// Byte offset of each char index in the parsed text.
    char_to_byte: Vec<usize>,
    orig: &'a str,
    out: Vec<Command>,
    branch: Vec<String>,
    conditional: bool,
    function: Option<String>,
    piped: bool,
    tested: bool,
}

impl Walker<'_> {
    fn byte(&self, char_index: usize) -> usize {
        let b = self.char_to_byte.get(char_index).copied().unwrap_or(self.prepared.text.len());
        self.prepared.remap.to_orig(b)
    }

    fn span(&self, s: &brush_parser::SourceSpan) -> (usize, usize) {
        (self.byte(s.start.index), self.byte(s.end.index))
    }

    fn word(&self, w: &ast::Word) -> Word {
        let mut span = w.loc.as_ref().map_or((0, 0), |l| self.span(l));
        // After a line continuation the parser's location starts at the continuation.
        while span.0 < span.1 {
            let rest = self.orig.get(span.0..span.1).unwrap_or_default();
            if rest.starts_with("\\\n") {
                span.0 += 2;
            } else if rest.starts_with([' ', '\t', '\n']) {
                span.0 += 1;
            } else {
                break;
            }
        }
        let raw = match self.orig.get(span.0..span.1) {
            Some(raw) if span.1 > span.0 => raw.to_string(),
            _ => self.prepared.restore(&w.value),
        };
        Word { raw, parsed: w.value.clone(), span }
    }

    fn describe(&self, list: &ast::CompoundList) -> String {
        let text = list
            .0
            .first()
            .and_then(|i| ast::SourceLocation::location(&i.0))
            .map(|l| {
                let (s, e) = self.span(&l);
                self.orig.get(s..e.max(s)).unwrap_or_default().to_string()
            })
            .unwrap_or_default();
        let text: String = text.lines().next().unwrap_or_default().chars().take(80).collect();
        text
    }

    fn list(&mut self, list: &ast::CompoundList) {
        for item in &list.0 {
            self.and_or(&item.0);
        }
    }

    fn and_or(&mut self, l: &ast::AndOrList) {
        let saved_tested = self.tested;
        let n = l.additional.len();
        self.tested = saved_tested || n > 0;
        self.pipeline(&l.first);
        let saved = self.conditional;
        for (i, next) in l.additional.iter().enumerate() {
            self.conditional = true;
            // The last command of an `a && b` list is not tested: its failure stops `set -e`.
            self.tested = saved_tested || i + 1 < n;
            match next {
                ast::AndOr::And(p) | ast::AndOr::Or(p) => self.pipeline(p),
            }
        }
        self.conditional = saved;
        self.tested = saved_tested;
    }

    fn pipeline(&mut self, p: &ast::Pipeline) {
        let saved = self.tested;
        if p.bang {
            self.tested = true;
        }
        for (i, c) in p.seq.iter().enumerate() {
            self.piped = i > 0;
            self.command(c);
        }
        self.piped = false;
        self.tested = saved;
    }

    /// A condition list: every command in it is tested.
    fn condition(&mut self, list: &ast::CompoundList) {
        let saved = self.tested;
        self.tested = true;
        self.list(list);
        self.tested = saved;
    }

    fn with_branch(&mut self, label: String, f: impl FnOnce(&mut Self)) {
        self.branch.push(label);
        f(self);
        self.branch.pop();
    }

    fn command(&mut self, c: &ast::Command) {
        match c {
            ast::Command::Simple(s) => self.simple(s),
            ast::Command::Compound(cc, _) => self.compound(cc),
            ast::Command::Function(f) => {
                let saved = self.function.replace(f.fname.value.clone());
                self.compound(&f.body.0);
                self.function = saved;
            }
            ast::Command::ExtendedTest(..) => {}
        }
    }

    fn compound(&mut self, cc: &ast::CompoundCommand) {
        match cc {
            ast::CompoundCommand::BraceGroup(b) => self.list(&b.list),
            ast::CompoundCommand::Subshell(s) => self.list(&s.list),
            ast::CompoundCommand::IfClause(i) => {
                self.condition(&i.condition);
                let cond = format!("if {}", self.describe(&i.condition));
                self.with_branch(cond.clone(), |w| w.list(&i.then));
                for e in i.elses.iter().flatten() {
                    let label = match &e.condition {
                        Some(c) => {
                            self.with_branch(format!("not ({cond})"), |w| w.condition(c));
                            format!("elif {}", self.describe(c))
                        }
                        None => format!("else of ({cond})"),
                    };
                    self.with_branch(label, |w| w.list(&e.body));
                }
            }
            ast::CompoundCommand::CaseClause(c) => {
                for item in &c.cases {
                    let pats: Vec<&str> = item.patterns.iter().map(|p| p.value.as_str()).collect();
                    let label = format!("case {} in {}", c.value.value, pats.join("|"));
                    if let Some(cmd) = &item.cmd {
                        self.with_branch(label, |w| w.list(cmd));
                    }
                }
            }
            ast::CompoundCommand::ForClause(f) => {
                self.with_branch(format!("for {}", f.variable_name), |w| w.list(&f.body.list))
            }
            ast::CompoundCommand::WhileClause(wc) | ast::CompoundCommand::UntilClause(wc) => {
                self.condition(&wc.0);
                self.with_branch(format!("loop while {}", self.describe(&wc.0)), |w| w.list(&wc.1.list));
            }
            ast::CompoundCommand::ArithmeticForClause(a) => {
                self.with_branch("for ((…))".into(), |w| w.list(&a.body.list))
            }
            ast::CompoundCommand::Arithmetic(_) | ast::CompoundCommand::Coprocess(_) => {}
        }
    }

    fn simple(&mut self, s: &ast::SimpleCommand) {
        let mut cmd = Command {
            words: Vec::new(),
            assignments: Vec::new(),
            redirects: Vec::new(),
            span: (usize::MAX, 0),
            branch: self.branch.clone(),
            conditional: self.conditional,
            function: self.function.clone(),
            piped: self.piped,
            appends: Vec::new(),
            tested: self.tested,
        };
        let mut grow = |span: (usize, usize), cmd: &mut Command| {
            if span.1 > span.0 || span.0 != 0 {
                cmd.span = (cmd.span.0.min(span.0), cmd.span.1.max(span.1));
            }
        };
        for item in s.prefix.iter().flat_map(|p| p.0.iter()) {
            self.item(item, &mut cmd, &mut grow);
        }
        if let Some(w) = &s.word_or_name {
            let w = self.word(w);
            grow(w.span, &mut cmd);
            cmd.words.push(w);
        }
        for item in s.suffix.iter().flat_map(|p| p.0.iter()) {
            self.item(item, &mut cmd, &mut grow);
        }
        if cmd.span.0 == usize::MAX {
            cmd.span = (0, 0);
        }
        self.out.push(cmd);
    }

    fn item(
        &self,
        item: &ast::CommandPrefixOrSuffixItem,
        cmd: &mut Command,
        grow: &mut impl FnMut((usize, usize), &mut Command),
    ) {
        match item {
            ast::CommandPrefixOrSuffixItem::Word(w) => {
                let w = self.word(w);
                grow(w.span, cmd);
                cmd.words.push(w);
            }
            ast::CommandPrefixOrSuffixItem::AssignmentWord(a, w) => {
                let word = self.word(w);
                grow(word.span, cmd);
                let value = match &a.value {
                    ast::AssignmentValue::Scalar(v) => self.word(v),
                    ast::AssignmentValue::Array(_) => word.clone(),
                };
                if cmd.words.is_empty() {
                    if a.append {
                        cmd.appends.push(a.name.to_string());
                    }
                    cmd.assignments.push((a.name.to_string(), value));
                } else {
                    // `export VAR=value`, `local VAR=value`: an argument of the builtin.
                    let mut w = word;
                    w.parsed = format!("{}={}", a.name, value.parsed);
                    cmd.words.push(w);
                }
            }
            ast::CommandPrefixOrSuffixItem::IoRedirect(r) => cmd.redirects.push(match r {
                ast::IoRedirect::File(_, kind, ast::IoFileRedirectTarget::Filename(w)) => match kind {
                    ast::IoFileRedirectKind::Write | ast::IoFileRedirectKind::Clobber => {
                        Redirect::Write { path: self.word(w), append: false }
                    }
                    ast::IoFileRedirectKind::Append => Redirect::Write { path: self.word(w), append: true },
                    _ => Redirect::Other,
                },
                ast::IoRedirect::HereDocument(_, h) => {
                    Redirect::HereDoc { body: self.prepared.restore(&h.doc.value), expands: h.requires_expansion }
                }
                _ => Redirect::Other,
            }),
            ast::CommandPrefixOrSuffixItem::ProcessSubstitution(..) => {}
        }
    }
}

/// Template directives around a command are branches too; a placeholder no-op standing for a
/// directive alone on its line is not a command.
fn with_directives(prepared: &Prepared, mut cmd: Command) -> Option<Command> {
    let directives: Vec<String> =
        prepared.enclosing_directives(cmd.span.0).iter().map(|t| format!("template {}", t.text.trim())).collect();
    if !directives.is_empty() {
        let mut b = directives;
        b.append(&mut cmd.branch);
        cmd.branch = b;
    }
    let is_directive_stub = cmd.name() == Some(":")
        && matches!(cmd.words.as_slice(), [_, stub] if stub.parsed.starts_with(template::MARK)
            && prepared.tokens.iter().any(|t| t.directive.is_some() && t.text == stub.raw));
    (!is_directive_stub).then_some(cmd)
}

/// Both readers' commands, each placed in its template branches ([`with_directives`]).
fn in_branches(prepared: &Prepared, commands: Vec<Command>) -> Vec<Command> {
    commands.into_iter().filter_map(|c| with_directives(prepared, c)).collect()
}

/// Parses a script. Template syntax is made opaque first (`syntax` from [`template::detect`]
/// or the user).
pub fn parse(orig: &str, syntax: Syntax) -> Result<Script, ParseError> {
    thread_local! {
        static MEMO: std::cell::RefCell<crate::memo::Memo<(String, Syntax), Result<Script, ParseError>>> =
            Default::default();
    }
    // Short snippets (bootstrap.sh's lines, an implied call) parse faster than they copy.
    if orig.len() < MEMO_MIN {
        return parse_uncached(orig, syntax);
    }
    crate::memo::get_or(&MEMO, (orig.to_string(), syntax), |(orig, syntax)| parse_uncached(orig, *syntax))
}

/// Scripts at least this long are memoised (see `crate::memo`).
const MEMO_MIN: usize = 256;

thread_local! {
    static IN_PARSER: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Runs brush-parser, turning a panic inside it into `None`. brush-parser 0.4 unwraps in its
/// tokenizer on some unterminated `${` (`${<<T\n}` panics there); user data must not crash the
/// tool, so its panics are caught here and kept off stderr (the hook stays silent only while
/// this thread is inside the parser; every other panic is reported as before).
fn guarded<T>(f: impl FnOnce() -> T) -> Option<T> {
    static HOOK: std::sync::Once = std::sync::Once::new();
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !IN_PARSER.with(std::cell::Cell::get) {
                previous(info);
            }
        }));
    });
    IN_PARSER.with(|c| c.set(true));
    let out = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).ok();
    IN_PARSER.with(|c| c.set(false));
    out
}

/// Parentheses nested deeper than this are not handed to brush: its PEG parser backtracks
/// exponentially through nested arithmetic (`((((…`), and one 1.4 KB input took minutes (found
/// by the `convert` fuzz target). Real scripts nest a few levels.
const MAX_PAREN_DEPTH: usize = 16;

/// The byte offset where parentheses first nest deeper than [`MAX_PAREN_DEPTH`], if they do.
fn too_deep(text: &str) -> Option<usize> {
    let mut depth = 0usize;
    for (i, b) in text.bytes().enumerate() {
        match b {
            b'(' => {
                depth += 1;
                if depth > MAX_PAREN_DEPTH {
                    return Some(i);
                }
            }
            b')' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    None
}

fn parse_uncached(orig: &str, syntax: Syntax) -> Result<Script, ParseError> {
    let prepared = template::prepare(orig, syntax);
    if let Some(at) = too_deep(&prepared.text) {
        // The commands before the line it starts on can still be read (`bash::parse`).
        let line = prepared.text.get(..at).and_then(|t| t.rfind('\n')).map_or(0, |n| n + 1);
        return Err(ParseError {
            message: format!("parentheses nest more than {MAX_PAREN_DEPTH} levels deep; this is not read as shell"),
            offset: Some(prepared.remap.to_orig(line)),
        });
    }
    if let Some(commands) = super::shell_plain::parse(&prepared, orig) {
        return Ok(Script { commands: in_branches(&prepared, commands).into(), prepared: prepared.into() });
    }
    brush(orig, prepared)
}

/// Both readings of a text, for the differential test (`tests/it/shell_plain.rs`): the plain
/// reader's (`None` where it declines) and brush-parser's.
#[doc(hidden)]
pub fn readings(orig: &str, syntax: Syntax) -> (Option<Vec<Command>>, Result<Vec<Command>, ParseError>) {
    let prepared = template::prepare(orig, syntax);
    let plain = super::shell_plain::parse(&prepared, orig).map(|cs| in_branches(&prepared, cs));
    let brush = if too_deep(&prepared.text).is_some() {
        Err(ParseError { message: "too deep".into(), offset: None })
    } else {
        brush(orig, prepared).map(|s| s.commands.to_vec())
    };
    (plain, brush)
}

/// Whether the last line, with no newline after it, opens a here-document whose delimiter is
/// only quotes (`<<''`, `<<-""`): brush-parser 0.4 then loops at the end of the input,
/// allocating without bound (found by a second reader; `cat <<'' ` took gigabytes).
fn empty_tag_on_last_line(text: &str) -> bool {
    let last = text.rsplit('\n').next().unwrap_or(text);
    let mut rest = last;
    while let Some(at) = rest.find("<<") {
        let after = rest.get(at + 2..).unwrap_or_default();
        let tag = after.strip_prefix('-').unwrap_or(after).trim_start_matches([' ', '\t']);
        let word = tag.split([' ', '\t', ';', '&', '|', '<', '>']).next().unwrap_or_default();
        if !word.is_empty() && word.chars().all(|c| c == '\'' || c == '"') {
            return true;
        }
        rest = after;
    }
    false
}

/// The commands of `prepared` as brush-parser reads it.
pub(super) fn brush(orig: &str, prepared: Prepared) -> Result<Script, ParseError> {
    if empty_tag_on_last_line(&prepared.text) {
        return Err(ParseError {
            message: "a here-document with an empty delimiter (`<<''`) on the last line is not read as shell".into(),
            offset: Some(prepared.remap.to_orig(prepared.text.rfind('\n').map_or(0, |n| n + 1))),
        });
    }
    let options = brush_parser::ParserOptions::default();
    let mut char_to_byte: Vec<usize> = prepared.text.char_indices().map(|(b, _)| b).collect();
    char_to_byte.push(prepared.text.len());
    let Some(parsed) = guarded(|| brush_parser::Parser::new(prepared.text.as_bytes(), &options).parse_program()) else {
        return Err(ParseError {
            message: "the shell parser (brush-parser) failed on this text; it is read as not parseable".into(),
            offset: None,
        });
    };
    let program = parsed.map_err(|e| {
        let pos = match &e {
            brush_parser::ParseError::ParsingNear(p) => Some(p.index),
            brush_parser::ParseError::Tokenizing { position: Some(p), .. } => Some(p.index),
            _ => None,
        };
        ParseError {
            message: e.to_string(),
            offset: pos.map(|p| prepared.remap.to_orig(char_to_byte.get(p).copied().unwrap_or(prepared.text.len()))),
        }
    })?;
    let mut w = Walker {
        prepared: &prepared,
        char_to_byte,
        orig,
        out: Vec::new(),
        branch: Vec::new(),
        conditional: false,
        function: None,
        piped: false,
        tested: false,
    };
    for cc in &program.complete_commands {
        w.list(cc);
    }
    let commands = in_branches(&prepared, w.out);
    Ok(Script { commands: commands.into(), prepared: prepared.into() })
}

#[cfg(test)]
#[allow(clippy::string_slice)]
mod tests {
    use super::*;

    fn names(s: &Script) -> Vec<String> {
        s.commands.iter().map(|c| c.words.iter().map(|w| w.raw.as_str()).collect::<Vec<_>>().join(" ")).collect()
    }

    #[test]
    fn flattens_commands_with_branches_and_spans() {
        let text = "#!/bin/bash\nset -ex\nCA=abc\nif [ \"$SPOT\" = true ]; then\n  /etc/eks/bootstrap.sh c \\\n    --kubelet-extra-args '--node-labels=a=b' || exit 1\nelse\n  sudo /etc/eks/bootstrap.sh c\nfi\nf() { echo in-f; }\n";
        let s = parse(text, Syntax::None).unwrap();
        assert_eq!(
            names(&s),
            [
                "set -ex",
                "",
                "[ \"$SPOT\" = true ]",
                "/etc/eks/bootstrap.sh c --kubelet-extra-args '--node-labels=a=b'",
                "exit 1",
                "sudo /etc/eks/bootstrap.sh c",
                "echo in-f",
            ]
        );
        assert_eq!(s.commands[1].assignments[0].0, "CA");
        let call = &s.commands[3];
        assert_eq!(call.branch, ["if [ \"$SPOT\" = true ]"]);
        assert!(&text[call.span.0..call.span.1].starts_with("/etc/eks/bootstrap.sh c \\\n"));
        assert!(text[call.span.0..call.span.1].ends_with("'--node-labels=a=b'"));
        assert!(s.commands[4].conditional);
        assert_eq!(s.commands[5].branch, ["else of (if [ \"$SPOT\" = true ])"]);
        assert_eq!(s.commands[6].function.as_deref(), Some("f"));
    }

    #[test]
    fn an_empty_quoted_here_document_tag_on_the_last_line_is_refused_before_brush_parser_loops() {
        // Found by a second reader: brush-parser allocated gigabytes on these.
        for text in ["cat <<'' ", "cat <<\"\" ", "cat <<-'' x ", "a\ncat <<'''' ", "cat <<'' #c"] {
            let e = parse(text, Syntax::None).unwrap_err();
            assert!(e.message.contains("empty delimiter"), "{text:?}: {e:?}");
        }
        // With the newline brush-parser reads it (an empty line would end the body).
        assert!(!matches!(parse("echo a\ncat <<'' \n", Syntax::None), Err(e) if e.message.contains("empty delimiter")));
        assert!(!empty_tag_on_last_line("cat <<EOF "));
    }

    #[test]
    fn a_parser_panic_is_a_parse_error() {
        // brush-parser 0.4 panics on this text; the tool reads it as not parseable.
        let e = parse("echo ${<<T\n}\nT\n", Syntax::None).unwrap_err();
        assert!(e.message.contains("brush-parser"), "{e:?}");
    }

    #[test]
    fn deep_parentheses_are_refused_before_the_parser_backtracks() {
        // Found by the `convert` fuzz target: brush took minutes on nested arithmetic.
        let text = format!("echo before\n{}\necho after\n", "(".repeat(40));
        let e = parse(&text, Syntax::None).unwrap_err();
        assert!(e.message.contains("nest more than"), "{e:?}");
        assert_eq!(e.offset, Some("echo before\n".len()));
        let (script, _) = crate::al2::bash::parse(&text, Syntax::None).unwrap();
        assert_eq!(script.commands.len(), 1, "the command before it is still read");
        assert!(parse("x=$(( (1 + (2 * (3))) ))\n", Syntax::None).is_ok());
    }

    #[test]
    fn heredocs_and_redirects() {
        let text = "cat <<'EOF' > /etc/eks/containerd/containerd-config.toml\nversion = 2\n[plugins]\nEOF\necho x >> /var/log/x\n";
        let s = parse(text, Syntax::None).unwrap();
        assert_eq!(s.commands[0].redirects.len(), 2, "{:?}", s.commands[0].redirects);
        assert!(
            s.commands[0]
                .redirects
                .iter()
                .any(|r| matches!(r, Redirect::HereDoc { body, expands: false } if body == "version = 2\n[plugins]\n"))
        );
        assert!(s.commands[0].redirects.iter().any(|r| matches!(r, Redirect::Write { path, append: false } if path.raw == "/etc/eks/containerd/containerd-config.toml")));
        assert!(matches!(&s.commands[1].redirects[0], Redirect::Write { append: true, .. }));
    }

    #[test]
    fn go_templates_are_opaque() {
        let text = "#!/bin/bash\n{{ if .Spot }}\n/etc/eks/bootstrap.sh {{ .ClusterName }} --kubelet-extra-args '--node-labels={{ .Labels }}'\n{{ end }}\n";
        assert_eq!(template::detect(text), Syntax::Go);
        let s = parse(text, Syntax::Go).unwrap();
        assert_eq!(s.commands.len(), 1, "{:?}", s.commands);
        assert_eq!(s.commands[0].words[1].raw, "{{ .ClusterName }}");
        assert_eq!(s.commands[0].branch, ["template {{ if .Spot }}"]);
    }

    #[test]
    fn templates_parse_and_keep_their_text() {
        let text = "#!/bin/bash\n%{ if spot ~}\n/etc/eks/bootstrap.sh ${cluster_name} --b64-cluster-ca ${ca}\n%{ endif ~}\necho $${HOME}\n";
        let s = parse(text, Syntax::Terraform).unwrap();
        assert_eq!(names(&s), ["/etc/eks/bootstrap.sh ${cluster_name} --b64-cluster-ca ${ca}", "echo $${HOME}"]);
        assert_eq!(s.commands[0].branch, ["template %{ if spot ~}"]);
        assert_eq!(s.commands[0].words[1].parsed, "EKSUDTPL1X");
        assert_eq!(s.commands[1].words[1].parsed, "${HOME}");
    }

    #[test]
    fn syntax_errors_have_positions() {
        let e = parse("if true; then\n  echo\n", Syntax::None).unwrap_err();
        assert!(e.message.contains("syntax error"), "{e:?}");
        let e = parse("echo 'unterminated\n", Syntax::None).unwrap_err();
        assert!(e.offset.is_some() || e.message.contains("end of input"), "{e:?}");
    }
}
