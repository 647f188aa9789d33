//! NC215: `cluster.cidr` is the *service* CIDR; the kubelet hands `clusterDNS` to every pod as its
//! resolver, so it must be the kube-dns service IP inside that CIDR (docs §5.1, issue #2139 in
//! docs §7). NodeLocal DNSCache's link-local address is the one legitimate exception.

use crate::diagnostic::RuleMeta;
use crate::diagnostic::{Diagnostic, Severity, Span};
use crate::lint::Context;
use crate::nodeconfig::pointer::Pointer as _;
use std::net::IpAddr;

pub const META: RuleMeta = RuleMeta {
    code: "NC215",
    name: "cluster-dns-outside-cidr",
    severity: Severity::Warning,
    summary: "`kubelet.config.clusterDNS` is outside `cluster.cidr`",
    explanation: "`spec.cluster.cidr` is the cluster's *service* CIDR (not the VPC's): nodeadm \
derives the default `clusterDNS` from it (`.10`), and the kube-dns service IP lies in it. A \
`clusterDNS` address outside it is not the cluster's DNS service, so pod DNS fails; usually \
`cidr` was set to the VPC CIDR (awslabs/amazon-eks-ami#2139, docs §7). Link-local addresses \
(NodeLocal DNSCache's `169.254.20.10`) are not reported.\n\nFix: set `cidr` to the service CIDR \
(`aws eks describe-cluster --query cluster.kubernetesNetworkConfig`) and `clusterDNS` to its \
`.10`, or drop `clusterDNS` and let nodeadm derive it.",
};

/// `(network, prefix length)` of an `a.b.c.d/n` or IPv6 CIDR.
fn parse_cidr(s: &str) -> Option<(IpAddr, u32)> {
    let (ip, len) = s.trim().split_once('/')?;
    let ip: IpAddr = ip.parse().ok()?;
    let len: u32 = len.parse().ok()?;
    let max = if ip.is_ipv4() { 32 } else { 128 };
    (len <= max).then_some((ip, len))
}

fn contains((net, len): (IpAddr, u32), ip: IpAddr) -> bool {
    match (net, ip) {
        (IpAddr::V4(n), IpAddr::V4(a)) => {
            let mask = u32::MAX.checked_shl(32 - len).unwrap_or(0);
            u32::from(n) & mask == u32::from(a) & mask
        }
        (IpAddr::V6(n), IpAddr::V6(a)) => {
            let mask = u128::MAX.checked_shl(128 - len).unwrap_or(0);
            u128::from(n) & mask == u128::from(a) & mask
        }
        _ => false,
    }
}

fn link_local(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(a) => a.is_link_local(),
        IpAddr::V6(a) => a.segments()[0] & 0xffc0 == 0xfe80,
    }
}

pub fn check(cx: &Context, out: &mut Vec<Diagnostic>) {
    // nodeadm merges scalars later-wins (docs §2.2): the effective CIDR is the last one set.
    let Some((cidr_text, cidr)) = cx
        .docs
        .iter()
        .filter_map(|d| d.value()?.at("/spec/cluster/cidr")?.as_str())
        .rfind(|s| !s.is_empty())
        .and_then(|s| Some((s, parse_cidr(s)?)))
    else {
        return;
    };
    for doc in &cx.docs {
        let Some(list) = doc.value().and_then(|v| v.at("/spec/kubelet/config/clusterDNS")).and_then(|v| v.as_array())
        else {
            continue;
        };
        for (i, item) in list.iter().enumerate() {
            // An entry the kubelet cannot read is skipped (NC225), so it has no place to be wrong.
            let Some(ip) = item.as_str().and_then(super::cluster_dns_not_ip::kubelet_ip) else { continue };
            if contains(cidr, ip) || link_local(ip) {
                continue;
            }
            let span = doc.span_of(&format!("/spec/kubelet/config/clusterDNS/{i}"), false).unwrap_or(Span::part(
                doc.part.index,
                0,
                0,
            ));
            out.push(
                Diagnostic::new(&META, format!("clusterDNS `{ip}` is outside the service CIDR `{cidr_text}`: pods would get a resolver that is not the cluster's DNS service"))
                    .with_help("`cidr` must be the service CIDR, not the VPC's; clusterDNS is usually its `.10`")
                    .with_span(span)
                    .with_part(cx.part_index(doc.part)),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cidr_membership() {
        let c = parse_cidr("10.100.0.0/16").unwrap();
        assert!(contains(c, "10.100.0.10".parse().unwrap()));
        assert!(!contains(c, "10.0.0.10".parse().unwrap()));
        assert!(contains(parse_cidr("0.0.0.0/0").unwrap(), "8.8.8.8".parse().unwrap()));
        assert!(contains(parse_cidr("fd00:10::/108").unwrap(), "fd00:10::a".parse().unwrap()));
        assert!(!contains(parse_cidr("fd00:10::/108").unwrap(), "10.0.0.1".parse().unwrap()));
        assert!(parse_cidr("10.0.0.0/33").is_none() && parse_cidr("${cidr}").is_none());
        assert!(link_local("169.254.20.10".parse().unwrap()));
    }
}
