//! Template syntax is opaque (docs/architecture.md invariant 4): Terraform `${…}` and
//! `%{ if … }…%{ endif }`, CloudFormation `${AWS::Region}`/`${Param}` (with `${!Literal}` for a
//! literal `${Literal}`), and Go `%s` verbs must survive byte for byte. The shell parser cannot
//! read `%{ … }`, so before parsing each template token is replaced by a plain word
//! (`EKSUDTPL<n>X`) and a [`Remap`] carries parse offsets back to the original text. Values that
//! contain such a word are emitted as the original template text.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Syntax {
    /// Plain shell: `${VAR}` is a shell expansion.
    None,
    /// Terraform `templatefile`: `${expr}` and `%{ directive }` are Terraform, `$${` and `%%{`
    /// are escapes for a literal `${` and `%{`.
    Terraform,
    /// CloudFormation `Fn::Sub`: `${Name}` is CloudFormation, `${!Name}` a literal `${Name}`.
    CloudFormation,
    /// Go `text/template` (`{{ .Field }}`, `{{ if … }}…{{ end }}`), as generators written in Go
    /// fill user data; `${VAR}` stays shell.
    Go,
}

impl fmt::Display for Syntax {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Syntax::None => "none",
            Syntax::Terraform => "terraform",
            Syntax::CloudFormation => "cloudformation",
            Syntax::Go => "go",
        })
    }
}

/// Guesses the syntax: Terraform's escapes and directives, CloudFormation's pseudo parameters,
/// or a `${lower_case}` placeholder in single quotes, which a shell would never expand.
pub fn detect(text: &str) -> Syntax {
    thread_local! {
        static MEMO: crate::memo::Slot<String, Syntax> = Default::default();
    }
    // `convert` asks about the same texts (its input and output parts) about ten times.
    if text.len() < 256 {
        return detect_uncached(text);
    }
    crate::memo::get_or(&MEMO, text.to_string(), |t| detect_uncached(t))
}

