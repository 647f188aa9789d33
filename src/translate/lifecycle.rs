//! Commands that followed bootstrap.sh ran with kubelet up on AL2; on AL2023 every user script
//! runs before nodeadm-run starts kubelet (docs §3). They move into a oneshot unit ordered after
//! nodeadm-run, keeping what they meant on AL2:
//! - once per instance, as the user-data script ran (cloud-init `scripts-user`): the unit is
//!   started, never enabled, so a reboot does not run it again;
//! - only when the script got that far: the unit is installed at the top (so a failing command
//!   under `set -e` cannot stop it being installed), and the call's place in the script touches
//!   a marker its `ConditionPathExists=` needs;
//! - only after a successful join when AL2 reached them only then (`set -e`, `-e` in the shebang,
//!   `|| exit` on the call): `Requires=nodeadm-run.service`; otherwise they run either way;
//! - with the script's shell options (the shebang's `-xe` too) and the variables set before;
//! - `$?` right after the call is the join's result: nodeadm-run is a oneshot without
//!   RemainAfterExit, so its `Result` property says success or failure.

use super::residual::trivial;
use crate::al2::analysis;

/// The file whose presence says the script reached the bootstrap.sh call.
pub(super) const MARKER: &str = "/run/eks-userdata/reached-bootstrap";
/// What stands in the call's place when its tail moved.
pub(super) const MARK_CALL: &str = "mkdir -p /run/eks-userdata && touch /run/eks-userdata/reached-bootstrap";

/// Where the movable tail after the first top-level bootstrap.sh call starts: the line after the
/// call, when everything after it is plain top-level commands and something is left to move.
pub(super) fn post_bootstrap_tail(text: &str, a: &analysis::Analysis, replaced: &[usize]) -> Option<(usize, usize)> {
    let first = a.invocations.first()?;
    let call = a.script.commands.get(first.command).filter(|c| c.runs_when_rendered())?;
    if a.invocations.len() > 1 {
        return None;
    }
    let left = a
        .after_bootstrap
        .iter()
        .any(|i| a.script.commands.get(*i).is_some_and(|c| !trivial(c)) && !replaced.contains(i));
    if !left {
        return None;
    }
    let end = first.span.1.min(text.len());
    let tail = text.get(end..)?.find('\n').map(|i| end + i + 1)?;
    // A call inside a template `%{ if }`: the tail ends where its branch does; the directive
    // that closes it stays in place so the template keeps its shape.
    let stop = if call.branch.is_empty() { text.len() } else { branch_end(text, tail) };
    // Later commands start in the tail, or are the call's own `|| exit 1` on its line.
    a.script
        .commands
        .iter()
        .skip(first.command + 1)
        .all(|c| (c.span.0 >= tail || c.conditional) && c.span.0 < stop)
        .then_some((tail, stop))
}

/// Where the template branch open at `from` ends: the line of its `%{ else }`, `%{ endif }` or
/// `%{ endfor }`, or the end of the text.
fn branch_end(text: &str, from: usize) -> usize {
    let mut depth = 0usize;
    let mut at = from;
    for line in text.get(from..).unwrap_or_default().split_inclusive('\n') {
        let l = line.trim_start();
        if let Some(d) = l.strip_prefix("%{").map(|r| r.trim_start_matches('~').trim_start()) {
            if d.starts_with("if ") || d.starts_with("for ") {
                depth += 1;
            } else if d.starts_with("endif") || d.starts_with("endfor") || d.starts_with("else") {
                if depth == 0 {
                    return at;
                }
                if !d.starts_with("else") {
                    depth -= 1;
                }
            }
        }
        at += line.len();
    }
    text.len()
}

/// Shell options in effect where the call ran: the shebang's and top-level `set` before it.
fn options(text: &str, a: &analysis::Analysis, first: usize) -> (String, bool) {
    let mut opts = String::new();
    let mut errexit = false;
    if let Some(line) = text.lines().next().filter(|l| l.starts_with("#!")) {
        for w in line.split_whitespace().skip(1) {
            if let Some(flags) = w.strip_prefix('-').filter(|f| f.chars().all(|c| c.is_ascii_alphabetic())) {
                opts.push_str(flags);
                errexit |= flags.contains('e');
            }
        }
    }
    for c in a.script.commands.iter().take(first) {
        if c.runs_when_rendered() && c.name() == Some("set") {
            for w in c.words.iter().skip(1) {
                let w = w.parsed.as_str();
                if w == "-o" {
                    continue;
                }
                if (w.starts_with('-') && w.contains('e')) || w == "errexit" {
                    errexit = true;
                }
                if w.starts_with('+') && w.contains('e') {
                    errexit = false;
                }
            }
        }
    }
    // `bootstrap.sh … || exit 1` stops the script when the join fails, like `set -e`.
    let exits = a
        .script
        .commands
        .get(first)
        .zip(a.script.commands.get(first + 1))
        .is_some_and(|(call, n)| n.conditional && n.name() == Some("exit") && n.span.0 < call.span.1 + 40);
    (opts, errexit || exits)
}

/// The moved script's first line when its commands read `$?` of the call: its status is the join's.
pub(super) const STATUS_CHECK: &str = "[ \"$(systemctl show -p Result --value nodeadm-run.service)\" = success ]";

/// Where the moved commands are installed.
pub(super) const MOVED_SCRIPT: &str = "/etc/eks-userdata/post-bootstrap.sh";

/// Does the moved tail read the call's exit status?
pub(super) fn reads_status(tail: &str) -> bool {
    tail.contains("$?") || tail.contains("${?}") || tail.contains("PIPESTATUS")
}

