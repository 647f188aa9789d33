use crate::diagnostic::RuleMeta;
use crate::diagnostic::{Diagnostic, Severity, Span};
use crate::lint::{Context, Doc};
use crate::nodeconfig::pointer::Pointer as _;
use serde_json::Value;

pub const META: RuleMeta = RuleMeta {
    code: "NC207",
    name: "missing-cluster-field",
    severity: Severity::Error,
    summary: "a cluster field nodeadm requires is missing after merging all parts",
    explanation: "After merging every NodeConfig part (later non-empty values win, docs §2.2), \
nodeadm requires `spec.cluster.name`, `apiServerEndpoint`, `certificateAuthority` and `cidr` \
(docs §1.3) and fails with e.g. `CIDR is missing in cluster configuration`. AL2's bootstrap.sh \
called DescribeCluster to fill them in; nodeadm never does, so `cidr` (the SERVICE CIDR, not the \
VPC CIDR) is a common omission (amazon-eks-ami #1678, #2139).\n\nThis applies to \
`--target self-managed` and `--target mng-custom-ami`. A managed node group on an EKS AMI and \
Karpenter append their own NodeConfig with the cluster section, so the rule is off for \
`--target mng` and `--target karpenter`.\n\nFix: add the fields from \
`aws eks describe-cluster` (`endpoint`, `certificateAuthority.data`, \
`kubernetesNetworkConfig.serviceIpv4Cidr`).",
};

const FIELDS: [(&str, &str); 4] = [
    ("name", "Name is missing in cluster configuration"),
    ("apiServerEndpoint", "Apiserver endpoint is missing in cluster configuration"),
    ("certificateAuthority", "Certificate authority is missing in cluster configuration"),
    ("cidr", "CIDR is missing in cluster configuration"),
];

/// The merged value of `spec.cluster.<field>`: later non-empty wins, as nodeadm merges.
pub fn merged<'a>(docs: &'a [Doc<'a>], field: &str) -> Option<&'a Value> {
    docs.iter()
        .filter_map(|d| d.value()?.at(&format!("/spec/cluster/{field}")))
        .rfind(|v| !matches!(v, Value::Null | Value::Bool(false)) && v.as_str() != Some(""))
}

pub fn check(cx: &Context, out: &mut Vec<Diagnostic>) {
    if !cx.needs_cluster() {
        return;
    }
    let decodable: Vec<&Doc> = cx.docs.iter().filter(|d| d.value().is_some_and(Value::is_object)).collect();
    let Some(last) = decodable.last() else { return };
    let missing: Vec<(&str, &str)> = FIELDS.into_iter().filter(|(f, _)| merged(&cx.docs, f).is_none()).collect();
    let Some((first_missing, nodeadm_says)) = missing.first() else { return };
    let names: Vec<String> = missing.iter().map(|(f, _)| format!("`{f}`")).collect();
    let span = last.span_of("/spec/cluster", true).or_else(|| last.span_of("/spec", true)).unwrap_or(Span::part(
        last.part.index,
        0,
        0,
    ));
    let from = if decodable.len() > 1 { " in any NodeConfig part" } else { "" };
    let what = if missing.len() == 1 { "is" } else { "are" };
    out.push(
        Diagnostic::new(&META, format!("spec.cluster {} {what} not set{from}: nodeadm fails with \"{nodeadm_says}\"", names.join(", ")))
            .with_help(format!(
                "set {} from `aws eks describe-cluster` (cidr is the service CIDR), or use --target mng / karpenter if EKS or Karpenter supplies the cluster section (--target is {})",
                if missing.len() == 1 { "it" } else { "them" },
                cx.target
            ))
            .with_span(span)
            .with_part(cx.part_index(last.part))
            .with_pointer(format!("/spec/cluster/{first_missing}")),
    );
}
