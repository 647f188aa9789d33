//! systemd unit files as AL2's systemd 219 reads them (systemd.unit(5), systemd.exec(5); the
//! quoting rules are al2-node §3.2): `[Section]` blocks of `Key=value`, `\` continuation lines,
//! `#`/`;` comments; drop-ins applied after the unit in file-name order; `Environment=` split
//! into `NAME=value` words honouring quotes (a word that is not an assignment is dropped, and a
//! quote followed by more text is "trailing garbage" that drops the whole line); `ExecStart=`
//! reset by an empty assignment; `$VAR` in a command line split into words, `${VAR}` one word.

use std::collections::BTreeMap;

/// One `Key=value` line of a unit, in file order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub section: String,
    pub key: String,
    pub value: String,
}

/// The entries of a unit file.
pub fn parse(text: &str) -> Vec<Entry> {
    let mut out = Vec::new();
    let mut section = String::new();
    let mut pending: Option<(String, String)> = None;
    for raw in text.lines() {
        let line = raw.trim_end_matches('\r');
        if let Some((key, mut value)) = pending.take() {
            let cont = line.trim_start();
            if let Some(stripped) = cont.strip_suffix('\\') {
                value.push(' ');
                value.push_str(stripped);
                pending = Some((key, value));
            } else {
                value.push(' ');
                value.push_str(cont);
                out.push(Entry { section: section.clone(), key, value });
            }
            continue;
        }
        let t = line.trim();
        if t.is_empty() || t.starts_with('#') || t.starts_with(';') {
            continue;
        }
        if let Some(name) = t.strip_prefix('[').and_then(|t| t.strip_suffix(']')) {
            section = name.to_string();
            continue;
        }
        let Some((k, v)) = t.split_once('=') else { continue };
        let (key, value) = (k.trim().to_string(), v.trim().to_string());
        match value.strip_suffix('\\') {
            Some(v) => pending = Some((key, v.trim_end().to_string())),
            None => out.push(Entry { section: section.clone(), key, value }),
        }
    }
    if let Some((key, value)) = pending {
        out.push(Entry { section, key, value });
    }
    out
}

/// Why an `Environment=` line set nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EnvError {
    /// A closing quote followed by more text: systemd logs "trailing garbage" and ignores the
    /// whole assignment.
    TrailingGarbage,
    UnterminatedQuote,
}

/// Splits a value into words with systemd's quote rules (`'…'`, `"…"`, backslash escapes).
fn words(value: &str) -> Result<Vec<String>, EnvError> {
    // Without quotes or escapes every rule below comes down to splitting at whitespace.
    if !value.contains(['\'', '"', '\\']) {
        return Ok(value.split_whitespace().map(str::to_string).collect());
    }
    if value.is_ascii() { words_ascii(value) } else { words_chars(value) }
}

/// [`words`] over ASCII text, copying each run of plain characters at once (a kubelet command
/// line is read several times per conversion).
fn words_ascii(value: &str) -> Result<Vec<String>, EnvError> {
    // `char::is_whitespace` on ASCII.
    let ws = |b: u8| matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r');
    let bytes = value.as_bytes();
    let at = |i: usize| bytes.get(i).copied();
    let text = |s: usize, e: usize| value.get(s..e).unwrap_or_default();
    let mut out = Vec::new();
    let mut i = 0;
    loop {
        while at(i).is_some_and(ws) {
            i += 1;
        }
        let Some(first) = at(i) else { break };
        let mut word = String::new();
        if first == b'\'' || first == b'"' {
            i += 1;
            let mut run = i;
            loop {
                match at(i) {
                    None => return Err(EnvError::UnterminatedQuote),
                    Some(c) if c == first => {
                        word.push_str(text(run, i));
                        i += 1;
                        break;
                    }
                    Some(b'\\') if first == b'"' => {
                        word.push_str(text(run, i));
                        word.push_str(text(i + 1, (i + 2).min(bytes.len())));
                        i += 2;
                        run = i;
                    }
                    Some(_) => i += 1,
                }
            }
            if at(i).is_some_and(|c| !ws(c)) {
                return Err(EnvError::TrailingGarbage);
            }
        } else {
            let mut run = i;
            while let Some(c) = at(i).filter(|c| !ws(*c)) {
                if c == b'\\' {
                    word.push_str(text(run, i));
                    word.push_str(text(i + 1, (i + 2).min(bytes.len())));
                    i += 2;
                    run = i;
                } else {
                    i += 1;
                }
            }
            word.push_str(text(run.min(bytes.len()), i.min(bytes.len())));
        }
        out.push(word);
    }
    Ok(out)
}

