//! A script read the way bash runs it, where that differs from "it parses or it does not"
//! (bash(1); checked with bash 5.2, al2-node §6.3): bash reads and runs one complete command at a
//! time, so at a syntax error every command before the faulty one has already run and nothing
//! from it on does; an unterminated heredoc is only a warning and takes the rest of the script
//! as its body; a backslash at the very end continues onto nothing.

use super::shell::{self, ParseError, Script};
use super::template::Syntax;

/// Where bash's reading differed from a clean parse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Note {
    /// bash stopped at this offset with a syntax error: what precedes ran, nothing after.
    Stopped { offset: usize, message: String },
    /// A heredoc whose delimiter line never comes: it took the rest of the script.
    OpenHeredoc { tag: String },
}

/// Commands Amazon Linux 2 does not have (Debian's package tools): `command not found`.
const NOT_ON_AL2: &[&str] = &["apt-get", "apt-key", "apt", "add-apt-repository", "dpkg", "snap"];

/// Under `set -e` (or `#!/bin/bash -e`), the first untested command AL2 does not have ends the
/// script there (status 127): what follows never ran.
fn errexit_stop(text: &str, script: Script, syntax: Syntax) -> (Script, Vec<Note>) {
    let mut errexit = text.lines().next().is_some_and(|l| {
        l.starts_with("#!") && l.split_whitespace().skip(1).any(|w| w.starts_with('-') && w.contains('e'))
    });
    let mut pipefail = false;
    let mut stop = None;
    for (i, c) in script.commands.iter().enumerate() {
        if c.unconditional() && c.name() == Some("set") {
            for w in c.words.iter().skip(1).map(|w| w.parsed.as_str()) {
                match w {
                    "errexit" => errexit = true,
                    "pipefail" => pipefail = true,
                    w if w.starts_with('-') && w.contains('e') => errexit = true,
                    w if w.starts_with('+') && w.contains('e') => errexit = false,
                    _ => {}
                }
            }
        }
        let name = c.words.iter().map(|w| w.parsed.as_str()).find(|w| *w != "sudo").unwrap_or_default();
        // A pipeline's status is its last command's (any command's with pipefail).
        let last_in_pipeline = !script.commands.get(i + 1).is_some_and(|n| n.piped);
        if errexit
            && c.unconditional()
            && !c.tested
            && (last_in_pipeline || pipefail)
            && NOT_ON_AL2.contains(&name.rsplit('/').next().unwrap_or(name))
        {
            stop = Some(i);
            break;
        }
    }
    let Some(failing) = stop.and_then(|i| script.commands.get(i)) else { return (script, Vec::new()) };
    // The failing command did nothing: what ran ends at the start of its line.
    let start = failing.span.0.min(text.len());
    let offset = text.get(..start).and_then(|head| head.rfind('\n')).map_or(0, |n| n + 1);
    let name = failing.name().unwrap_or_default().to_string();
    match shell::parse(text.get(..offset).unwrap_or_default(), syntax) {
        Ok(cut) => (
            cut,
            vec![Note::Stopped {
                offset,
                message: format!(
                    "`{name}` is not a command on AL2, and the script runs with errexit, so bash exited there"
                ),
            }],
        ),
        Err(_) => (script, Vec::new()),
    }
}

/// How many line boundaries are tried when looking for what ran before a syntax error.
const MAX_TRIES: usize = 400;

fn heredoc_tag(message: &str) -> Option<String> {
    let rest = message.split("tag(s) [").nth(1)?;
    let tag = rest.split(']').next()?.split(',').next()?.trim().to_string();
    (!tag.is_empty()).then_some(tag)
}

/// Parses what bash would have run of `text`.
pub fn parse(text: &str, syntax: Syntax) -> Result<(Script, Vec<Note>), ParseError> {
    let err = match shell::parse(text, syntax) {
        Ok(s) => return Ok(errexit_stop(text, s, syntax)),
        Err(e) => e,
    };
    // A backslash at the very end joins the last line to nothing.
    let trimmed = text.trim_end_matches(['\n', '\r', ' ', '\t']);
    if let Some(t) = trimmed.strip_suffix('\\')
        && let Ok(s) = shell::parse(t, syntax)
    {
        return Ok((s, Vec::new()));
    }
    if err.message.contains("unterminated here document")
        && let Some(tag) = heredoc_tag(&err.message)
    {
        let closed = format!("{text}{}{tag}\n", if text.ends_with('\n') { "" } else { "\n" });
        if let Ok(s) = shell::parse(&closed, syntax) {
            return Ok((s, vec![Note::OpenHeredoc { tag }]));
        }
    }
    // What ran: the longest run of complete commands, ending at a line boundary, before the
    // error (or before the end, for a construct left open).
    let limit = err.offset.unwrap_or(text.len()).min(text.len());
    let mut tries = 0;
    let mut end = limit;
    while tries < MAX_TRIES {
        let Some(nl) = text.get(..end).and_then(|head| head.rfind('\n')) else { break };
        tries += 1;
        let candidate = text.get(..=nl).unwrap_or_default();
        if let Ok(s) = shell::parse(candidate, syntax) {
            return Ok((s, vec![Note::Stopped { offset: nl + 1, message: err.message.clone() }]));
        }
        end = nl;
    }
    if limit > 0 && tries < MAX_TRIES {
        // The error is on the first line: nothing ran.
        if let Ok(s) = shell::parse("", syntax) {
            return Ok((s, vec![Note::Stopped { offset: 0, message: err.message.clone() }]));
        }
    }
    Err(err)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(s: &Script) -> Vec<String> {
        s.commands.iter().filter_map(|c| c.name().map(str::to_string)).collect()
    }

    #[test]
    fn runs_up_to_a_syntax_error() {
        let (s, n) = parse("echo a\nmkdir b\nif true; then\n  echo c\n", Syntax::None).unwrap();
        assert_eq!(names(&s), ["echo", "mkdir"]);
        assert!(matches!(&n[0], Note::Stopped { offset: 15, .. }), "{n:?}");
        let (s, n) = parse("echo a\necho \"unterminated\n/etc/eks/bootstrap.sh c\n", Syntax::None).unwrap();
        assert_eq!(names(&s), ["echo"]);
        assert_eq!(n.len(), 1);
    }

    #[test]
    fn open_heredoc_and_trailing_backslash() {
        let (s, n) = parse("cat <<EOF > /f\nabc\n/etc/eks/bootstrap.sh c\n", Syntax::None).unwrap();
        assert_eq!(names(&s), ["cat"], "the call is heredoc body");
        assert_eq!(n, [Note::OpenHeredoc { tag: "EOF".into() }]);
        let (s, n) = parse("echo a \\", Syntax::None).unwrap();
        assert_eq!((names(&s), n.len()), (vec!["echo".to_string()], 0));
    }
}
