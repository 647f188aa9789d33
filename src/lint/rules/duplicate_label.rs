//! NC214: nodeadm concatenates `kubelet.flags` across parts (docs §2.2) and repeated
//! `--node-labels` flags accumulate in the kubelet (docs §6.1), so a key set twice silently takes
//! the last value.

use crate::diagnostic::RuleMeta;
use crate::diagnostic::{Diagnostic, Severity};
use crate::lint::Context;
use std::collections::HashMap;

pub const META: RuleMeta = RuleMeta {
    code: "NC214",
    name: "duplicate-label-or-taint",
    severity: Severity::Warning,
    summary: "the same node label or taint is set by more than one kubelet flag",
    explanation: "nodeadm appends the `kubelet.flags` of every NodeConfig part in order (docs \
§2.2), and the kubelet accumulates repeated `--node-labels` and `--register-with-taints` flags: a \
key given twice takes its last value, silently. This usually means a label was added in one part \
(or by a Terraform module) and edited in another.\n\nFix: set each label and taint once; move \
taints to `kubelet.config.registerWithTaints`.",
};

/// The keys a flag item sets: (key, full entry). Labels key on the label key; taints on key and
/// effect, as the API server does.
fn keys(flag: &str) -> Vec<(String, &str)> {
    if let Some(v) = flag.strip_prefix("--node-labels=") {
        return v
            .split(',')
            .filter(|e| !e.is_empty())
            .map(|e| (format!("label `{}`", e.split('=').next().unwrap_or(e)), e))
            .collect();
    }
    if let Some(v) = flag.strip_prefix("--register-with-taints=") {
        return v
            .split(',')
            .filter(|e| !e.is_empty())
            .map(|e| {
                let key = e.split(['=', ':']).next().unwrap_or(e);
                let effect = e.rsplit_once(':').map(|(_, eff)| eff).unwrap_or_default();
                (format!("taint `{key}:{effect}`"), e)
            })
            .collect();
    }
    Vec::new()
}

pub fn check(cx: &Context, out: &mut Vec<Diagnostic>) {
    let mut seen: HashMap<String, (String, &str)> = HashMap::new();
    for (di, _, flag, span) in super::flags::items(cx) {
        let Some(doc) = cx.docs.get(di) else { continue };
        for (key, entry) in keys(flag) {
            if let Some((there, first)) = seen.get(&key) {
                let what = if *first == entry {
                    "again".to_owned()
                } else {
                    format!("as `{entry}`; the earlier `{first}` is overridden")
                };
                out.push(
                    Diagnostic::new(&META, format!("{key} was already set in {there}, and is set here {what}"))
                        .with_help("set each label and taint once")
                        .with_span(span)
                        .with_part(cx.part_index(doc.part)),
                );
            } else {
                seen.insert(key, (cx.where_(doc.part), entry));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::keys;

    #[test]
    fn label_and_taint_keys() {
        let k: Vec<_> = keys("--node-labels=a=1,b=2").into_iter().map(|(k, _)| k).collect();
        assert_eq!(k, ["label `a`", "label `b`"]);
        let k: Vec<_> =
            keys("--register-with-taints=gpu=true:NoSchedule,spot:NoExecute").into_iter().map(|(k, _)| k).collect();
        assert_eq!(k, ["taint `gpu:NoSchedule`", "taint `spot:NoExecute`"]);
        assert!(keys("--max-pods=3").is_empty());
    }
}