fn words_chars(value: &str) -> Result<Vec<String>, EnvError> {
    let mut out = Vec::new();
    let mut chars = value.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        let Some(&first) = chars.peek() else { break };
        let mut word = String::new();
        if first == '\'' || first == '"' {
            chars.next();
            let mut closed = false;
            while let Some(c) = chars.next() {
                if c == first {
                    closed = true;
                    break;
                }
                if c == '\\' && first == '"' {
                    if let Some(n) = chars.next() {
                        word.push(n);
                    }
                    continue;
                }
                word.push(c);
            }
            if !closed {
                return Err(EnvError::UnterminatedQuote);
            }
            if chars.peek().is_some_and(|c| !c.is_whitespace()) {
                return Err(EnvError::TrailingGarbage);
            }
        } else {
            while let Some(&c) = chars.peek() {
                if c.is_whitespace() {
                    break;
                }
                chars.next();
                if c == '\\' {
                    if let Some(n) = chars.next() {
                        word.push(n);
                    }
                    continue;
                }
                word.push(c);
            }
        }
        out.push(word);
    }
    Ok(out)
}

/// Expands `%` specifiers the way a unit file does before anything else: `%%` is `%`, a
/// trailing `%` is dropped, and other specifiers are kept for the report (their values are the
/// node's).
fn specifiers(value: &str) -> String {
    if !value.contains('%') {
        return value.to_string();
    }
    let mut out = String::with_capacity(value.len());
    let mut chars = value.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '%' {
            match chars.next() {
                Some('%') => out.push('%'),
                Some(o) => {
                    out.push('%');
                    out.push(o)
                }
                None => {}
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// The assignments of one `Environment=` value. Words that are not `NAME=value` are dropped, as
/// systemd does.
pub fn environment(value: &str) -> Result<Vec<(String, String)>, EnvError> {
    Ok(words(&specifiers(value))?
        .into_iter()
        .filter_map(|w| {
            let (n, v) = w.split_once('=')?;
            (!n.is_empty() && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
                .then(|| (n.to_string(), v.to_string()))
        })
        .collect())
}

/// A service's environment and command line after its unit and drop-ins, in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Service {
    pub environment: BTreeMap<String, String>,
    /// `EnvironmentFile=` paths (a leading `-` means optional), in order.
    pub environment_files: Vec<String>,
    pub exec_start: Vec<String>,
    /// Lines systemd ignored, with why.
    pub ignored: Vec<(String, String)>,
}

/// Applies a unit and its drop-ins (already in file-name order).
pub fn service<'a>(files: impl IntoIterator<Item = (&'a str, &'a str)>) -> Service {
    let mut s = Service::default();
    for (name, text) in files {
        for e in parse(text).into_iter().filter(|e| e.section == "Service") {
            match e.key.as_str() {
                "Environment" if e.value.is_empty() => s.environment.clear(),
                "Environment" => match environment(&e.value) {
                    Ok(pairs) => s.environment.extend(pairs),
                    Err(why) => s.ignored.push((
                        format!("{name}: Environment={}", e.value),
                        match why {
                            EnvError::TrailingGarbage => {
                                "a quote is followed by more text (systemd: trailing garbage)".into()
                            }
                            EnvError::UnterminatedQuote => "an unterminated quote".into(),
                        },
                    )),
                },
                "EnvironmentFile" if e.value.is_empty() => s.environment_files.clear(),
                "EnvironmentFile" => s.environment_files.push(e.value.clone()),
                "ExecStart" if e.value.is_empty() => s.exec_start.clear(),
                "ExecStart" => s.exec_start.push(e.value.clone()),
                _ => {}
            }
        }
    }
    s
}

/// A variable's value split for `$VAR` in a command line: at whitespace, with quotes removed
/// wherever they are (`--node-labels="a=b"` becomes `--node-labels=a=b`, al2-node §3.2).
fn split_value(v: &str) -> Vec<String> {
    // Without quotes, escapes or template actions the rules below split at whitespace alone.
    if !v.contains(['\'', '"', '\\', '{', '}']) {
        return v.split_whitespace().map(str::to_string).collect();
    }
    split_value_quoted(v)
}

fn split_value_quoted(v: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut open = false;
    let mut quote: Option<char> = None;
    let mut chars = v.chars().peekable();
    let mut action = false;
    while let Some(c) = chars.next() {
        // A template action (`{{ .Labels }}`) stands for one value.
        if c == '{' && chars.peek() == Some(&'{') {
            action = true;
        } else if c == '}' && chars.peek() == Some(&'}') {
            action = false;
        }
        if action && c.is_whitespace() {
            cur.push(c);
            continue;
        }
        match (quote, c) {
            (None, c) if c.is_whitespace() => {
                if open {
                    out.push(std::mem::take(&mut cur));
                    open = false;
                }
            }
            (None, '\'' | '"') => {
                quote = Some(c);
                open = true;
            }
            (Some(q), c) if c == q => quote = None,
            (_, '\\') => {
                if let Some(n) = chars.next() {
                    cur.push(n);
                }
                open = true;
            }
            (_, c) => {
                cur.push(c);
                open = true;
            }
        }
    }
    if open {
        out.push(cur);
    }
    out
}

/// A command line with `$VAR` split into words (quotes removed) and `${VAR}` as one word;
/// unset variables disappear.
pub fn expand_command(line: &str, env: &BTreeMap<String, String>) -> Vec<String> {
    let line = line.trim_start_matches(['-', '@', '+', '!', ':']);
    let Ok(raw) = words(&specifiers(line)) else { return Vec::new() };
    let mut out = Vec::new();
    for w in raw {
        if let Some(name) = w.strip_prefix("${").and_then(|r| r.strip_suffix('}')) {
            if let Some(v) = env.get(name) {
                out.push(v.clone());
            }
        } else if let Some(name) =
            w.strip_prefix('$').filter(|n| n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
        {
            if let Some(v) = env.get(name) {
                out.extend(split_value(v));
            }
        } else {
            out.push(w);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_values_split_at_whitespace_as_the_quote_aware_splitters_do() {
        let pieces = ["a", "--x=1", " ", "\t", "\n", "\u{a0}", "\u{2003}", "é", "\u{85}", "=", "-"];
        for text in crate::testing::mixed_texts(&pieces, 0x2545_F491_4F6C_DD1D, 9, 20_000) {
            assert_eq!(split_value(&text), split_value_quoted(&text), "{text:?}");
            assert_eq!(words(&text), words_chars(&text), "{text:?}");
        }
    }

    #[test]
    fn the_ascii_word_splitter_splits_as_the_char_splitter_does() {
        let pieces = ["a", "--x=1", " ", "\t", "\n", "\r", "\x0b", "'", "\"", "\\", "\\ ", "\\\"", "$V", "${V}", "%"];
        for text in crate::testing::mixed_texts(&pieces, 0xD1B5_4A32_D192_ED03, 9, 20_000) {
            assert_eq!(words_ascii(&text), words_chars(&text), "{text:?}");
            assert_eq!(words(&text), words_chars(&text), "{text:?}");
        }
    }

    #[test]
    fn environment_quoting_as_systemd_reads_it() {
        assert_eq!(
            environment("'KUBELET_EXTRA_ARGS=--node-labels=\"a=b\" --max-pods=20'").unwrap(),
            [("KUBELET_EXTRA_ARGS".into(), "--node-labels=\"a=b\" --max-pods=20".into())]
        );
        assert_eq!(
            environment("KUBELET_EXTRA_ARGS=--a --b").unwrap(),
            [("KUBELET_EXTRA_ARGS".into(), "--a".into())],
            "unquoted: `--b` is not an assignment and is dropped"
        );
        assert_eq!(
            environment("'KUBELET_EXTRA_ARGS=--register-with-taints='k=v:NoSchedule''"),
            Err(EnvError::TrailingGarbage),
            "a quote inside the single-quoted value ends it early"
        );
        assert_eq!(environment("\"A=1 2\" B=3").unwrap(), [("A".into(), "1 2".into()), ("B".into(), "3".into())]);
        assert_eq!(environment("'A=50%'").unwrap(), [("A".into(), "50%".into())]);
        assert_eq!(environment("A=50%").unwrap(), [("A".into(), "50".into())], "a trailing % is dropped");
    }

    #[test]
    fn drop_ins_override_and_exec_start_expands() {
        let unit = "[Unit]\nDescription=k\n[Service]\nExecStart=/usr/bin/kubelet --config /c \\\n    $KUBELET_ARGS $KUBELET_EXTRA_ARGS\n";
        let d30 = "[Service]\nEnvironment='KUBELET_EXTRA_ARGS=--max-pods=20 --node-labels=a=b'\n";
        let d40 = "[Service]\nEnvironment=\"KUBELET_EXTRA_ARGS=--max-pods=30\"\n";
        let s = service([("kubelet.service", unit), ("30.conf", d30), ("40.conf", d40)]);
        assert_eq!(s.environment["KUBELET_EXTRA_ARGS"], "--max-pods=30");
        assert_eq!(
            expand_command(&s.exec_start[0], &s.environment),
            ["/usr/bin/kubelet", "--config", "/c", "--max-pods=30"]
        );
        let reset = "[Service]\nExecStart=\nExecStart=/usr/bin/kubelet --v=4\n";
        let s = service([("kubelet.service", unit), ("50.conf", reset)]);
        assert_eq!(s.exec_start, ["/usr/bin/kubelet --v=4"]);
        let braced = expand_command("/k ${A} $A", &BTreeMap::from([("A".to_string(), "x y".to_string())]));
        assert_eq!(braced, ["/k", "x y", "x", "y"]);
    }
}