/// The text of each top-level function defined before command `first`.
fn functions_before(text: &str, a: &analysis::Analysis, first: usize) -> String {
    let mut names: Vec<&str> = Vec::new();
    for c in a.script.commands.iter().take(first) {
        if let Some(f) = c.function.as_deref().filter(|f| !names.contains(f)) {
            names.push(f);
        }
    }
    let mut out = String::new();
    for name in names {
        let body: Vec<&crate::al2::shell::Command> =
            a.script.commands.iter().take(first).filter(|c| c.function.as_deref() == Some(name)).collect();
        let (Some(lo), Some(hi)) = (body.iter().map(|c| c.span.0).min(), body.iter().map(|c| c.span.1).max()) else {
            continue;
        };
        let head = text.get(..lo).unwrap_or_default();
        let Some(start) = head.rfind(&format!("{name}()")).or_else(|| head.rfind(&format!("function {name}"))) else {
            continue;
        };
        let start = head.get(..start).unwrap_or_default().rfind('\n').map_or(0, |i| i + 1);
        let Some(close) = text.get(hi..).and_then(|t| t.find('}')).map(|i| hi + i) else { continue };
        let end = text.get(close..).and_then(|t| t.find('\n')).map_or(text.len(), |i| close + i);
        out.push_str(text.get(start..end).unwrap_or_default());
        out.push('\n');
    }
    out
}

/// The whole lines a span lies on, without the last newline.
fn lines_of(text: &str, (start, end): (usize, usize)) -> Option<&str> {
    let line_start = text.get(..start)?.rfind('\n').map_or(0, |i| i + 1);
    let line_end = text.get(end..)?.find('\n').map_or(text.len(), |i| end + i);
    text.get(line_start..line_end)
}

/// The shell that installs the moved commands as a oneshot unit after nodeadm-run; it goes at
/// the top of the script. The unit is started with `--no-block`: this script runs in
/// cloud-final, which nodeadm-run waits for.
pub(super) fn install_unit(text: &str, a: &analysis::Analysis, tail: &str) -> (String, bool) {
    // Callers have found the call; without one nothing comes before it.
    let first = a.invocations.first().map_or(0, |i| i.command);
    let (opts, errexit) = options(text, a, first);
    // Variables and shell options set before the call, so the moved commands see them.
    let mut prelude = String::new();
    if !opts.is_empty() {
        prelude.push_str(&format!("set -{opts}\n"));
    }
    for c in a.script.commands.iter().take(first) {
        // `source FILE` sets variables too (`set -a; source /etc/environment` exports proxies).
        let keeps = c.runs_when_rendered()
            && (c.words.is_empty() || matches!(c.name(), Some("export" | "set" | "source" | ".")));
        if keeps
            && c.span.1 > c.span.0
            && let Some(lines) = lines_of(text, c.span)
        {
            prelude.push_str(&super::imds::tokened(lines));
            prelude.push('\n');
        }
    }
    // Functions defined before the call, which the moved commands may call (bash runs the unit's
    // script in a new process).
    prelude.push_str(&functions_before(text, a, first));
    if reads_status(tail) {
        // `$?` of the call is the join's result.
        prelude.push_str(STATUS_CHECK);
        prelude.push('\n');
    }
    // A template token ending in `~}` strips the newline after it when rendered: without one
    // more, the heredoc's delimiter would not start a line and the heredoc would never end.
    let strip = if tail.trim_end_matches([' ', '\t', '\n']).ends_with("~}") { "\n" } else { "" };
    let mut delim = "EKS_USERDATA_POST".to_string();
    while tail.lines().any(|l| l.trim() == delim) || prelude.lines().any(|l| l.trim() == delim) {
        delim.push('_');
    }
    let dependency = if errexit { "Requires" } else { "Wants" };
    let when = if errexit {
        "# only when nodeadm-run succeeds (on AL2 the script stopped if bootstrap.sh failed),"
    } else {
        "# after nodeadm-run whatever its result (on AL2 the script went on if bootstrap.sh failed),"
    };
    let script = format!(
        "# eks-userdata: the commands that followed bootstrap.sh ran with kubelet up on AL2. On AL2023 this\n\
         # script runs before nodeadm starts kubelet, so they run from a oneshot unit after nodeadm-run:\n\
         {when}\n\
         # once, and only if this script reaches the place of the bootstrap.sh call. The unit is installed\n\
         # first so that a failing command below cannot stop it being installed.\n\
         mkdir -p /etc/eks-userdata\n\
         cat > /etc/eks-userdata/post-bootstrap.sh <<'{delim}'\n\
         #!/bin/bash\n\
         {prelude}{tail}{nl}{strip}{delim}\n\
         chmod 0755 /etc/eks-userdata/post-bootstrap.sh\n\
         cat > /etc/systemd/system/eks-userdata-post-bootstrap.service <<'{delim}'\n\
         [Unit]\n\
         Description=User-data commands that ran after bootstrap.sh on AL2 (moved by eks-userdata)\n\
         After=nodeadm-run.service\n\
         {dependency}=nodeadm-run.service\n\
         ConditionPathExists={MARKER}\n\
         \n\
         [Service]\n\
         Type=oneshot\n\
         ExecStart=/bin/bash /etc/eks-userdata/post-bootstrap.sh\n\
         {delim}\n\
         systemctl daemon-reload\n\
         systemctl start --no-block eks-userdata-post-bootstrap.service\n",
        nl = if tail.ends_with('\n') || tail.is_empty() { "" } else { "\n" },
    );
    (script, errexit)
}
