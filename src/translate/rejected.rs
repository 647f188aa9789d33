//! Invocations bootstrap.sh itself refused (al2-node §2.5, read from `templates/al2/runtime/
//! bootstrap.sh` at the last AL2 commit): the node that user data configured never started
//! kubelet. Only what can be decided before boot is claimed here; failures that depend on the
//! instance (IAM, IMDS, DescribeCluster) are not.

use super::codes;
use super::context::Ctx;
use crate::al2::analysis::Invocation;
use crate::al2::bootstrap::Flag;
use crate::al2::words::Value;
use base64::Engine;

/// Why bootstrap.sh would have exited before starting kubelet, if it would.
/// `bare_args`: the input is only bootstrap.sh's arguments (CloudFormation `BootstrapArguments`),
/// whose host supplies the cluster name itself.
pub(super) fn reasons(inv: &Invocation, bare_args: bool) -> Vec<((usize, usize), String)> {
    let call = &inv.call;
    let mut out = Vec::new();
    let stat = |flag: Flag| {
        call.get(flag).and_then(|a| match &a.value {
            Value::Static(s) => Some((s.clone(), a.span)),
            _ => None,
        })
    };
    if call.help {
        out.push((inv.span, "it is called with -h/--help, so it printed its usage and exited 1".to_string()));
    }
    for (flag, span) in &call.missing_value {
        out.push((
            *span,
            format!(
                "`{}` is its last word and has no value: bootstrap.sh reads `$2` under `set -o nounset` and exited 1",
                flag.name()
            ),
        ));
    }
    // LOCAL_DISKS runs first (S6), before the cluster name is checked.
    if let Some((mode, span)) = stat(Flag::LocalDisks)
        && !matches!(mode.as_str(), "raid0" | "raid10" | "mount" | "none")
    {
        out.push((span, format!("`--local-disks {mode}` is not raid0, raid10 or mount: setup-local-disks exited 1")));
    }
    match &call.cluster_name {
        None if !bare_args && call.opaque.is_empty() && !call.help && call.missing_value.is_empty() => out.push((
            inv.span,
            "it has no cluster name (its first positional argument): bootstrap.sh printed `cluster name is not defined!` and exited 1".to_string(),
        )),
        Some(a) if matches!(&a.value, Value::Static(s) if s.starts_with('-')) => out.push((
            a.span,
            format!(
                "`{}` is not an option bootstrap.sh knows (it takes `--flag value`), so it became the cluster name; the kubeconfig and the aws-iam-authenticator token named that cluster, which the API server rejects",
                a.value.text()
            ),
        )),
        Some(a) if matches!(&a.value, Value::Static(s) if s.ends_with('\r')) => out.push((
            a.span,
            "the cluster name ends in a carriage return (the line ends in CRLF and cloud-init kept it), so the kubeconfig named a cluster that does not exist".to_string(),
        )),
        _ => {}
    }
    let family = stat(Flag::IpFamily).map(|(f, s)| (f.to_ascii_lowercase(), s));
    if let Some((f, span)) = &family
        && f != "ipv4"
        && f != "ipv6"
    {
        out.push((*span, format!("`--ip-family {f}` is neither ipv4 nor ipv6: bootstrap.sh exited 1")));
    }
    if let (Some((f, span)), Some(_)) = (&family, call.get(Flag::ServiceIpv6Cidr))
        && f == "ipv4"
    {
        out.push((
            *span,
            "`--ip-family ipv4` with an IPv6 service CIDR: bootstrap.sh refuses the combination and exited 1"
                .to_string(),
        ));
    }
    // Without CA or endpoint bootstrap.sh called DescribeCluster, which supplies the CIDR.
    let describes = call.get(Flag::B64ClusterCa).is_none() || call.get(Flag::ApiserverEndpoint).is_none();
    if let Some((f, span)) = &family
        && f == "ipv6"
        && !describes
        && call.get(Flag::ServiceIpv6Cidr).is_none()
        && call.get(Flag::DnsClusterIp).is_none()
    {
        out.push((
            *span,
            "`--ip-family ipv6` without `--service-ipv6-cidr` or `--dns-cluster-ip` (and no DescribeCluster, since CA and endpoint are given): bootstrap.sh cannot compute the cluster DNS address and exited 1".to_string(),
        ));
    }
    if let Some((ca, span)) = stat(Flag::B64ClusterCa)
        && !ca.is_empty()
        && base64::engine::general_purpose::STANDARD.decode(ca.trim()).is_err()
    {
        out.push((span, "`--b64-cluster-ca` is not base64: `base64 -d` failed and bootstrap.sh exited 1".to_string()));
    }
    out
}

/// Reports each reason first in the report; returns whether the call was refused.
pub(super) fn report(cx: &mut Ctx, pi: usize, inv: &Invocation) -> bool {
    let reasons = reasons(inv, cx.shift != 0);
    for (span, why) in &reasons {
        cx.push(
            &codes::NEVER_WORKED,
            pi,
            *span,
            if cx.unread {
                format!("even had cloud-init run it, this call would not have worked: {why}")
            } else {
                format!("this never worked on AL2: {why}; the node never started kubelet")
            },
            Some("the output configures the node this call describes; check that it is the node you want".into()),
        );
        if let Some(last) = cx.entries.pop() {
            cx.entries.push(last.leading());
        }
    }
    !reasons.is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::al2::{analysis, shell, template::Syntax};

    fn why(script: &str) -> Vec<String> {
        let a = analysis::analyze(shell::parse(script, Syntax::None).unwrap());
        reasons(&a.invocations[0], false).into_iter().map(|(_, w)| w).collect()
    }

    #[test]
    fn calls_bootstrap_sh_refused() {
        assert!(why("/etc/eks/bootstrap.sh\n")[0].contains("no cluster name"));
        assert!(why("/etc/eks/bootstrap.sh c --kubelet-extra-args\n")[0].contains("last word"));
        assert!(why("/etc/eks/bootstrap.sh --apiserver-endpoint=https://x c\n")[0].contains("became the cluster name"));
        assert!(why("/etc/eks/bootstrap.sh c --ip-family ipv4 --service-ipv6-cidr fd00::/108\n")[0].contains("IPv6"));
        assert!(why("/etc/eks/bootstrap.sh c --ip-family IPv5\n")[0].contains("neither"));
        assert!(why("/etc/eks/bootstrap.sh c --local-disks raid5\n")[0].contains("raid5"));
        assert!(
            why("/etc/eks/bootstrap.sh c --b64-cluster-ca 'not base64!' --apiserver-endpoint https://e\n")[0]
                .contains("not base64")
        );
        assert!(
            why("/etc/eks/bootstrap.sh c --ip-family ipv6 --b64-cluster-ca Y2E= --apiserver-endpoint https://e\n")[0]
                .contains("DNS")
        );
    }

    #[test]
    fn working_calls_and_unknown_values_are_not_claimed() {
        assert!(why("/etc/eks/bootstrap.sh c --ip-family IPv6\n").is_empty(), "DescribeCluster gives the CIDR");
        assert!(why("/etc/eks/bootstrap.sh \"$NAME\" --local-disks \"$MODE\"\n").is_empty());
        assert!(why("/etc/eks/bootstrap.sh '${cluster_name}'\n").is_empty());
        assert!(why("/etc/eks/bootstrap.sh ${extra_args}\n").is_empty());
    }
}
