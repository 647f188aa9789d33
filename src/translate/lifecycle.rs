//! Commands that followed bootstrap.sh ran with kubelet up on AL2; on AL2023 every user script
//! runs before nodeadm-run starts kubelet (docs §3). They move into a oneshot unit ordered after
//! nodeadm-run.

use super::residual::trivial;
use crate::al2::analysis;

/// Where the movable tail after the first top-level bootstrap.sh call starts: the line after the
/// call, when everything after it is plain top-level commands the translator does not rewrite.
pub(super) fn post_bootstrap_tail(text: &str, a: &analysis::Analysis, replaced: &[usize]) -> Option<usize> {
    let first = a.invocations.first().filter(|i| a.script.commands[i.command].unconditional())?;
    if a.invocations.len() > 1 || a.after_bootstrap.iter().all(|i| trivial(&a.script.commands[*i])) {
        return None;
    }
    if replaced.iter().any(|r| *r > first.command && a.invocations.iter().all(|i| i.command != *r)) {
        return None;
    }
    let end = first.span.1.min(text.len());
    let tail = text[end..].find('\n').map(|i| end + i + 1)?;
    // Later commands start in the tail, or are the call's own `|| exit 1` on its line.
    a.script.commands[first.command + 1..].iter().all(|c| c.span.0 >= tail || c.conditional).then_some(tail)
}

/// The shell that installs the moved commands as a oneshot unit after nodeadm-run. The unit is
/// started with `--no-block`: this script runs in cloud-final, which nodeadm-run waits for.
pub(super) fn post_bootstrap_unit(text: &str, a: &analysis::Analysis, tail_start: usize) -> String {
    let first = a.invocations[0].command;
    // Variables and shell options set before the call, so the moved commands see them.
    let mut prelude = String::new();
    for c in &a.script.commands[..first] {
        let keeps = c.unconditional() && (c.words.is_empty() || matches!(c.name(), Some("export" | "set")));
        if keeps && c.span.1 > c.span.0 {
            let line_start = text[..c.span.0].rfind('\n').map_or(0, |i| i + 1);
            let line_end = text[c.span.1..].find('\n').map_or(text.len(), |i| c.span.1 + i);
            prelude.push_str(&text[line_start..line_end]);
            prelude.push('\n');
        }
    }
    let tail = &text[tail_start..];
    let mut delim = "EKS_USERDATA_POST".to_string();
    while tail.lines().any(|l| l.trim() == delim) || prelude.lines().any(|l| l.trim() == delim) {
        delim.push('_');
    }
    format!(
        "# eks-userdata: the commands that followed bootstrap.sh ran with kubelet up on AL2. On AL2023 this\n\
         # script runs before nodeadm starts kubelet, so they now run from a oneshot unit after nodeadm-run.\n\
         mkdir -p /etc/eks-userdata\n\
         cat > /etc/eks-userdata/post-bootstrap.sh <<'{delim}'\n\
         #!/bin/bash\n\
         {prelude}{tail}{nl}{delim}\n\
         chmod 0755 /etc/eks-userdata/post-bootstrap.sh\n\
         cat > /etc/systemd/system/eks-userdata-post-bootstrap.service <<'{delim}'\n\
         [Unit]\n\
         Description=User-data commands that ran after bootstrap.sh on AL2 (moved by eks-userdata)\n\
         After=nodeadm-run.service\n\
         Wants=nodeadm-run.service\n\
         \n\
         [Service]\n\
         Type=oneshot\n\
         RemainAfterExit=yes\n\
         ExecStart=/bin/bash /etc/eks-userdata/post-bootstrap.sh\n\
         \n\
         [Install]\n\
         WantedBy=multi-user.target\n\
         {delim}\n\
         systemctl daemon-reload\n\
         systemctl enable eks-userdata-post-bootstrap.service\n\
         systemctl start --no-block eks-userdata-post-bootstrap.service\n",
        nl = if tail.ends_with('\n') || tail.is_empty() { "" } else { "\n" },
    )
}
