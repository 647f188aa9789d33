use crate::diagnostic::RuleMeta;
use crate::diagnostic::{Diagnostic, Severity};
use crate::lint::Context;
use crate::lint::rules::missing_cluster_field::merged;
use crate::nodeconfig::pointer::Pointer as _;
use serde_json::Value;

pub const META: RuleMeta = RuleMeta {
    code: "NC208",
    name: "outpost-id-missing",
    severity: Severity::Error,
    summary: "enableOutpost is true but cluster.id is not set",
    explanation: "On an AWS Outpost local cluster nodeadm needs the cluster ID: with \
`enableOutpost: true` and no `id` it fails with `cluster ID must be provided for outposts` (docs \
§1.3). A later part cannot turn `enableOutpost` off again: `false` never overrides `true` in the \
merge (docs §2.2).\n\nFix: set `spec.cluster.id` to the Outpost cluster ID (DescribeCluster \
`id`).",
};

pub fn check(cx: &Context, out: &mut Vec<Diagnostic>) {
    if merged(&cx.docs, "enableOutpost") != Some(&Value::Bool(true)) || merged(&cx.docs, "id").is_some() {
        return;
    }
    let Some(doc) = cx
        .docs
        .iter()
        .rev()
        .find(|d| d.value().and_then(|v| v.at("/spec/cluster/enableOutpost")) == Some(&Value::Bool(true)))
    else {
        return;
    };
    out.push(
        Diagnostic::new(&META, "`enableOutpost` is true but `spec.cluster.id` is not set: nodeadm fails with \"cluster ID must be provided for outposts\"")
            .with_help("set `spec.cluster.id` to the Outpost cluster ID from DescribeCluster")
            .with_span(doc.span_or_start("/spec/cluster/enableOutpost", true))
            .with_part(cx.part_index(doc.part))
            .with_pointer("/spec/cluster/id"),
    );
}
