//! Every emitted value checked against its field's type before it is written: the service CIDR
//! is a CIDR, the endpoint an https URL, the CA base64, clusterDNS entries IP addresses,
//! `maxPods` an integer, node labels valid Kubernetes label keys and values (Kubernetes
//! "Labels and Selectors": an optional DNS-subdomain prefix of at most 253 characters, a name and
//! a value of at most 63 alphanumerics, `-`, `_`, `.`, starting and ending alphanumeric). A
//! template placeholder passes: the renderer fills it in. Anything else is a documentation
//! placeholder or a typo the AL2 node would also have choked on: it is taken out of the
//! NodeConfig and reported (CV412) rather than passed through invalid.

use super::codes;
use crate::al2::template;
use crate::diagnostic::{Diagnostic, Span};
use crate::nodeconfig::types::NodeConfig;
use serde_json::Value;
use std::net::IpAddr;

fn templated(s: &str) -> bool {
    template::has_placeholder(s) || template::has_printf_verb(s) || s.contains("{{")
}

fn cidr(s: &str) -> bool {
    let Some((ip, bits)) = s.split_once('/') else { return false };
    match (ip.parse::<IpAddr>(), bits.parse::<u8>()) {
        (Ok(IpAddr::V4(_)), Ok(b)) => b <= 32,
        (Ok(IpAddr::V6(_)), Ok(b)) => b <= 128,
        _ => false,
    }
}

fn name_part(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        && s.starts_with(|c: char| c.is_ascii_alphanumeric())
        && s.ends_with(|c: char| c.is_ascii_alphanumeric())
}

