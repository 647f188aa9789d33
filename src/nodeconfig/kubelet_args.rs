//! What the kubelet receives from `spec.kubelet.flags`. nodeadm appends them to its own flags,
//! joins everything with spaces and writes `NODEADM_KUBELET_ARGS="<joined>"` into
//! `/etc/eks/kubelet/environment` without escaping anything (`nodeadm/internal/kubelet/
//! environment.go`); systemd reads that file (`src/basic/env-file.c`: after the opening `"` a
//! value runs to the next `"`, the rest of the line is taken literally), and `ExecStart=
//! /usr/bin/kubelet $NODEADM_KUBELET_ARGS` splits the value into words as
//! `extract_first_word(EXTRACT_RELAX|EXTRACT_UNQUOTE)` does (`src/basic/env-util.c`
//! `replace_env_argv`): whitespace separates, single and double quotes group and are removed,
//! a backslash is dropped and the next character kept. So quotes in a flag do not reach the
//! kubelet, but a flag's own `"` ends the file's quoting early.

/// The words the kubelet receives for the user's `flags`, after nodeadm's own flags.
pub fn received(flags: &[&str]) -> Vec<String> {
    // nodeadm's own flags come first and hold no quote, space or backslash.
    let line = format!("--nodeadm-own=1 {}", flags.join(" "));
    let mut words = split(&environment_value(&line));
    words.remove(0);
    words
}

/// Each item as the user meant it: split and unquoted on its own, as a shell would.
pub fn intended(flags: &[&str]) -> Vec<String> {
    flags.iter().flat_map(|f| split(f)).collect()
}

/// The value systemd reads from `NAME="<raw>"` in an environment file
/// (`parse_env_file_internal`): a quoted stretch ends at its closing quote, after which
/// whitespace is skipped and another quote opens a new stretch; an unquoted stretch takes quotes
/// literally and loses a backslash before any character.
fn environment_value(raw: &str) -> String {
    enum State {
        PreValue,
        Value,
        ValueEscape,
        Single,
        Double,
        DoubleEscape,
    }
    let mut state = State::Double;
    let mut out = String::new();
    // Where trailing whitespace of an unquoted stretch starts (chomped at the end).
    let mut trailing: Option<usize> = None;
    // The closing quote nodeadm writes is one more character of the line.
    for c in raw.chars().chain(std::iter::once('"')) {
        state = match state {
            State::PreValue => match c {
                '\'' => State::Single,
                '"' => State::Double,
                '\\' => State::ValueEscape,
                ' ' | '\t' | '\r' => State::PreValue,
                c => {
                    out.push(c);
                    trailing = None;
                    State::Value
                }
            },
            State::Value => match c {
                '\\' => {
                    trailing = None;
                    State::ValueEscape
                }
                c => {
                    if matches!(c, ' ' | '\t' | '\r') {
                        trailing.get_or_insert(out.len());
                    } else {
                        trailing = None;
                    }
                    out.push(c);
                    State::Value
                }
            },
            State::ValueEscape => {
                if c != '\n' {
                    out.push(c);
                }
                State::Value
            }
            State::Single => match c {
                '\'' => State::PreValue,
                c => {
                    out.push(c);
                    State::Single
                }
            },
            State::Double => match c {
                '"' => State::PreValue,
                '\\' => State::DoubleEscape,
                c => {
                    out.push(c);
                    State::Double
                }
            },
            State::DoubleEscape => {
                if "\"\\`$".contains(c) {
                    out.push(c);
                } else if c != '\n' {
                    out.push('\\');
                    out.push(c);
                }
                State::Double
            }
        };
    }
    if let (State::Value, Some(at)) = (state, trailing) {
        out.truncate(at);
    }
    out
}

/// systemd's `extract_first_word` with `EXTRACT_RELAX|EXTRACT_UNQUOTE`, over the whole text.
fn split(text: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word: Option<String> = None;
    let (mut quote, mut backslash) = (None::<char>, false);
    for c in text.chars() {
        if backslash {
            word.get_or_insert_with(String::new).push(c);
            backslash = false;
        } else if let Some(q) = quote {
            match c {
                c if c == q => quote = None,
                '\\' => backslash = true,
                c => word.get_or_insert_with(String::new).push(c),
            }
        } else {
            match c {
                ' ' | '\t' | '\n' | '\r' => words.extend(word.take()),
                '\\' => backslash = true,
                '\'' | '"' => {
                    quote = Some(c);
                    word.get_or_insert_with(String::new);
                }
                c => word.get_or_insert_with(String::new).push(c),
            }
        }
    }
    words.extend(word);
    words
}

#[cfg(test)]
mod tests {
    use super::*;

    fn got(flags: &[&str]) -> Vec<String> {
        received(flags)
    }

    #[test]
    fn quotes_are_removed_not_passed_on() {
        // Karpenter writes one quoted label flag, last: the kubelet gets it without quotes.
        assert_eq!(got(&["--node-labels=\"a=b,c=d\""]), ["--node-labels=a=b,c=d"]);
        assert_eq!(got(&["--node-labels='a=b'", "--v=2"]), ["--node-labels=a=b", "--v=2"]);
    }

    #[test]
    fn a_double_quoted_flag_before_others_swallows_them() {
        // The flag's `"` ends the file's quoting; the rest of the line is unquoted text whose
        // quotes the ExecStart split then pairs up differently.
        assert_eq!(
            got(&["--register-with-taints=\"k=v:NoSchedule\"", "--v=2"]),
            ["--register-with-taints=k=v:NoSchedule --v=2"]
        );
        assert_eq!(
            got(&["--node-labels=\"a=b\"", "--register-with-taints=\"k=v:NoExecute\""]),
            ["--node-labels=a=b --register-with-taints=k=v:NoExecute"]
        );
    }

    #[test]
    fn double_quotes_do_not_protect_a_space_but_single_quotes_do() {
        // The flag's first `"` closes the file's quoting, so its space is plain again.
        assert_eq!(got(&["--node-labels=\"a=b c=d\""]), ["--node-labels=a=b", "c=d"]);
        assert_eq!(intended(&["--node-labels=\"a=b c=d\""]), ["--node-labels=a=b c=d"]);
        assert_eq!(got(&["--node-labels='a=b c=d'"]), ["--node-labels=a=b c=d"]);
    }

    #[test]
    fn whitespace_splits_and_backslashes_go() {
        assert_eq!(got(&["--max-pods 58"]), ["--max-pods", "58"]);
        assert_eq!(got(&["--a=x\\.y"]), ["--a=x.y"]);
        assert_eq!(got(&[]), Vec::<String>::new());
    }

    #[test]
    fn an_odd_quote_changes_the_flags_after_it() {
        assert_eq!(got(&["--a=\"x", "--b=1"]), ["--a=x", "--b=1"]);
        assert_eq!(got(&["--a=x\"", "--b=1"]), ["--a=x--b=1"], "the space after it is skipped");
    }
}
