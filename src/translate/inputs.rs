//! Inputs that are not a script with `#!`: a pasted snippet, a bare bootstrap.sh argument
//! string (CloudFormation `BootstrapArguments`). Host documents are `hosts.rs`.

use crate::al2::shell;
use crate::al2::template;

/// Shell without `#!`: not a YAML mapping, not a bare argument string, and it parses as shell
/// with at least one command whose name is a path or a known command.
pub(super) fn looks_like_shell(text: &str) -> bool {
    if looks_like_bare_args(text) || crate::userdata::kind::looks_like_nodeconfig(text.as_bytes()) {
        return false;
    }
    if crate::nodeconfig::yaml::parse(text).is_ok_and(|d| d.value.is_object()) {
        return false;
    }
    shell::parse(text, template::detect(text)).is_ok_and(|s| {
        s.commands.iter().any(|c| {
            c.name().is_some_and(|n| {
                n.starts_with('/')
                    || matches!(n, "yum" | "dnf" | "echo" | "mkdir" | "mount" | "export" | "systemctl" | "curl" | "set")
            })
        })
    })
}

/// A bare argument string (a CloudFormation `BootstrapArguments` value): no script, just flags.
pub(super) fn looks_like_bare_args(text: &str) -> bool {
    let t = text.trim();
    !t.is_empty()
        && !t.starts_with('#')
        && t.lines().count() <= 3
        && (t.starts_with('-') || t.contains(" --"))
        && !t.contains(": ")
}

/// Lines of a part that start like a delimiter of the multipart it came from but are not one
/// (RFC 2046 §5.1.1: only whitespace may follow `--BOUNDARY` or `--BOUNDARY--`): each line's
/// offset and text.
pub(super) fn stray_delimiters<'a>(text: &'a str, boundary: &str) -> Vec<(usize, &'a str)> {
    let open = format!("--{boundary}");
    let mut at = 0;
    let mut out = Vec::new();
    for line in text.split_inclusive('\n') {
        let l = line.trim_end_matches(['\n', '\r']);
        if let Some(rest) = l.strip_prefix(open.as_str()) {
            let rest = rest.strip_prefix("--").unwrap_or(rest);
            if !rest.trim().is_empty() {
                out.push((at, l));
            }
        }
        at += line.len();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_delimiter_with_a_stray_character_is_found() {
        let t = "#!/bin/bash\necho hi\n--==B==--\\";
        assert_eq!(stray_delimiters(t, "==B=="), vec![(20, "--==B==--\\")]);
        assert!(stray_delimiters("--==B==-- \n--==B==\n", "==B==").is_empty());
    }
}
