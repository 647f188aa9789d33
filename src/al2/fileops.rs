//! What a shell command does to files, as coreutils and friends do it: redirections (`>`, `>>`)
//! of `echo`/`printf`/`cat` output and heredocs, `tee [-a]`, `cp`/`install`/`mv`/`rm`/`touch`,
//! `sed -i` (`sed.rs`), `jq FILTER FILE > OUT` and `echo "$(jq … F)" > F`, and downloads
//! (`curl -o`, `wget -O`, `aws s3 cp`) whose content is unknown. Content is resolved against the
//! file model later (`node.rs`), so `cat A > B` copies what A holds at that moment.

use super::sed;
use super::shell::{Command, Redirect};
use super::words::Value;

/// Where written bytes come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    Text(String),
    /// The content of a file at the time of the write.
    File(String),
    /// jq's output for a filter over a file.
    Jq {
        filter: String,
        input: String,
        vars: Vec<(String, String, bool)>,
    },
    /// Known only on the node: why.
    Unknown(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    Write {
        source: Source,
        append: bool,
    },
    Copy {
        from: String,
    },
    Move {
        from: String,
    },
    Remove,
    Touch,
    /// `sed -i`: the program, or why it cannot be replayed.
    Sed {
        script: String,
        extended: bool,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileOp {
    pub command: usize,
    pub path: String,
    pub action: Action,
}

/// A command's standard output, when it can be known before boot.
pub fn output_of(cmd: &Command, argv: &[Value], heredoc: Option<&Value>, env: &super::words::Env) -> Option<Source> {
    let name = argv.first()?.text().rsplit('/').next()?.to_string();
    let args: Vec<&str> = argv.iter().skip(1).map(Value::text).collect();
    let runtime = argv.iter().skip(1).find_map(|v| match v {
        Value::Runtime { why, .. } => Some(why.clone()),
        _ => None,
    });
    match name.as_str() {
        "echo" => {
            let mut newline = true;
            let mut escapes = false;
            let mut rest = args.as_slice();
            while let Some((first, tail)) = rest.split_first() {
                match *first {
                    "-n" => newline = false,
                    "-e" => escapes = true,
                    "-E" => escapes = false,
                    "-ne" | "-en" => {
                        newline = false;
                        escapes = true
                    }
                    _ => break,
                }
                rest = tail;
            }
            // `echo "$(jq FILTER FILE)"`: the usual in-place jq edit.
            if let [only] = rest
                && let Some(src) = jq_substitution(only, env)
            {
                return Some(src);
            }
            if let Some(why) = runtime {
                return Some(Source::Unknown(why));
            }
            let mut text = rest.join(" ");
            if escapes {
                text = text.replace("\\n", "\n").replace("\\t", "\t");
            }
            if newline {
                text.push('\n');
            }
            Some(Source::Text(text))
        }
        "printf" => {
            if let Some(why) = runtime {
                return Some(Source::Unknown(why));
            }
            let (format, values) = args.split_first()?;
            let unescape = |s: &str| s.replace("\\n", "\n").replace("\\t", "\t");
            // `%%` is printf's literal `%`; with no other directive the format is the text.
            if !format.replace("%%", "").contains('%') {
                return Some(Source::Text(unescape(&format.replace("%%", "%"))));
            }
            if *format == "%s" || *format == "%s\\n" || *format == "'%s\\n'" {
                let nl = if format.ends_with("\\n") { "\n" } else { "" };
                return Some(Source::Text(values.iter().map(|v| format!("{v}{nl}")).collect()));
            }
            Some(Source::Unknown(format!("printf `{format}` is not evaluated")))
        }
        "cat" => match (args.iter().find(|a| !a.starts_with('-')), heredoc) {
            (None, Some(body)) => Some(match body {
                Value::Runtime { why, .. } => Source::Unknown(why.clone()),
                other => Source::Text(other.text().to_string()),
            }),
            (Some(file), _) => Some(Source::File((*file).to_string())),
            (None, None) if cmd.piped => None,
            (None, None) => None,
        },
        "jq" => jq(argv),
        _ => None,
    }
}

/// The jq command inside `$(…)`, if that is all the text is.
fn jq_substitution(text: &str, env: &super::words::Env) -> Option<Source> {
    let inner = text.trim().strip_prefix("$(")?.strip_suffix(')')?;
    if !inner.trim_start().starts_with("jq ") {
        return None;
    }
    let script = super::shell::parse(inner, super::template::Syntax::None).ok()?;
    let cmd = script.commands.first()?;
    let argv: Vec<Value> = cmd.words.iter().map(|w| super::words::expand(&w.parsed, env, &script.prepared)).collect();
    jq(&argv)
}

/// `jq [--arg n v] [--argjson n v] [-r|-c|-M] FILTER FILE`.
fn jq(argv: &[Value]) -> Option<Source> {
    let mut vars = Vec::new();
    let mut plain = Vec::new();
    let mut i = 1;
    while let Some(a) = argv.get(i).map(|v| v.text()) {
        match a {
            "--arg" | "--argjson" => {
                let (n, v) = (argv.get(i + 1)?, argv.get(i + 2)?);
                if let Value::Runtime { why, .. } = v {
                    return Some(Source::Unknown(why.clone()));
                }
                vars.push((n.text().to_string(), v.text().to_string(), a == "--argjson"));
                i += 3;
                continue;
            }
            _ if a.starts_with('-') && plain.is_empty() => {}
            _ => plain.push(a.to_string()),
        }
        i += 1;
    }
    let mut filter = plain.first()?.clone();
    let input = plain.get(1)?.clone();
    // A filter with a shell variable only known at boot (`".maxPods=$MAX_PODS"`): the key is
    // set, to a value the node alone knew.
    if let Some(Value::Runtime { .. }) = argv.iter().skip(1).find(|v| v.text() == filter) {
        filter = boot_time_vars(filter.trim_matches('"'), &vars);
    }
    Some(Source::Jq { filter, input, vars })
}

/// `$NAME` / `${NAME}` in a jq filter bash expanded at boot → the boot-time marker, except jq's
/// own `--arg` variables.
fn boot_time_vars(filter: &str, vars: &[(String, String, bool)]) -> String {
    let marker = format!("\"{}\"", super::bootstrap_effects::BOOT_TIME);
    let mut out = String::new();
    let mut rest = filter;
    while let Some((head, after)) = rest.split_once('$') {
        out.push_str(head);
        let (name, len) = match after.strip_prefix('{') {
            Some(b) => match b.split_once('}') {
                Some((name, _)) => (name, name.len() + 2),
                None => ("", 0),
            },
            None => {
                let e = after.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(after.len());
                (after.get(..e).unwrap_or_default(), e)
            }
        };
        if name.is_empty() || vars.iter().any(|(n, _, _)| n == name) {
            out.push('$');
            rest = after;
        } else {
            out.push_str(&marker);
            rest = after.get(len..).unwrap_or_default();
        }
    }
    out.push_str(rest);
    out
}

/// The file operations of one command (after wrappers such as `sudo`), given its expanded words
/// and the output of the command piping into it.
/// `expand` expands a redirection target as bash does (`> "$CONFIG_FILE.tmp"`).
pub fn ops(
    idx: usize,
    cmd: &Command,
    argv: &[Value],
    heredoc: Option<&Value>,
    piped: Option<Source>,
    env: &super::words::Env,
    prepared: &super::template::Prepared,
) -> Vec<FileOp> {
    let expand = |p: &str| super::words::expand(p, env, prepared).text().to_string();
    let mut out = Vec::new();
    let op = |path: &str, action: Action| FileOp { command: idx, path: super::paths::normalise(path), action };
    let Some(name) = argv.first().map(|v| v.text().rsplit('/').next().unwrap_or_default().to_string()) else {
        return out;
    };
    let args: Vec<&str> = argv.iter().skip(1).map(Value::text).collect();
    let plain: Vec<&str> = args.iter().copied().filter(|a| !a.starts_with('-')).collect();
    let stdout = output_of(cmd, argv, heredoc, env).or_else(|| match name.as_str() {
        "tee" | "cat" | "sed" | "grep" | "awk" | "sort" | "uniq" | "tr" | "envsubst" => None,
        _ => Some(Source::Unknown(format!("the output of `{name}`"))),
    });
    for r in &cmd.redirects {
        if let Redirect::Write { path, append } = r {
            let expanded = expand(&path.parsed);
            let p = expanded.as_str();
            if p.starts_with("/dev/") || !p.starts_with('/') {
                continue;
            }
            let source = match name.as_str() {
                "tee" => continue,
                _ => stdout
                    .clone()
                    .or_else(|| piped.clone())
                    .unwrap_or_else(|| Source::Unknown(format!("the output of `{name}`"))),
            };
            out.push(op(p, Action::Write { source, append: *append }));
        }
    }
    let input = || match heredoc {
        Some(Value::Runtime { why, .. }) => Source::Unknown(why.clone()),
        Some(v) => Source::Text(v.text().to_string()),
        None => piped.clone().unwrap_or_else(|| Source::Unknown("tee's input".into())),
    };
    match name.as_str() {
        "tee" => {
            let append = args.iter().any(|a| *a == "-a" || *a == "--append");
            for p in plain.iter().filter(|p| p.starts_with('/') && !p.starts_with("/dev/")) {
                out.push(op(p, Action::Write { source: input(), append }));
            }
        }
        "cp" | "install" => {
            let plain: Vec<&str> = skip_option_values(&args, &["-m", "--mode", "-o", "-g", "-t"]);
            if let [from, to] = plain.as_slice() {
                let to = if to.ends_with('/') {
                    format!("{to}{}", from.rsplit('/').next().unwrap_or(from))
                } else {
                    to.to_string()
                };
                out.push(op(&to, Action::Copy { from: super::paths::normalise(from) }));
            }
        }
        "mv" => {
            if let [from, to] = plain.as_slice() {
                out.push(op(to, Action::Move { from: super::paths::normalise(from) }));
            }
        }
        "rm" => out.extend(plain.iter().filter(|p| p.starts_with('/')).map(|p| op(p, Action::Remove))),
        "touch" => out.extend(plain.iter().filter(|p| p.starts_with('/')).map(|p| op(p, Action::Touch))),
        "sed" => {
            let words: Vec<String> = args.iter().map(|s| s.to_string()).collect();
            if let Ok(inv) = sed::parse_command_line(&words)
                && inv.in_place
            {
                for f in inv.files.iter().filter(|f| f.starts_with('/')) {
                    out.push(op(f, Action::Sed { script: inv.script.clone(), extended: inv.extended }));
                }
            } else if words.iter().any(|w| w.starts_with("-i") || w.starts_with("--in-place")) {
                for f in plain.iter().skip(1).filter(|f| f.starts_with('/')) {
                    out.push(op(
                        f,
                        Action::Write {
                            source: Source::Unknown("a sed command that is not modelled".into()),
                            append: false,
                        },
                    ));
                }
            }
        }
        "curl" | "wget" => {
            for (i, a) in args.iter().enumerate() {
                if matches!(*a, "-o" | "-O" | "--output" | "--output-document")
                    && let Some(p) = args.get(i + 1).filter(|p| p.starts_with('/'))
                {
                    out.push(op(
                        p,
                        Action::Write { source: Source::Unknown(format!("a download with {name}")), append: false },
                    ));
                }
            }
        }
        "aws" if args.first() == Some(&"s3") && args.get(1) == Some(&"cp") => {
            if let Some(p) = args.get(3).filter(|p| p.starts_with('/')) {
                out.push(op(p, Action::Write { source: Source::Unknown("a download from S3".into()), append: false }));
            }
        }
        _ => {}
    }
    out
}

fn skip_option_values<'a>(args: &[&'a str], with_value: &[&str]) -> Vec<&'a str> {
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(&arg) = args.get(i) {
        if with_value.contains(&arg) {
            i += 2;
            continue;
        }
        if !arg.starts_with('-') {
            out.push(arg);
        }
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::al2::shell;
    use crate::al2::template::Syntax;

    fn first_ops(text: &str) -> Vec<FileOp> {
        let s = shell::parse(text, Syntax::None).unwrap();
        let mut all = Vec::new();
        let mut prev: Option<Source> = None;
        for (i, c) in s.commands.iter().enumerate() {
            let argv: Vec<Value> =
                c.words.iter().map(|w| Value::Static(w.parsed.trim_matches('\'').to_string())).collect();
            let here = c.redirects.iter().find_map(|r| match r {
                Redirect::HereDoc { body, .. } => Some(Value::Static(body.clone())),
                _ => None,
            });
            let piped = if c.piped { prev.clone() } else { None };
            let env = crate::al2::words::Env::default();
            all.extend(ops(i, c, &argv, here.as_ref(), piped, &env, &s.prepared));
            prev = output_of(c, &argv, here.as_ref(), &env);
        }
        all
    }

    #[test]
    fn writes_copies_and_edits() {
        let o = first_ops("cat <<EOF > /etc/a.conf\nx=1\nEOF\n");
        assert_eq!(o[0].action, Action::Write { source: Source::Text("x=1\n".into()), append: false });
        let o = first_ops("echo 'y' | tee -a /etc/b\n");
        assert_eq!(o.len(), 1);
        assert_eq!(o[0].path, "/etc/b");
        let o = first_ops("cp /tmp/x /etc/systemd/system/kubelet.service.d/\n");
        assert_eq!(o[0].path, "/etc/systemd/system/kubelet.service.d/x");
        let o = first_ops("sed -i 's/a/b/' /etc/eks/bootstrap.sh\n");
        assert_eq!(o[0].action, Action::Sed { script: "s/a/b/".into(), extended: false });
        let o = first_ops("jq .a=1 /etc/k.json > /tmp/k.json\nmv /tmp/k.json /etc/k.json\n");
        assert!(matches!(&o[0].action, Action::Write { source: Source::Jq { .. }, .. }));
        assert_eq!(o[1].action, Action::Move { from: "/tmp/k.json".into() });
        let o = first_ops("curl -sSL -o /usr/local/bin/x https://e\n");
        assert!(matches!(&o[0].action, Action::Write { source: Source::Unknown(_), .. }));
        assert!(first_ops("echo hi > /dev/null\n").is_empty());
    }
}
