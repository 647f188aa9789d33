//! What the kubelet receives from `spec.kubelet.flags`. nodeadm appends them to its own flags,
//! joins everything with spaces and writes `NODEADM_KUBELET_ARGS=<joined>` into
//! `/etc/eks/kubelet/environment`, escaping nothing (`nodeadm/internal/kubelet/environment.go`;
//! before AMI release v20240729 it wrapped the value in double quotes, amazon-eks-ami#1880).
//! systemd reads that file (`src/basic/env-file.c` `parse_env_file_internal`: an unquoted value
//! keeps quotes literally and drops a backslash; a quoted stretch ends at its closing quote),
//! and `ExecStart=/usr/bin/kubelet $NODEADM_KUBELET_ARGS` splits the value into words as
//! `extract_first_word(EXTRACT_RELAX|EXTRACT_UNQUOTE)` does (`src/basic/env-util.c`
//! `replace_env_argv`): whitespace separates, single and double quotes group and are removed,
//! a backslash is dropped and the next character kept, an unclosed quote runs to the end.

/// The first AMI release whose nodeadm writes the value unquoted.
pub const UNWRAPPED_SINCE: u32 = 20240729;

/// The words the kubelet receives for the user's `flags`, after nodeadm's own flags; `wrapped`
/// for AMIs before [`UNWRAPPED_SINCE`], whose nodeadm wrote `NAME="<joined>"`.
pub fn received(flags: &[&str], wrapped: bool) -> Vec<String> {
    // nodeadm's own flags come first and hold no quote, space or backslash.
    let line = format!("--nodeadm-own=1 {}", flags.join(" "));
    let mut words = split(&environment_value(&line, wrapped));
    if !words.is_empty() {
        words.remove(0);
    }
    words
}

/// Each item as the user meant it: split and unquoted on its own, as a shell would.
pub fn intended(flags: &[&str]) -> Vec<String> {
    flags.iter().flat_map(|f| split(f)).collect()
}

/// The value systemd reads from `NAME=<raw>` (or `NAME="<raw>"` when `wrapped`) in an
/// environment file (`parse_env_file_internal`): a quoted stretch ends at its closing quote,
/// after which whitespace is skipped and another quote opens a new stretch; an unquoted stretch
/// takes quotes literally and loses a backslash before any character.
fn environment_value(raw: &str, wrapped: bool) -> String {
    enum State {
        PreValue,
        Value,
        ValueEscape,
        Single,
        Double,
        DoubleEscape,
    }
    let mut state = if wrapped { State::Double } else { State::PreValue };
    let mut out = String::new();
    // Where trailing whitespace of an unquoted stretch starts (chomped at the end).
    let mut trailing: Option<usize> = None;
    // The closing quote of a wrapped value is one more character of the line.
    for c in raw.chars().chain(wrapped.then_some('"')) {
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
        received(flags, false)
    }

    fn old(flags: &[&str]) -> Vec<String> {
        received(flags, true)
    }

    #[test]
    fn quotes_are_removed_not_passed_on() {
        // Karpenter writes its label flag quoted; the kubelet gets it without the quotes.
        assert_eq!(got(&["--node-labels=\"a=b,c=d\""]), ["--node-labels=a=b,c=d"]);
        assert_eq!(got(&["--node-labels='a=b'", "--v=2"]), ["--node-labels=a=b", "--v=2"]);
        assert_eq!(
            got(&["--node-labels=\"a=b\"", "--register-with-taints=\"k=v:NoExecute\""]),
            ["--node-labels=a=b", "--register-with-taints=k=v:NoExecute"]
        );
        // Quotes keep a space inside one argument.
        assert_eq!(got(&["--node-labels=\"a=b c=d\""]), ["--node-labels=a=b c=d"]);
    }

    #[test]
    fn whitespace_splits_an_unclosed_quote_swallows_and_backslashes_go() {
        assert_eq!(got(&["--max-pods 58"]), ["--max-pods", "58"]);
        assert_eq!(got(&["--a=\"x", "--b=1"]), ["--a=x --b=1"]);
        assert_eq!(got(&["--a=x\\.y"]), ["--a=x.y"]);
        assert_eq!(got(&[]), Vec::<String>::new());
    }

    #[test]
    fn before_v20240729_a_double_quoted_flag_ended_the_wrapping_quotes() {
        // Its `"` closed nodeadm's own quotes; the flags after it ran together.
        assert_eq!(old(&["--node-labels=\"a=b,c=d\""]), ["--node-labels=a=b,c=d"]);
        assert_eq!(
            old(&["--register-with-taints=\"k=v:NoSchedule\"", "--v=2"]),
            ["--register-with-taints=k=v:NoSchedule --v=2"]
        );
        assert_eq!(old(&["--node-labels=\"a=b c=d\""]), ["--node-labels=a=b", "c=d"]);
        assert_eq!(old(&["--node-labels='a=b c=d'"]), ["--node-labels=a=b c=d"]);
        assert_eq!(old(&["--a=x\"", "--b=1"]), ["--a=x--b=1"], "the space after it is skipped");
    }
}
