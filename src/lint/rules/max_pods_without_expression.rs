//! NC223: nodeadm has no max-pods calculator and no prefix-delegation switch; the only way to
//! raise max pods per instance type, with kube-reserved following, is `maxPodsExpression`
//! (docs §5.2, §7 item 9; amazon-eks-ami #1698, #1902, #2045, #2465).

use crate::al2::maxpods;
use crate::diagnostic::RuleMeta;
use crate::diagnostic::{Diagnostic, Severity, Span};
use crate::lint::{Context, Doc};
use crate::nodeconfig::pointer::Pointer as _;
use crate::target::Target;

pub const META: RuleMeta = RuleMeta {
    code: "NC223",
    name: "max-pods-without-expression",
    severity: Severity::Warning,
    summary: "a prefix-delegation style maxPods (fixed ≥ 110, or max-pods-calculator.sh) without `maxPodsExpression`",
    explanation: "With VPC CNI prefix delegation a node holds far more pods than its ENI \
addresses allow, and AL2 users raised max pods with `max-pods-calculator.sh \
--cni-prefix-delegation-enabled` or a fixed `--max-pods`. AL2023 ships no calculator \
(awslabs/amazon-eks-ami#1902), and nodeadm has no prefix-delegation switch (#2045, #2465). A \
fixed `kubelet.config.maxPods` is the same number on every instance type, and nodeadm still \
computes `kubeReserved.memory` from the instance's ENI value (11 × max pods + 255 Mi, #1698), so \
a small instance running 110 pods reserves memory for 17 of them and the kubelet can be starved. \
`spec.kubelet.maxPodsExpression` (AMI release v20251007 or later) computes max pods per instance \
type, and nodeadm computes kube-reserved from its result (docs §5.2).\n\nThe rule fires on a \
fixed `maxPods` (or a `--max-pods` kubelet flag) of 110 or more (the values prefix-delegation setups use; 110 is also the \
calculator's cap) and on a script that calls `max-pods-calculator.sh` or sets \
`ENABLE_PREFIX_DELEGATION` in AL2023 user data, when no part sets `maxPodsExpression`. It does \
not fire for Karpenter, which computes max pods and kube-reserved itself and appends them \
last.\n\nFix: replace the fixed value with an expression, for prefix delegation \
`(default_enis * ((ips_per_eni - 1) * 16) + 2) > 110 ? 110 : (default_enis * ((ips_per_eni - 1) \
* 16) + 2)` (use 250 on instances with more than 30 vCPUs). Check the result on a node with \
`/etc/kubernetes/kubelet/config.json`. On an AMI older than v20251007 keep `maxPods` and set \
`kubeReserved` yourself.",
};

/// The calculator's prefix-delegation cap for instances with 30 vCPUs or fewer (docs §5.2);
/// the same number is the Kubernetes default, so it is where deliberate raising starts.
const PD_THRESHOLD: u64 = 110;

const PD_EXPRESSION: &str =
    "(default_enis * ((ips_per_eni - 1) * 16) + 2) > 110 ? 110 : (default_enis * ((ips_per_eni - 1) * 16) + 2)";

pub fn check(cx: &Context, out: &mut Vec<Diagnostic>) {
    if cx.target == Target::Karpenter || cx.docs.iter().any(has_expression) {
        return;
    }
    let too_old = cx.ami_release.is_some_and(|r| r < 20251007);
    let help = if too_old {
        "maxPodsExpression needs AMI release v20251007 or later; until then also set kubelet.config.kubeReserved for the larger pod count".to_string()
    } else {
        format!("use spec.kubelet.maxPodsExpression, for prefix delegation: `{PD_EXPRESSION}`")
    };
    for doc in &cx.docs {
        let Some(v) = doc.value() else { continue };
        let fixed = v.at("/spec/kubelet/config/maxPods").and_then(|m| match m {
            serde_json::Value::Number(n) => n.as_u64(),
            serde_json::Value::String(s) => s.trim().parse().ok(),
            _ => None,
        });
        if let Some(n) = fixed.filter(|n| *n >= PD_THRESHOLD) {
            out.push(
                Diagnostic::new(&META, format!("`maxPods: {n}` is fixed for every instance type, and nodeadm still computes kubeReserved from the instance's ENI max pods"))
                    .with_help(help.clone())
                    .with_span(doc.span_or_start("/spec/kubelet/config/maxPods", false))
                    .with_part(cx.part_index(doc.part)),
            );
        }
    }
    // The same fixed number as a kubelet flag: nodeadm passes the flag after its own config, so
    // the kubelet runs that many pods, and kubeReserved is still the ENI value's.
    for (di, _, flag, span) in super::flags::items(cx) {
        let value = flag.trim().strip_prefix("--max-pods=").and_then(|v| v.trim().parse::<u64>().ok());
        let Some(n) = value.filter(|n| *n >= PD_THRESHOLD) else { continue };
        let Some(doc) = cx.docs.get(di) else { continue };
        out.push(
            Diagnostic::new(&META, format!("`--max-pods={n}` is fixed for every instance type, and nodeadm still computes kubeReserved from the instance's ENI max pods"))
                .with_help(help.clone())
                .with_span(span)
                .with_part(cx.part_index(doc.part)),
        );
    }
    for (part, analysis) in &cx.scripts {
        // A script that still calls bootstrap.sh is AL2 user data: AL301 and `convert` cover it.
        if !analysis.invocations.is_empty() {
            continue;
        }
        for cmd in analysis.script.commands.iter() {
            let words = cmd.words.iter().chain(cmd.assignments.iter().map(|(_, w)| w));
            for w in words {
                let (what, help) = if w.raw.contains("max-pods-calculator.sh") {
                    match maxpods::parse(&w.raw).and_then(|c| c.expression()) {
                        Some(e) if !too_old => (
                            "AL2023 ships no max-pods-calculator.sh: this command fails on the node".to_string(),
                            format!(
                                "remove it and set `spec.kubelet.maxPodsExpression: {e}` (its options, translated)"
                            ),
                        ),
                        Some(_) => (
                            "AL2023 ships no max-pods-calculator.sh: this command fails on the node".to_string(),
                            help.clone(),
                        ),
                        None => (
                            "AL2023 ships no max-pods-calculator.sh: this command fails on the node".to_string(),
                            "remove it: without options the calculator gave nodeadm's own default".to_string(),
                        ),
                    }
                } else if w.raw.contains("ENABLE_PREFIX_DELEGATION") {
                    ("`ENABLE_PREFIX_DELEGATION` is a VPC CNI setting; on the node, max pods still follows the ENI formula unless maxPodsExpression raises it".to_string(), help.clone())
                } else {
                    continue;
                };
                // Assignment values carry no location of their own; the command's span holds them.
                let span = if w.span.0 < w.span.1 { w.span } else { cmd.span };
                out.push(
                    Diagnostic::new(&META, what)
                        .with_help(help)
                        .with_span(Span::part(part.index, span.0, span.1))
                        .with_part(cx.part_index(part)),
                );
                break;
            }
        }
    }
}

fn has_expression(doc: &Doc) -> bool {
    doc.value()
        .and_then(|v| v.at("/spec/kubelet/maxPodsExpression"))
        .and_then(|e| e.as_str())
        .is_some_and(|e| !e.trim().is_empty())
}
