//! AL2 leftovers in shell text. On AL2023 `/etc/eks/bootstrap.sh` is a stub that prints
//! "bootstrap.sh has been removed from AL2023-based EKS AMIs" and exits 1 (docs §5.3,
//! `templates/al2023/runtime/rootfs/etc/eks/bootstrap.sh`), so any script that still calls it
//! fails. This is a lexical scan for calls in command position; the full shell analysis that
//! `convert` needs lives beside it.

pub mod analysis;
pub mod bash;
pub mod bootstrap;
pub mod bootstrap_effects;
pub mod bootstrap_script;
pub mod effective;
pub mod feature_gates;
pub mod fileops;
pub mod fs;
pub mod jq;
pub mod kubelet_flags;
pub mod legacy;
pub mod maxpods;
pub mod node;
pub mod paths;
pub mod sed;
pub mod shell;
mod shell_plain;
pub mod systemd;
pub mod template;
pub mod words;

/// Words that may precede the real command word (`sudo /etc/eks/bootstrap.sh …`).
const PREFIXES: &[&str] = &["sudo", "exec", "bash", "sh", "env", "nohup", "time", "command", "-E", "-x", "-e", "--"];

/// Byte ranges of `bootstrap.sh` invocations in `script` (the command word itself).
pub fn find_bootstrap_calls(script: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut line_start = 0;
    // A command word naming `bootstrap.sh` needs the name on its line; most lines lack it.
    let name = memchr::memmem::Finder::new("bootstrap.sh");
    for line in script.split_inclusive('\n') {
        if name.find(line.as_bytes()).is_none() {
            line_start += line.len();
            continue;
        }
        let code = strip_comment(line);
        let mut seg_start = 0;
        // Command separators start a new command position.
        let bytes = code.as_bytes();
        let mut i = 0;
        while i <= bytes.len() {
            let at_end = i == bytes.len();
            let sep = !at_end && matches!(bytes.get(i), Some(b';' | b'&' | b'|' | b'(' | b'`' | b'{'));
            if at_end || sep {
                if let Some((s, e)) = code.get(seg_start..i).and_then(command_word) {
                    out.push((line_start + seg_start + s, line_start + seg_start + e));
                }
                seg_start = i + 1;
            }
            i += 1;
        }
        line_start += line.len();
    }
    out
}

fn strip_comment(line: &str) -> &str {
    let mut prev_space = true;
    let (mut single, mut double) = (false, false);
    for (i, c) in line.char_indices() {
        match c {
            '\'' if !double => single = !single,
            '"' if !single => double = !double,
            '#' if prev_space && !single && !double => return line.get(..i).unwrap_or_default(),
            _ => {}
        }
        prev_space = c.is_whitespace();
    }
    line
}

/// The command word of one simple command, if it names `bootstrap.sh`.
fn command_word(segment: &str) -> Option<(usize, usize)> {
    let mut offset = 0;
    for word in segment.split_inclusive(char::is_whitespace) {
        let w = word.trim();
        let start = offset + (word.len() - word.trim_start().len());
        offset += word.len();
        if w.is_empty() {
            continue;
        }
        let bare = w.trim_matches(|c| c == '"' || c == '\'');
        if matches!(bare, "then" | "do" | "else" | "if" | "!" | "$") || PREFIXES.contains(&bare) || is_assignment(bare)
        {
            continue;
        }
        let name = bare.rsplit('/').next().unwrap_or(bare);
        return (name == "bootstrap.sh").then_some((start, start + w.len()));
    }
    None
}

fn is_assignment(word: &str) -> bool {
    match word.split_once('=') {
        Some((name, _)) => !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
        None => false,
    }
}

#[cfg(test)]
#[allow(clippy::string_slice)]
mod tests {
    use super::*;

    fn calls(s: &str) -> Vec<&str> {
        find_bootstrap_calls(s).into_iter().map(|(a, b)| &s[a..b]).collect()
    }

    #[test]
    fn finds_calls_in_command_position_only() {
        assert_eq!(
            calls("#!/bin/bash\n/etc/eks/bootstrap.sh my-cluster --b64-cluster-ca x\n"),
            ["/etc/eks/bootstrap.sh"]
        );
        assert_eq!(calls("set -ex; sudo -E /etc/eks/bootstrap.sh c\n"), ["/etc/eks/bootstrap.sh"]);
        assert_eq!(calls("if true; then bash /etc/eks/bootstrap.sh c; fi\n"), ["/etc/eks/bootstrap.sh"]);
        assert_eq!(calls("KUBELET_EXTRA_ARGS=x exec \"/etc/eks/bootstrap.sh\" c\n"), ["\"/etc/eks/bootstrap.sh\""]);
        assert!(calls("# /etc/eks/bootstrap.sh c\n").is_empty());
        assert!(calls("echo done  # ran /etc/eks/bootstrap.sh\n").is_empty());
        assert!(calls("sed -i 's/x/y/' /etc/eks/bootstrap.sh\n").is_empty());
        assert!(calls("cat /etc/eks/bootstrap.sh | grep x\n").is_empty());
        assert_eq!(
            calls("B=1 && /etc/eks/bootstrap.sh \"${CLUSTER}\" \\\n  --kubelet-extra-args '--max-pods=20'\n"),
            ["/etc/eks/bootstrap.sh"]
        );
    }
}
