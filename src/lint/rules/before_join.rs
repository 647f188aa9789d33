//! AL308: on AL2023 every user-data script runs in cloud-final, and `nodeadm-run.service`
//! (which starts containerd and kubelet) is ordered `After=cloud-final.service` (docs §3;
//! eksctl-io/eksctl#8031). AL2 scripts ran the lines after `bootstrap.sh` with kubelet already
//! up; the same lines in an AL2023 script run before the node has joined: `cfn-signal
//! --exit-code $?` reports success for a node that may never join, `kubectl` finds no Node
//! object for this instance, and a loop waiting for kubelet or the node stalls the join it
//! waits for. (nodeadm-config has already written the kubeconfig by then, so waiting for that
//! file is not reported.)

use crate::al2::shell::Command;
use crate::diagnostic::RuleMeta;
use crate::diagnostic::{Diagnostic, Severity, Span};
use crate::lint::Context;

pub const META: RuleMeta = RuleMeta {
    code: "AL308",
    name: "runs-before-join",
    severity: Severity::Warning,
    summary: "a script assumes the node has joined, but AL2023 runs it before kubelet starts",
    explanation: "On AL2, commands after `/etc/eks/bootstrap.sh` in a script ran once kubelet was \
up. On AL2023 every user-data script runs in cloud-final, and `nodeadm-run.service`, which starts \
containerd and kubelet, is ordered after cloud-final (docs §3; eksctl-io/eksctl#8031). So in an \
AL2023 script:\n\n- `cfn-signal` signals before the node joins; with `--exit-code $?` it reports \
the previous command's status, so the stack or Auto Scaling group sees success for a node that \
may never join;\n- `kubectl` runs before kubelet has registered the node: the Node object does not exist \
yet, so labelling, tainting or waiting for this node fails;\n- a loop that waits for kubelet, its \
health port or the node waits for something that starts only after the script exits: the join \
stalls until the loop gives up, or forever.\n\nFix: run post-join work from a systemd unit \
ordered `After=nodeadm-run.service` (the script can write it, enable it and start it with \
`systemctl start --no-block`: a blocking start waits for nodeadm-run, which waits for the script), \
or from a DaemonSet; signal CloudFormation from such a unit once `systemctl is-active kubelet` \
succeeds.",
};

/// What in a loop's condition means it waits for the joined node.
/// (`/var/lib/kubelet/kubeconfig` and `/etc/kubernetes/kubelet/` are not: nodeadm-config writes
/// them before cloud-init runs.)
const JOIN_SIGNS: &[&str] = &["kubelet", "kubectl", ":10248", "/healthz", "get node"];

fn base(cmd: &Command) -> Option<&str> {
    cmd.name().map(|n| n.rsplit('/').next().unwrap_or(n))
}

pub fn check(cx: &Context, out: &mut Vec<Diagnostic>) {
    for (part, analysis) in &cx.scripts {
        // A script that calls bootstrap.sh is AL2 user data, where these lines ran after the
        // join (AL301 reports the call; `convert` moves what follows it).
        if !analysis.invocations.is_empty() {
            continue;
        }
        let text = std::str::from_utf8(&part.body).unwrap_or_default();
        let commands = analysis.script.commands.as_slice();
        // Loops whose condition waits for the node: reported once each, on the condition.
        let mut loops: Vec<(&str, (usize, usize))> = Vec::new();
        for cmd in commands {
            for label in &cmd.branch {
                let Some(cond) = label.strip_prefix("loop while ") else { continue };
                // Files nodeadm-config wrote before the script ran are no sign.
                let signs = cond.replace("/var/lib/kubelet/kubeconfig", "").replace("/etc/kubernetes/kubelet/", "");
                if loops.iter().any(|(c, _)| *c == cond) || !JOIN_SIGNS.iter().any(|s| signs.contains(s)) {
                    continue;
                }
                // The condition sits before the body; find its text before this command.
                let before = text.get(..cmd.span.0).unwrap_or_default();
                let span = before.rfind(cond).map_or(cmd.span, |at| (at, at + cond.len()));
                loops.push((cond, span));
            }
        }
        for (cond, span) in &loops {
            out.push(
                Diagnostic::new(&META, format!("this loop waits for the node (`{cond}`), but on AL2023 kubelet starts only after every user-data script has finished: the join stalls until the loop gives up"))
                    .with_help("wait from a systemd unit ordered `After=nodeadm-run.service`, which the script can write, enable and start with `systemctl start --no-block` (a blocking start waits for the script itself)")
                    .with_span(Span::part(part.index, span.0, span.1))
                    .with_part(cx.part_index(part)),
            );
        }
        let in_loop_condition = |c: &Command| loops.iter().any(|(_, s)| s.0 <= c.span.0 && c.span.1 <= s.1);
        for cmd in commands {
            let message = match base(cmd) {
                Some("cfn-signal") => {
                    let status = cmd.words.iter().any(|w| w.raw.contains("$?") || w.raw.contains("${?}"));
                    if status {
                        "cfn-signal runs before nodeadm starts kubelet: `$?` is the previous command's status, so it signals success for a node that has not joined and may never join"
                    } else {
                        "cfn-signal runs before nodeadm starts kubelet: it signals before the node has joined"
                    }
                }
                Some("kubectl") if !in_loop_condition(cmd) => {
                    "kubectl runs before kubelet has registered this node: its Node object does not exist yet"
                }
                _ => continue,
            };
            out.push(
                Diagnostic::new(&META, message)
                    .with_help("run it from a systemd unit ordered `After=nodeadm-run.service` (once `systemctl is-active kubelet` succeeds), started with `systemctl start --no-block`, or from a DaemonSet")
                    .with_span(Span::part(part.index, cmd.span.0, cmd.span.1))
                    .with_part(cx.part_index(part)),
            );
        }
    }
}