fn detect_uncached(text: &str) -> Syntax {
    use memchr::memmem;
    // Every sign below holds a `$`, a `%` or `{{`; most user data has none of them, and those
    // three single searches are much cheaper than the ones below. memmem rather than `str`'s
    // searcher: texts are read several times per conversion.
    let bytes = text.as_bytes();
    let has = |needle: &str| memmem::find(bytes, needle.as_bytes()).is_some();
    let (dollar, percent) = (memchr::memchr(b'$', bytes).is_some(), memchr::memchr(b'%', bytes).is_some());
    if !dollar && !percent && !has("{{") {
        return Syntax::None;
    }
    let after = |i: usize, skip: usize| text.get(i + skip..).unwrap_or_default();
    let quoted_placeholder = dollar
        && memmem::find_iter(bytes, b"'${").any(|i| {
            after(i, 3)
                .split_once('}')
                .is_some_and(|(name, _)| name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'))
        });
    // CloudFormation parameters are CamelCase (`${ClusterName}`); shell variables are usually
    // UPPER_CASE and Terraform variables snake_case.
    let camel_placeholder = dollar
        && memmem::find_iter(bytes, b"${").any(|i| {
            after(i, 2).split_once('}').is_some_and(|(name, _)| {
                name.starts_with(|c: char| c.is_ascii_uppercase())
                    && name.chars().any(|c| c.is_ascii_lowercase())
                    && name.chars().all(|c| c.is_ascii_alphanumeric() || c == ':' || c == '.')
            })
        });
    let go_action = memmem::find_iter(bytes, b"{{").any(|i| {
        let rest = after(i, 2).trim_start_matches('-').trim_start();
        rest.starts_with('.')
            || ["if ", "end", "range ", "else", "with ", "template "].iter().any(|k| rest.starts_with(k))
    });
    if (percent && has("%{")) || (dollar && has("$${")) || quoted_placeholder {
        Syntax::Terraform
    } else if dollar && (has("${AWS::") || has("${!") || camel_placeholder) {
        Syntax::CloudFormation
    } else if go_action && has("}}") {
        Syntax::Go
    } else {
        Syntax::None
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DirectiveKind {
    If,
    Else,
    EndIf,
    For,
    EndFor,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    /// The original text, e.g. `${cluster_name}` or `%{ if spot ~}`.
    pub text: String,
    pub start: usize,
    pub directive: Option<DirectiveKind>,
}

/// One replaced region: `parse` offsets ↔ `orig` offsets.
#[derive(Debug, Clone, Copy)]
struct Region {
    parse: (usize, usize),
    orig: (usize, usize),
}

#[derive(Debug, Clone, Default)]
pub struct Remap {
    regions: Vec<Region>,
}

impl Remap {
    /// Maps an offset in the parsed text to the original text.
    pub fn to_orig(&self, p: usize) -> usize {
        let i = self.regions.partition_point(|r| r.parse.0 <= p);
        let Some(r) = i.checked_sub(1).and_then(|last| self.regions.get(last)) else { return p };
        if p < r.parse.1 { r.orig.0 } else { r.orig.1 + (p - r.parse.1) }
    }
}

#[derive(Debug, Clone)]
pub struct Prepared {
    pub syntax: Syntax,
    /// What the shell parser reads.
    pub text: String,
    pub remap: Remap,
    /// Placeholder `n` stands for `tokens[n]`.
    pub tokens: Vec<Token>,
}

pub const MARK: &str = "EKSUDTPL";

fn directive_kind(inner: &str) -> Option<DirectiveKind> {
    let word = inner.trim_matches(|c: char| c == '~' || c.is_whitespace()).split_whitespace().next()?;
    Some(match word {
        "if" => DirectiveKind::If,
        "else" => DirectiveKind::Else,
        "endif" => DirectiveKind::EndIf,
        "for" => DirectiveKind::For,
        "endfor" => DirectiveKind::EndFor,
        _ => return None,
    })
}

/// End of a `${…}`/`%{…}` starting at `open` (the `{`), counting nested braces and skipping
/// quoted strings inside the expression.
fn closing(text: &[u8], open: usize) -> Option<usize> {
    let mut depth = 0;
    let mut i = open;
    let mut quote = false;
    while let Some(&c) = text.get(i) {
        match c {
            b'"' => quote = !quote,
            b'\\' if quote => i += 1,
            b'{' if !quote => depth += 1,
            b'}' if !quote => {
                depth -= 1;
                if depth == 0 {
                    return Some(i + 1);
                }
            }
            b'\n' if depth == 1 && !quote => return None,
            _ => {}
        }
        i += 1;
    }
    None
}

/// Replaces template tokens with placeholder words.
pub fn prepare(orig: &str, syntax: Syntax) -> Prepared {
    let mut out =
        Prepared { syntax, text: String::with_capacity(orig.len()), remap: Remap::default(), tokens: Vec::new() };
    if syntax == Syntax::None {
        out.text = orig.to_string();
        return out;
    }
    let b = orig.as_bytes();
    let mut i = 0;
    let mut copied = 0;
    let push = |out: &mut Prepared,
                start: usize,
                end: usize,
                replacement: String,
                token: Option<Token>,
                copied: &mut usize| {
        out.text.push_str(orig.get(*copied..start).unwrap_or_default());
        let ps = out.text.len();
        out.text.push_str(&replacement);
        out.remap.regions.push(Region { parse: (ps, out.text.len()), orig: (start, end) });
        if let Some(t) = token {
            out.tokens.push(t);
        }
        *copied = end;
    };
    while i < b.len() {
        let rest = b.get(i..).unwrap_or_default();
        let escape = match syntax {
            Syntax::Terraform => rest.starts_with(b"$${") || rest.starts_with(b"%%{"),
            Syntax::CloudFormation => rest.starts_with(b"${!"),
            Syntax::None | Syntax::Go => false,
        };
        if escape {
            // The rendered text has a literal `${`/`%{`; the shell sees that.
            let (replacement, len) = match syntax {
                Syntax::Terraform => (if rest.first() == Some(&b'$') { "${" } else { "%{" }, 3),
                _ => ("${", 3),
            };
            push(&mut out, i, i + len, replacement.to_string(), None, &mut copied);
            i += len;
            continue;
        }
        // Go actions: `{{ … }}` to the first `}}`; an action alone on its line is a no-op
        // command, like a Terraform directive.
        if syntax == Syntax::Go
            && rest.starts_with(b"{{")
            && let Some(close) = orig
                .get(i + 2..)
                .and_then(|r| r.split_once("}}"))
                .filter(|(action, _)| !action.contains('\n'))
                .map(|(action, _)| action.len())
        {
            let end = i + 2 + close + 2;
            let text = orig.get(i..end).unwrap_or_default();
            let inner = text.get(2..close + 2).unwrap_or_default().trim_matches('-').trim();
            let kind = if inner.starts_with("if ") || inner.starts_with("range ") || inner.starts_with("with ") {
                Some(DirectiveKind::If)
            } else if inner.starts_with("else") {
                Some(DirectiveKind::Else)
            } else if inner == "end" {
                Some(DirectiveKind::EndIf)
            } else {
                None
            };
            let directive = kind.is_some();
            let n = out.tokens.len();
            let word = format!("{MARK}{n}X");
            let alone = directive && line_before(orig, i).trim().is_empty();
            let replacement = if alone {
                format!(": {word}")
            } else if directive {
                String::new()
            } else {
                word
            };
            let token = Token { text: text.to_string(), start: i, directive: kind };
            push(&mut out, i, end, replacement, Some(token), &mut copied);
            i = end;
            continue;
        }
        let opens = (syntax != Syntax::Go && rest.starts_with(b"${"))
            || (syntax == Syntax::Terraform && rest.starts_with(b"%{"));
        if opens && let Some(end) = closing(b, i + 1) {
            let text = orig.get(i..end).unwrap_or_default();
            let percent = rest.first() == Some(&b'%');
            let directive =
                percent.then(|| text.get(2..).and_then(|t| t.strip_suffix('}')).and_then(directive_kind)).flatten();
            let n = out.tokens.len();
            let token = Token { text: text.to_string(), start: i, directive };
            let word = format!("{MARK}{n}X");
            // A directive alone on its line becomes a no-op command, so the script still parses.
            let alone = percent && line_before(orig, i).trim().is_empty();
            // A directive inside a line (`name%{ if x } --flag%{ endif }`) is read as if its
            // condition held: it disappears, and what it guards stays.
            let replacement = if alone {
                format!(": {word}")
            } else if percent {
                String::new()
            } else {
                word
            };
            push(&mut out, i, end, replacement, Some(token), &mut copied);
            i = end;
            continue;
        }
        // Every token starts with `$`, `%` or `{`: nothing else needs a look.
        i += 1;
        i = b.get(i..).and_then(|r| memchr::memchr3(b'$', b'%', b'{', r)).map_or(b.len(), |p| i + p);
    }
    out.text.push_str(orig.get(copied..).unwrap_or_default());
    out
}

/// The text from the start of `at`'s line up to `at`.
fn line_before(text: &str, at: usize) -> &str {
    let head = text.get(..at).unwrap_or_default();
    head.rsplit_once('\n').map_or(head, |(_, line)| line)
}

impl Prepared {
    /// Replaces placeholder words in `s` by the template text they stand for.
    pub fn restore(&self, s: &str) -> String {
        if self.tokens.is_empty() || !s.contains(MARK) {
            return s.to_string();
        }
        let mut out = String::with_capacity(s.len());
        let mut rest = s;
        while let Some((before, after)) = rest.split_once(MARK) {
            out.push_str(before);
            let digits = after.find(|c: char| !c.is_ascii_digit()).unwrap_or(after.len());
            let (number, tail) = after.split_at_checked(digits).unwrap_or((after, ""));
            match (number.parse::<usize>().ok().and_then(|n| self.tokens.get(n)), tail.strip_prefix('X')) {
                (Some(t), Some(tail)) => {
                    out.push_str(&t.text);
                    rest = tail;
                }
                _ => {
                    out.push_str(MARK);
                    rest = after;
                }
            }
        }
        out.push_str(rest);
        out
    }

    /// The template directives enclosing an original offset, outermost first.
    pub fn enclosing_directives(&self, orig_offset: usize) -> Vec<&Token> {
        let mut stack: Vec<&Token> = Vec::new();
        for t in self.tokens.iter().take_while(|t| t.start < orig_offset) {
            match t.directive {
                Some(DirectiveKind::If | DirectiveKind::For) => stack.push(t),
                Some(DirectiveKind::Else) => {
                    stack.pop();
                    stack.push(t);
                }
                Some(DirectiveKind::EndIf | DirectiveKind::EndFor) => {
                    stack.pop();
                }
                None => {}
            }
        }
        stack
    }
}

/// Terraform directives made readable to a YAML parser without moving a byte: a line holding only
/// directives (`%{ if gpu ~}`) becomes a `#` comment, an inline directive becomes `${    }`,
/// which value checks already treat as template text. Spans into the result are spans into
/// `text`. Other syntaxes come back unchanged (their `${…}` is already valid YAML).
pub fn mask_for_yaml(text: &str) -> std::borrow::Cow<'_, str> {
    if detect(text) != Syntax::Terraform {
        return std::borrow::Cow::Borrowed(text);
    }
    let directives = if text.contains("%{") { std::borrow::Cow::Owned(mask_directives(text)) } else { text.into() };
    mask_interpolation_quotes(directives)
}

/// An interpolation renders to one value wherever it sits, but the quotes of the expression
/// inside it (`"${join(",", labels)}"`) would end a YAML quoted scalar early: inside `${…}`,
/// quotes and backslashes become `_` (same length, so spans stay true).
fn mask_interpolation_quotes(text: std::borrow::Cow<'_, str>) -> std::borrow::Cow<'_, str> {
    let b = text.as_bytes();
    let mut ranges = Vec::new();
    let mut i = 0;
    while let Some(at) = text.get(i..).and_then(|r| r.find("${")).map(|p| p + i) {
        let escaped = at > 0 && b.get(at - 1) == Some(&b'$');
        let end = crate::template::terraform::sequence_end(&text, at);
        match end {
            Some(end) if !escaped => {
                if b.get(at + 2..end).is_some_and(|inner| inner.iter().any(|c| matches!(c, b'"' | b'\'' | b'\\'))) {
                    ranges.push((at + 2, end));
                }
                i = end + 1;
            }
            _ => i = at + 2,
        }
    }
    if ranges.is_empty() {
        return text;
    }
    let mut bytes = text.into_owned().into_bytes();
    for (s, e) in ranges {
        for c in bytes.get_mut(s..e).into_iter().flatten() {
            if matches!(*c, b'"' | b'\'' | b'\\') {
                *c = b'_';
            }
        }
    }
    // Only ASCII bytes were replaced by ASCII, so the text is still UTF-8.
    std::borrow::Cow::Owned(String::from_utf8_lossy(&bytes).into_owned())
}

fn mask_directives(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        let body = line.trim_end_matches(['\n', '\r']);
        let mut masked = String::with_capacity(line.len());
        let mut rest = body;
        let mut only_directives = true;
        while let Some((head, tail)) = rest.split_once("%{") {
            // `%%{` is Terraform's escape for a literal `%{`.
            if head.ends_with('%') {
                masked.push_str(head);
                masked.push_str("%{");
                rest = tail;
                only_directives = false;
                continue;
            }
            let Some((inner, after)) = tail.split_once('}') else { break };
            if !head.trim().is_empty() {
                only_directives = false;
            }
            masked.push_str(head);
            masked.push_str("${");
            masked.push_str(&" ".repeat(inner.len()));
            masked.push('}');
            rest = after;
        }
        if !rest.trim().is_empty() {
            only_directives = false;
        }
        masked.push_str(rest);
        if only_directives && body.contains("%{") {
            let indent = body.len() - body.trim_start().len();
            masked = format!("{}#{}", body.get(..indent).unwrap_or_default(), " ".repeat(body.len() - indent - 1));
        }
        out.push_str(&masked);
        out.push_str(line.get(body.len()..).unwrap_or_default());
    }
    out
}

/// A literal placeholder someone forgot to fill in (`XXXX`, `<cluster-name>`, `my-cluster`,
/// `REPLACE_ME`): the word found, if any. Template syntax (`${x}`) is not a literal placeholder.
pub fn literal_placeholder(s: &str) -> Option<&str> {
    const WORDS: &[&str] = &[
        "my-cluster",
        "your-cluster",
        "cluster-name",
        "CLUSTER_NAME",
        "REPLACE_ME",
        "REPLACEME",
        "CHANGE_ME",
        "CHANGEME",
        "changeme",
        "TODO",
        "TBD",
        "FIXME",
    ];
    if let Some(xs) = memchr::memmem::find(s.as_bytes(), b"XXXX").and_then(|i| s.get(i..)) {
        let end = xs.find(|c| c != 'X').unwrap_or(xs.len());
        return xs.get(..end);
    }
    if let (Some(a), Some(b)) = (s.find('<'), s.rfind('>'))
        && b > a + 1
        && let Some(inner) = s.get(a + 1..b)
        && inner.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | ' ' | '.'))
    {
        return s.get(a..=b);
    }
    // The first of WORDS (in its order) that is a whole segment.
    s.split(['.', '/', ':'])
        .filter_map(|seg| WORDS.iter().position(|w| *w == seg))
        .min()
        .and_then(|i| WORDS.get(i))
        .copied()
}

