//! Commands that only make sense on Amazon Linux 2 (issue #4; docs §3, §5.2, §7). Each pattern
//! names what AL2023 does instead. Matching is on the parsed command words, never on raw text,
//! so comments and strings do not trigger it.

use super::shell::{Command, Redirect};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Legacy {
    pub command: usize,
    /// What was found, e.g. `amazon-linux-extras`.
    pub what: &'static str,
    /// The AL2023 way.
    pub instead: &'static str,
}

fn words(cmd: &Command) -> impl Iterator<Item = &str> {
    cmd.words.iter().map(|w| w.parsed.trim_matches(|c| c == '"' || c == '\''))
}

fn writes_to(cmd: &Command, prefix: &str) -> bool {
    cmd.redirects
        .iter()
        .any(|r| matches!(r, Redirect::Write { path, .. } if path.parsed.trim_matches('"').starts_with(prefix)))
}

/// The AL2-only pattern a command matches, if any.
pub fn classify(idx: usize, cmd: &Command) -> Option<Legacy> {
    // `sudo amazon-linux-extras …`: the command is the first word after the wrappers.
    let skip = words(cmd).take_while(|w| matches!(*w, "sudo" | "-E" | "env" | "nohup" | "command" | "exec")).count();
    let name = words(cmd).nth(skip).unwrap_or_default().rsplit('/').next().unwrap_or_default().to_string();
    let mut args = words(cmd).skip(skip + 1);
    let has = |s: &str| words(cmd).any(|w| w.contains(s));
    let l = |what, instead| Some(Legacy { command: idx, what, instead });
    match name.as_str() {
        "amazon-linux-extras" => l(
            "amazon-linux-extras",
            "AL2023 has no amazon-linux-extras; install packages with `dnf install` from the AL2023 repositories (topics such as docker, nginx or kernel-ng do not exist)",
        ),
        "nodeadm" if has("init") => l(
            "nodeadm init called by hand",
            "nodeadm runs as systemd units (nodeadm-config, nodeadm-run); calling it from user data races them (amazon-eks-ami #2124); put settings in the NodeConfig or in /etc/eks/nodeadm.d/",
        ),
        "grubby" if has("unified_cgroup_hierarchy=0") || has("cgroup") => {
            l("grubby cgroup switch", "AL2023 runs cgroup v2 only; a cgroup v1 kernel argument is not supported")
        }
        "docker" => l("docker", "AL2023 EKS AMIs have no Docker; use `ctr -n k8s.io` or `nerdctl` against containerd"),
        "systemctl" if args.any(|a| a == "docker" || a == "docker.service") => l(
            "systemctl … docker",
            "there is no docker.service on AL2023; containerd settings go in spec.containerd.config, and its environment (proxies) in spec.instance.environment.containerd",
        ),
        "yum" | "dnf" | "rpm" if has("epel") => {
            l("EPEL", "EPEL is not available for AL2023; use the AL2023 repositories or build the package")
        }
        "yum" | "dnf" if words(cmd).any(|w| w.ends_with(".i686")) => {
            l("32-bit packages", "AL2023 ships no 32-bit (i686) packages")
        }
        "source" | "." if args.any(|a| a.starts_with("/etc/eksctl/")) => l(
            "sourcing eksctl's AL2 node files (/etc/eksctl/)",
            "eksctl's own cloud-config wrote /etc/eksctl/* on AL2 nodes; on AL2023 eksctl configures nodes through nodeadm and writes none of them, so unless this user data writes the file itself, `source` fails there (and with errexit the script stops)",
        ),
        _ if writes_to(cmd, "/etc/docker/") => l(
            "/etc/docker configuration (read only by dockerd, on AL2 AMIs for Kubernetes 1.23 and older)",
            "nothing reads it on a containerd node, AL2 or AL2023; registry mirrors are /etc/containerd/certs.d/<host>/hosts.toml files, log rotation is kubelet containerLogMaxSize/containerLogMaxFiles",
        ),
        _ if has("/etc/eks/eni-max-pods.txt")
            || cmd.assignments.iter().any(|(_, w)| w.raw.contains("/etc/eks/eni-max-pods.txt")) =>
        {
            l(
                "/etc/eks/eni-max-pods.txt",
                "AL2023 does not ship this table; nodeadm computes max pods itself (spec.kubelet.maxPodsExpression to change the formula)",
            )
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::al2::shell;
    use crate::al2::template::Syntax;

    #[test]
    fn sourcing_eksctl_files_is_al2_only() {
        let s = shell::parse("source /etc/eksctl/kubelet.env\n. /etc/environment\n", Syntax::None).unwrap();
        assert!(classify(0, &s.commands[0]).is_some_and(|l| l.what.contains("/etc/eksctl/")));
        assert!(classify(1, &s.commands[1]).is_none());
    }

    fn found(script: &str) -> Vec<&'static str> {
        let s = shell::parse(script, Syntax::None).unwrap();
        s.commands.iter().enumerate().filter_map(|(i, c)| classify(i, c)).map(|l| l.what).collect()
    }

    #[test]
    fn finds_al2_only_commands() {
        assert_eq!(
            found(
                "amazon-linux-extras install -y docker\nyum install -y epel-release\nyum install -y glibc.i686\niptables -t nat -A POSTROUTING -j MASQUERADE\ngrubby --update-kernel=ALL --args=systemd.unified_cgroup_hierarchy=0\nsystemctl restart docker\necho '{}' > /etc/docker/daemon.json\ngrep m5.large /etc/eks/eni-max-pods.txt\nnodeadm init\ndocker pull x\n"
            ),
            [
                "amazon-linux-extras",
                "EPEL",
                "32-bit packages",
                "grubby cgroup switch",
                "systemctl … docker",
                "/etc/docker configuration (read only by dockerd, on AL2 AMIs for Kubernetes 1.23 and older)",
                "/etc/eks/eni-max-pods.txt",
                "nodeadm init called by hand",
                "docker",
            ]
        );
        assert_eq!(
            found("MAX=$(grep m5.large /etc/eks/eni-max-pods.txt | cut -d' ' -f2)\n"),
            ["/etc/eks/eni-max-pods.txt"]
        );
        assert!(found("# amazon-linux-extras install docker\necho 'iptables is fine'\nyum install -y jq\n").is_empty());
        assert_eq!(found("sudo amazon-linux-extras install epel -y\n"), ["amazon-linux-extras"]);
        // AL2023's own kubelet.service runs iptables (iptables-nft): it is not an AL2-only command.
        assert!(found("iptables -A OUTPUT -d 169.254.169.254 -j DROP\n").is_empty());
    }
}
