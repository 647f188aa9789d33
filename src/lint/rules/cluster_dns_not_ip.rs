//! NC225: kubelet reads each `clusterDNS` entry with `netutils.ParseIPSloppy` and *skips* one
//! that is not an IP address, logging "Invalid clusterDNS IP" at info level
//! (kubernetes `pkg/kubelet/kubelet.go`, `NewMainKubelet`); nodeadm passes the list through
//! unchecked (docs §1.3). With no valid entry left, pods with the default `ClusterFirst` DNS
//! policy fall back to the node's resolver and cluster names stop resolving.

use crate::diagnostic::RuleMeta;
use crate::diagnostic::{Diagnostic, Severity, Span};
use crate::lint::Context;
use crate::nodeconfig::pointer::Pointer as _;
use std::net::{IpAddr, Ipv4Addr};

pub const META: RuleMeta = RuleMeta {
    code: "NC225",
    name: "cluster-dns-not-ip",
    severity: Severity::Error,
    summary: "a `kubelet.config.clusterDNS` entry is not an IP address",
    explanation: "The kubelet parses each `clusterDNS` entry as an IP address and silently skips \
one that is not (it logs \"Invalid clusterDNS IP\" at info level; `NewMainKubelet`), and nodeadm \
passes the list through without checking it (docs §1.3). A host name (`kube-dns.kube-system`), \
a CIDR (`10.100.0.10/32`), a port (`10.100.0.10:53`) or surrounding spaces all make an entry \
vanish. When none is left, pods with the default `ClusterFirst` DNS policy get the node's own \
resolver instead: `*.svc.cluster.local` names stop resolving on that node, with no error at \
boot.\n\nFix: write the kube-dns service IP itself (usually the `.10` of the service CIDR), or \
drop `clusterDNS` and let nodeadm derive it from `cluster.cidr`.",
};

/// The address the kubelet reads from an entry: Go's `ParseIPSloppy` also takes IPv4 octets
/// with leading zeros (`010.100.000.010`, read as decimal), which Rust's parser refuses.
pub fn kubelet_ip(s: &str) -> Option<IpAddr> {
    if let Ok(ip) = s.parse::<IpAddr>() {
        return Some(ip);
    }
    let octets: Vec<u8> = s
        .split('.')
        .map(|o| (!o.is_empty() && o.len() <= 3 && o.bytes().all(|b| b.is_ascii_digit())).then(|| o.parse().ok())?)
        .collect::<Option<_>>()?;
    let [a, b, c, d] = octets.as_slice() else { return None };
    Some(IpAddr::V4(Ipv4Addr::new(*a, *b, *c, *d)))
}

pub fn check(cx: &Context, out: &mut Vec<Diagnostic>) {
    for doc in &cx.docs {
        let Some(list) = doc.value().and_then(|v| v.at("/spec/kubelet/config/clusterDNS")).and_then(|v| v.as_array())
        else {
            continue;
        };
        let invalid: Vec<(usize, &str)> = list
            .iter()
            .enumerate()
            .filter_map(|(i, item)| Some((i, item.as_str()?)))
            // A template's value is known only once rendered.
            .filter(|(_, s)| !crate::al2::template::has_placeholder(s) && kubelet_ip(s).is_none())
            .collect();
        let none_left = invalid.len() == list.len();
        for (i, entry) in invalid {
            let consequence = if none_left {
                "no entry is left, so pods fall back to the node's resolver and cluster names stop resolving"
            } else {
                "the kubelet skips it"
            };
            let hint = if entry.trim() != entry {
                "remove the spaces around the address"
            } else if entry.contains('/')
                || (entry.contains(':') && kubelet_ip(entry.split(':').next().unwrap_or_default()).is_some())
            {
                "write the address alone, without a prefix length or port"
            } else {
                "write the kube-dns service IP (usually the `.10` of the service CIDR), or drop `clusterDNS` and let nodeadm derive it"
            };
            let span = doc.span_of(&format!("/spec/kubelet/config/clusterDNS/{i}"), false).unwrap_or(Span::part(
                doc.part.index,
                0,
                0,
            ));
            out.push(
                Diagnostic::new(&META, format!("clusterDNS entry `{entry}` is not an IP address: {consequence}"))
                    .with_help(hint)
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
    fn reads_entries_as_go_parse_ip_sloppy_does() {
        for ok in ["10.100.0.10", "010.100.000.010", "fd00:10::a", "::ffff:10.0.0.1", "169.254.20.10"] {
            assert!(kubelet_ip(ok).is_some(), "{ok}");
        }
        for bad in [
            " 10.100.0.10",
            "10.100.0.10 ",
            "10.100.0.10/32",
            "10.100.0.10:53",
            "kube-dns",
            "",
            "10.100.0.256",
            "1.2.3",
            "1.2.3.4.5",
            "0x0a.0.0.1",
            "1..2.3",
            "1234.1.1.1",
            "[fd00::a]",
        ] {
            assert!(kubelet_ip(bad).is_none(), "{bad:?}");
        }
        assert_eq!(kubelet_ip("010.100.000.010"), Some("10.100.0.10".parse().unwrap()));
    }
}