/// The `${…}` placeholders in a text (not `$${`, Terraform's escape for a literal `${`).
pub fn placeholders(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut at = 0;
    while let Some(i) = s.get(at..).and_then(|r| r.find("${")) {
        let start = at + i;
        let escaped = start > 0 && s.as_bytes().get(start - 1) == Some(&b'$');
        match s.get(start..).and_then(|r| r.find('}')) {
            Some(end) => {
                if !escaped && let Some(placeholder) = s.get(start..=start + end) {
                    out.push(placeholder.to_string());
                }
                at = start + end + 1;
            }
            None => break,
        }
    }
    out
}

/// Whether a value holds template text a renderer fills in: `${…}`, `%{…}` or a printf verb.
pub fn has_placeholder(s: &str) -> bool {
    (s.contains("${") && s.contains('}'))
        || s.contains("%{")
        || has_printf_verb(s)
        || (s.contains("{{") && s.contains("}}"))
}

/// Whether a value is (or contains) Go `printf` verbs such as `%s`, used by generators that
/// fill user data with `fmt.Sprintf`.
pub fn has_printf_verb(s: &str) -> bool {
    let b = s.as_bytes();
    b.windows(2).any(|w| matches!(w, [b'%', b's' | b'd' | b'v' | b'q']))
}