/// A label key: `[prefix/]name`.
pub fn label_key(k: &str) -> bool {
    match k.split_once('/') {
        Some((prefix, name)) => {
            prefix.len() <= 253
                && prefix.split('.').all(|l| !l.is_empty() && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
                && name_part(name)
        }
        None => name_part(k),
    }
}

/// A label value: empty, or a name part.
pub fn label_value(v: &str) -> bool {
    v.is_empty() || name_part(v)
}

fn bad(entries: &mut Vec<Diagnostic>, field: &str, value: &str, why: &str) {
    // One finding per construct: the entry that said the value was translated gives way to
    // this one, at its place.
    let said = entries.iter().position(|d| {
        d.code == codes::TRANSLATED.code && d.message.contains(&format!("`{field}`")) && d.message.contains(value)
    });
    let at = said.map(|i| entries.remove(i)).and_then(|d| d.span.map(|s| (s, d.part)));
    let (span, part) = at.unwrap_or((Span::payload(0, 0), None));
    let mut d = Diagnostic::new(
            &codes::INVALID_VALUE,
            format!("{field}: `{value}` is not {why}; it is left out of the NodeConfig (a documentation placeholder or a typo: it did not work on AL2 either)"),
        )
        .with_help("give the real value")
        .with_span(span);
    d.part = part;
    entries.push(d);
}

/// Checks and cleans the NodeConfig; each value taken out is an entry.
pub(super) fn check(nc: &mut NodeConfig, entries: &mut Vec<Diagnostic>) {
    let c = &mut nc.spec.cluster;
    if !c.cidr.is_empty() && !templated(&c.cidr) && !cidr(&c.cidr) {
        bad(entries, "spec.cluster.cidr", &c.cidr, "a CIDR");
        c.cidr.clear();
    }
    if !c.api_server_endpoint.is_empty()
        && !templated(&c.api_server_endpoint)
        && !c.api_server_endpoint.starts_with("https://")
    {
        bad(entries, "spec.cluster.apiServerEndpoint", &c.api_server_endpoint, "an https:// URL");
        c.api_server_endpoint.clear();
    }
    let cfg = &mut nc.spec.kubelet.config;
    if let Some(Value::Array(dns)) = cfg.get_mut("clusterDNS") {
        let mut keep = Vec::new();
        for d in dns.drain(..) {
            match d.as_str() {
                Some(s) if templated(s) || s.parse::<IpAddr>().is_ok() => keep.push(d),
                Some(s) => bad(entries, "spec.kubelet.config.clusterDNS", s, "an IP address"),
                None => keep.push(d),
            }
        }
        *dns = keep;
        if dns.is_empty() {
            cfg.shift_remove("clusterDNS");
        }
    }
    // Feature gates Kubernetes removed: the kubelet of an AL2023 AMI refuses to start with one.
    if let Some(Value::Object(gates)) = cfg.get_mut("featureGates") {
        let removed: Vec<(String, u32)> = gates
            .keys()
            .filter_map(|g| crate::al2::feature_gates::last_minor(g).map(|m| (g.clone(), m)))
            .filter(|(_, m)| *m < crate::al2::feature_gates::AL2023_MIN_MINOR)
            .collect();
        for (g, m) in removed {
            gates.remove(&g);
            // The entry that said the flag was translated: gone when the gate was all it set.
            let said = entries.iter().position(|d| {
                d.code == codes::TRANSLATED.code
                    && d.message.contains("featureGates")
                    && d.message.contains(&format!("{g}="))
            });
            let (span, part) = match said {
                Some(i) if entries.get(i).is_some_and(|d| !d.message.contains(',')) => {
                    let d = entries.remove(i);
                    (d.span.unwrap_or(Span::payload(0, 0)), d.part)
                }
                _ => said
                    .and_then(|i| entries.get(i))
                    .map_or((Span::payload(0, 0), None), |d| (d.span.unwrap_or(Span::payload(0, 0)), d.part)),
            };
            let mut d = Diagnostic::new(
                    &codes::DROPPED,
                    format!("featureGates.{g}: Kubernetes removed this gate after 1.{m} (its feature is always on or gone), and the kubelet of AL2023 AMIs (Kubernetes 1.{} and later) refuses to start with an unrecognized gate; dropped", crate::al2::feature_gates::AL2023_MIN_MINOR),
                )
                .with_span(span);
            d.part = part;
            entries.push(d);
        }
        if gates.is_empty() {
            cfg.shift_remove("featureGates");
        }
    }
    let cfg = &mut nc.spec.kubelet.config;
    if let Some(v) = cfg.get("maxPods")
        && !(v.is_i64() || v.as_str().is_some_and(templated))
    {
        let shown = v.as_str().map_or_else(|| v.to_string(), str::to_string);
        bad(entries, "spec.kubelet.config.maxPods", &shown, "an integer");
        cfg.shift_remove("maxPods");
    }
    let flags = std::mem::take(&mut nc.spec.kubelet.flags);
    for f in flags {
        let Some(labels) = f.strip_prefix("--node-labels=") else {
            nc.spec.kubelet.flags.push(f);
            continue;
        };
        if templated(labels) {
            nc.spec.kubelet.flags.push(f);
            continue;
        }
        let mut keep = Vec::new();
        for kv in labels.split(',').filter(|kv| !kv.is_empty()) {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            if label_key(k) && label_value(v) {
                keep.push(kv);
            } else if label_key(k) && v.contains('$') {
                // A value the script computed at boot (`zone=$ZONE`): it worked on AL2.
                entries.push(
                    Diagnostic::new(
                        &codes::RUNTIME_VALUE,
                        format!("the node label `{kv}` takes its value from the script at boot; nodeadm runs no shell, so it is left out of the NodeConfig"),
                    )
                    .with_help("compute it at boot with --boot-hook, or set the label per node group")
                    .with_span(Span::payload(0, 0)),
                );
            } else {
                bad(
                    entries,
                    "the node label",
                    kv,
                    "a valid Kubernetes label (key `[prefix/]name`, value up to 63 alphanumerics, `-`, `_`, `.`)",
                );
            }
        }
        let kept = format!("--node-labels={}", keep.join(","));
        if kept != f {
            // The entry that said the whole flag was kept now says what was.
            for d in entries
                .iter_mut()
                .filter(|d| d.code == codes::KEPT_FLAG.code && d.message.starts_with(&format!("`{f}`")))
            {
                d.message = if keep.is_empty() {
                    format!("`{f}`: no label of it is kept (see below)")
                } else {
                    format!("`{f}` → spec.kubelet.flags as `{kept}` (the rest: see below)")
                };
            }
        }
        if !keep.is_empty() {
            nc.spec.kubelet.flags.push(kept);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_checked_against_their_types() {
        let mut nc = NodeConfig::default();
        nc.spec.cluster.cidr = "service-cidr".into();
        nc.spec.cluster.api_server_endpoint = "${endpoint}".into();
        nc.spec
            .kubelet
            .config
            .insert("clusterDNS".into(), serde_json::json!(["xx.xx.xx.xx", "10.100.0.10", "service-cidr.10"]));
        nc.spec.kubelet.config.insert("maxPods".into(), serde_json::json!("my-max-pods"));
        nc.spec.kubelet.flags = vec!["--node-labels=team=a,bad key=x,${extra}".into(), "--v=2".into()];
        let mut e = Vec::new();
        check(&mut nc, &mut e);
        assert!(nc.spec.cluster.cidr.is_empty());
        assert_eq!(nc.spec.cluster.api_server_endpoint, "${endpoint}");
        assert_eq!(nc.spec.kubelet.config["clusterDNS"], serde_json::json!(["10.100.0.10"]));
        assert!(!nc.spec.kubelet.config.contains_key("maxPods"));
        assert_eq!(e.len(), 4, "{e:?}");
        let mut nc = NodeConfig::default();
        nc.spec.kubelet.flags = vec!["--node-labels=team=a,bad key=x".into()];
        check(&mut nc, &mut e);
        assert_eq!(nc.spec.kubelet.flags, ["--node-labels=team=a"]);
        assert!(label_key("node.kubernetes.io/lifecycle") && !label_key("-x") && label_value(""));
    }
}
