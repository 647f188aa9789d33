//! Several `bootstrap.sh` calls in one script: the first is translated and the others compared
//! with it (CV409), unless `--boot-hook` can compute the difference at boot from the instance's
//! lifecycle (CV431, `boothook.rs`).

use super::boothook;
use super::call::apply_call;
use super::codes;
use super::context::Ctx;
use crate::al2::analysis;
use crate::nodeconfig::types::NodeConfig;
use crate::userdata::mime_write::OutPart;
use serde_json::Value;

/// Translates every call; returns the NodeConfig to merge (the first call's, or the common
/// settings with `--boot-hook`).
pub(super) fn combine(cx: &mut Ctx, pi: usize, a: &analysis::Analysis, out: &mut Vec<OutPart>) -> Option<NodeConfig> {
    // The first call is translated; others are compared with it.
    let mut first_nc: Option<NodeConfig> = None;
    // What `--boot-hook` computes at boot instead (boothook.rs).
    let mut hook: Option<serde_json::Map<String, Value>> = None;
    for (n, inv) in a.invocations.iter().enumerate() {
        let mut this = NodeConfig::default();
        let mut scratch = cx.scratch();
        apply_call(&mut scratch, pi, inv, &mut this);
        match &first_nc {
            None => {
                cx.entries.append(&mut scratch.entries);
                cx.data_volumes.append(&mut scratch.data_volumes);
                cx.never_joined = cx.never_joined.take().or(scratch.never_joined.take());
                first_nc = Some(this);
            }
            Some(first) if *first == this => {}
            Some(first)
                if n == 1
                    && a.invocations.len() == 2
                    && let Some(source) = &cx.opts.boot_hook
                    && let (Some(cond), Some(other)) =
                        (a.invocations.first().and_then(|i| i.branch.first()), inv.branch.first())
                    && other.starts_with("else")
                    && let Some(value) = boothook::lifecycle_condition(cond, &cx.text)
                    && let Some((common, spec)) = boothook::split(first, &this, &value) =>
            {
                let _ = source;
                hook = Some(spec);
                cx.push(
                    &codes::BOOT_HOOK,
                    pi,
                    inv.span,
                    format!("the {value} and the other branch differ in settings eks-userdata-boot computes at boot (max pods, labels, taints); the common ones stay static"),
                    None,
                );
                first_nc = Some(common);
            }
            Some(first) => {
                let (fa, fb) = (
                    serde_json::to_value(&first.spec).unwrap_or_default(),
                    serde_json::to_value(&this.spec).unwrap_or_default(),
                );
                let diff = differing_fields(&fa, &fb, "spec");
                let where_ = if inv.branch.is_empty() {
                    "at the top level".to_string()
                } else {
                    format!("in `{}`", inv.branch.join(" › "))
                };
                let first_where = a.invocations.first().map(|i| i.branch.join(" › ")).unwrap_or_default();
                cx.push(
                    &codes::BRANCHES,
                    pi,
                    inv.span,
                    format!("bootstrap.sh call {} ({where_}) differs from the first ({}) in {}; the output uses the first", n + 1, if first_where.is_empty() { "top level".into() } else { first_where }, diff.join(", ")),
                    Some("one static NodeConfig cannot express both; split the node group, or set the differing fields at boot with a drop-in".into()),
                );
            }
        }
        if !inv.branch.is_empty() && a.invocations.len() == 1 && cx.text.contains("target-lifecycle-state") {
            cx.push(
                &codes::WARM_POOL_GATE,
                pi,
                inv.span,
                format!(
                    "the only bootstrap.sh call runs inside `{}`, which reads the instance's Auto Scaling lifecycle state: on AL2 warmed instances did not join; the NodeConfig has no such gate, so on AL2023 they would join while in the warm pool",
                    inv.branch.join(" › ")
                ),
                Some("gate nodeadm-run.service on the lifecycle state (an ExecCondition= drop-in written by a boothook) before using this output".into()),
            );
        } else if !inv.branch.is_empty() && a.invocations.len() == 1 {
            cx.push(
                &codes::CALL_IN_BRANCH,
                pi,
                inv.span,
                format!(
                    "the only bootstrap.sh call runs inside `{}`; the NodeConfig applies on every boot path",
                    inv.branch.join(" › ")
                ),
                None,
            );
        }
    }
    if let (Some(source), Some(first)) = (&cx.opts.boot_hook, first_nc.as_mut()) {
        let labels = boothook::runtime_labels(first, &cx.text);
        if !labels.is_empty() {
            let keys: Vec<String> = labels.iter().filter_map(|l| l["key"].as_str().map(str::to_string)).collect();
            let spec = hook.get_or_insert_with(boothook::new_spec);
            if let Some(Value::Array(existing)) = spec.get_mut("labels") {
                existing.extend(labels);
            } else {
                spec.insert("labels".into(), Value::Array(labels));
            }
            let span = a.invocations.first().map_or((0, 0), |i| i.span);
            cx.push(
                &codes::BOOT_HOOK,
                pi,
                span,
                format!("node labels read from IMDS at boot ({}) are set by eks-userdata-boot", keys.join(", ")),
                None,
            );
            // Nothing left that only the boot knows: the runtime entry no longer applies.
            let text = serde_json::to_string(&first.spec.kubelet).unwrap_or_default();
            if !text.contains('$') && !text.contains('`') {
                cx.entries.retain(|d| {
                    !(d.code == codes::RUNTIME_VALUE.code && d.message.starts_with("--kubelet-extra-args is"))
                });
            }
        }
        if let Some(yaml) = hook.as_ref().and_then(boothook::spec_yaml) {
            out.push(OutPart::text("text/x-shellscript", boothook::script(&yaml, source)));
        }
    }
    first_nc
}

/// The dotted paths where two JSON values differ.
pub(super) fn differing_fields(a: &Value, b: &Value, path: &str) -> Vec<String> {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let mut keys: Vec<&String> = x.keys().chain(y.keys()).collect();
            keys.sort();
            keys.dedup();
            keys.into_iter()
                .flat_map(|k| {
                    differing_fields(
                        x.get(k).unwrap_or(&Value::Null),
                        y.get(k).unwrap_or(&Value::Null),
                        &format!("{path}.{k}"),
                    )
                })
                .collect()
        }
        _ if a == b => Vec::new(),
        _ => vec![path.to_string()],
    }
}