#[cfg(test)]
#[allow(clippy::string_slice)]
mod tests {
    use super::*;

    #[test]
    fn masks_terraform_directives_without_moving_bytes() {
        let t = "a:\n  - x\n%{ if gpu ~}\n  - y\n%{ endif ~}\nb: %{ if p }q%{ else }r%{ endif }\nc: %%{ lit }\n";
        let m = mask_for_yaml(t);
        assert_eq!(m.len(), t.len());
        assert_eq!(m, "a:\n  - x\n#           \n  - y\n#          \nb: ${      }q${      }r${       }\nc: %%{ lit }\n");
        assert!(matches!(mask_for_yaml("a: ${x}\n"), std::borrow::Cow::Borrowed(_)));
    }

    #[test]
    fn finds_literal_placeholders() {
        assert_eq!(literal_placeholder("https://XXXXXXXX.gr7.us-west-2.eks.amazonaws.com"), Some("XXXXXXXX"));
        assert_eq!(literal_placeholder("<base64-encoded-ca>"), Some("<base64-encoded-ca>"));
        assert_eq!(literal_placeholder("my-cluster"), Some("my-cluster"));
        assert_eq!(literal_placeholder("arn:aws:eks:us-west-2:111122223333:cluster/my-cluster"), Some("my-cluster"));
        for ok in ["orders-prod", "${cluster_name}", "10.100.0.0/16", "a<b", "Xylophone", "my-cluster-2"] {
            assert_eq!(literal_placeholder(ok), None, "{ok}");
        }
    }

    #[test]
    fn detects_syntax() {
        assert_eq!(detect("echo ${A}"), Syntax::None);
        assert_eq!(detect("%{ if x }a%{ endif }"), Syntax::Terraform);
        assert_eq!(detect("echo $${HOME}"), Syntax::Terraform);
        assert_eq!(detect("--region ${AWS::Region}"), Syntax::CloudFormation);
        assert_eq!(detect("bootstrap.sh --b64-cluster-ca '${cluster_auth_base64}'"), Syntax::Terraform);
        assert_eq!(detect("--b64-cluster-ca ${ClusterCA}"), Syntax::CloudFormation);
        assert_eq!(detect("--b64-cluster-ca ${B64_CLUSTER_CA}"), Syntax::None);
        let p = prepare("x ${a}%{ if b } --f '${c}'%{ endif } y", Syntax::Terraform);
        assert_eq!(p.text, "x EKSUDTPL0X --f 'EKSUDTPL2X' y");
    }

    #[test]
    fn terraform_tokens_become_words_and_map_back() {
        let orig = "#!/bin/bash\n%{ if spot ~}\nB=${indent(2, x)} $${HOME}\n%{ endif ~}\n";
        let p = prepare(orig, Syntax::Terraform);
        assert_eq!(p.text, "#!/bin/bash\n: EKSUDTPL0X\nB=EKSUDTPL1X ${HOME}\n: EKSUDTPL2X\n");
        assert_eq!(p.tokens[1].text, "${indent(2, x)}");
        assert_eq!(p.tokens[0].directive, Some(DirectiveKind::If));
        // Offsets after a replaced region shift back.
        let ph = p.text.find("${HOME}").unwrap();
        assert_eq!(&orig[p.remap.to_orig(ph)..p.remap.to_orig(ph) + 3], "$${", "a replaced region maps to its start");
        assert_eq!(&orig[p.remap.to_orig(ph + 2)..p.remap.to_orig(ph + 2) + 3], "HOM");
        let b = p.text.find("B=").unwrap();
        assert_eq!(&orig[p.remap.to_orig(b)..p.remap.to_orig(b) + 2], "B=");
        assert_eq!(p.restore("x=EKSUDTPL1X/y"), "x=${indent(2, x)}/y");
        let inside = orig.find("B=").unwrap();
        assert_eq!(p.enclosing_directives(inside).len(), 1);
        assert!(p.enclosing_directives(orig.len()).is_empty());
    }

    #[test]
    fn cloudformation_literal_escape() {
        let p = prepare("--name ${ClusterName} --x ${!LITERAL}", Syntax::CloudFormation);
        assert_eq!(p.text, "--name EKSUDTPL0X --x ${LITERAL}");
        assert!(has_printf_verb("'%s'") && !has_printf_verb("100%"));
    }
}
