//! Edits of the AL2 kubelet's files, judged by what the kubelet ran with (al2-node §3.3, §3.4):
//! each edit of `kubelet-config.json` is compared with the file before it, and the keys it set
//! that survived bootstrap.sh's rewrites and later edits become `spec.kubelet.config` keys
//! (CV429); keys bootstrap.sh overwrote were dead on AL2 (CV434); a removed key or unknown
//! content cannot be carried (CV435). Kubelet drop-ins are folded into the call's arguments
//! (`patches.rs`); their other `Environment=` variables become `instance.environment.kubelet`.
//! On AL2023 nothing reads these paths, so the commands leave the script, as do kubelet
//! restarts, which would start the kubelet before nodeadm-run configured it.

use super::codes;
use super::context::Ctx;
use super::kubelet_args::omitted_by;
use crate::al2::fs::{self, Content, Writer};
use crate::al2::node::Node;
use crate::al2::paths::{self, Kind};
use crate::al2::systemd;
use crate::nodeconfig::types::NodeConfig;
use serde_json::{Map, Value};

/// Maps nodeadm's own configuration fills in; an AL2 edit that replaced one is merged on AL2023.
const NODEADM_MAPS: &[&str] = &["evictionHard", "kubeReserved", "featureGates", "authentication", "authorization"];

fn json(c: Option<&Content>) -> Option<Map<String, Value>> {
    match crate::memo::json(c?.known()?) {
        Some(Value::Object(m)) => Some(m),
        _ => None,
    }
}

fn span_of(cx: &Ctx, command: usize) -> (usize, usize) {
    cx.command_spans.get(command).copied().unwrap_or((0, 0))
}

/// Translates this part's kubelet file edits; returns the commands to remove, with why.
pub(super) fn apply(cx: &mut Ctx, pi: usize, node: &Node, nc: &mut NodeConfig) -> Vec<(usize, &'static str)> {
    let mut removed = Vec::new();
    let ami = fs::ami_kubelet_config();
    let final_kcj = json(node.fs.content(fs::KCJ));
    let kcj_writes: Vec<_> =
        node.writes.iter().enumerate().filter(|(_, w)| paths::kind(&w.op.path) == Kind::KubeletConfig).collect();
    for (n, &(wi, w)) in kcj_writes.iter().enumerate() {
        if w.part != pi {
            continue;
        }
        removed.push((w.op.command, "kubelet-config.json edit; AL2023 has no such file (see the report)"));
        let span = span_of(cx, w.op.command);
        if let Some(why) = &w.not_taken {
            cx.push(
                &codes::DEAD_ON_AL2,
                pi,
                span,
                format!("this edit of kubelet-config.json sits in a branch AL2 did not take ({why}); removed"),
                None,
            );
            continue;
        }
        // The file as this edit found it.
        let prev_write = kcj_writes.iter().take(n).rev().map(|(_, p)| *p).find(|p| p.before_call == w.before_call);
        let prev = match (prev_write, w.before_call) {
            (Some(p), _) => json(Some(&p.result)),
            (None, true) => json(Some(&Content::Known(ami.clone()))),
            (None, false) => {
                node.run.as_ref().and_then(|r| json(r.kcj_after.as_ref().map(|s| Content::Known(s.clone())).as_ref()))
            }
        };
        let (Some(prev), Some(now)) = (prev, json(Some(&w.result))) else {
            let why = w.unreplayed.clone().or(w.no_effect.clone()).unwrap_or_else(|| match &w.result {
                Content::Unknown(why) => why.clone(),
                Content::Known(_) => "the result is not a JSON object (the kubelet would not start)".into(),
            });
            cx.push(
                &codes::NOT_REPLAYED,
                pi,
                span,
                format!("this edit of kubelet-config.json cannot be replayed ({why}); what the kubelet ran with is unknown; removed"),
                Some("set the keys it meant in spec.kubelet.config".into()),
            );
            continue;
        };
        let mut keys: Vec<&String> = prev.keys().chain(now.keys()).collect();
        keys.sort();
        keys.dedup();
        let (mut live, mut dead, mut gone) = (Vec::new(), Vec::new(), Vec::new());
        for k in keys.into_iter().filter(|k| prev.get(*k) != now.get(*k)) {
            let overwritten = w.before_call && node.run.as_ref().is_some_and(|r| r.kcj_keys.contains(&k.as_str()));
            let survived = final_kcj.as_ref().is_some_and(|f| f.get(k) == now.get(k));
            match (now.get(k), overwritten, survived) {
                (_, true, _) => dead.push(k.clone()),
                (None, _, true) => gone.push(k.clone()),
                (Some(v), false, true) => live.push((k.clone(), v.clone())),
                _ => {}
            }
        }
        if !dead.is_empty() {
            cx.push(
                &codes::DEAD_ON_AL2,
                pi,
                span,
                format!("this edit sets {} in kubelet-config.json before bootstrap.sh, which then rewrote {}; the AL2 node ran with bootstrap.sh's value, so it is not carried over", dead.join(", "), if dead.len() == 1 { "it" } else { "them" }),
                None,
            );
        }
        for k in &gone {
            cx.push(
                &codes::NOT_REPLAYED,
                pi,
                span,
                format!("this edit removes `{k}` from kubelet-config.json; a NodeConfig drop-in can set keys but not remove nodeadm's, so this cannot be carried over"),
                Some(format!("decide which value of `{k}` the node should run with and set it in spec.kubelet.config")),
            );
        }
        let mut fields = Vec::new();
        let mut at_boot = false;
        let boot_time = serde_json::Value::String(crate::al2::bootstrap_effects::BOOT_TIME.into());
        let command_text = cx.text.get(span.0..span.1).unwrap_or_default().to_string();
        for (k, v) in live {
            if v == boot_time {
                at_boot = true;
                // A value bash computed at boot: the calculator's is nodeadm's expression.
                let calc = cx
                    .calculators
                    .iter()
                    .find(|(var, _)| {
                        command_text.contains(&format!("${var}")) || command_text.contains(&format!("${{{var}}}"))
                    })
                    .map(|(_, c)| c.clone());
                match calc.as_ref().and_then(|c| c.expression()).filter(|_| k == "maxPods") {
                    Some(expr) => {
                        let calc_caveat = calc.as_ref().and_then(|c| c.caveat()).map(|c| format!("; {c}")).unwrap_or_default();
                        cx.push(&codes::MAX_PODS_EXPR, pi, span, format!("maxPods written into kubelet-config.json from max-pods-calculator.sh → spec.kubelet.maxPodsExpression: `{expr}` (needs AMI v20251007 or later); nodeadm computes kubeReserved.memory from its result, where AL2 used the instance's ENI-table value{}", calc_caveat), None);
                        nc.spec.kubelet.max_pods_expression = expr;
                    }
                    None if k == "maxPods" && calc.is_some() => cx.push(
                        &codes::MAX_PODS_EXPR,
                        pi,
                        span,
                        "maxPods from max-pods-calculator.sh with only --show-max-allowed is nodeadm's own default (the ENI value); nothing to write".into(),
                        None,
                    ),
                    None => cx.push(
                        &codes::RUNTIME_VALUE,
                        pi,
                        span,
                        format!("this edit sets `{k}` in kubelet-config.json to a value only known at boot; not translated"),
                        Some(format!("set spec.kubelet.config.{k} to the value the nodes need, or compute it at boot (--boot-hook)")),
                    ),
                }
                continue;
            }
            if let Some(why) = omitted_by(cx.opts.target, &k) {
                cx.push(&codes::OMITTED, pi, span, format!("`{k}` from kubelet-config.json left out: {why}"), None);
                continue;
            }
            if NODEADM_MAPS.contains(&k.as_str()) && v.is_object() {
                cx.push(
                    &codes::MAP_SEMANTICS,
                    pi,
                    span,
                    format!("the edit replaced the whole {k} map on AL2; as spec.kubelet.config it is merged with nodeadm's, so keys it left out keep nodeadm's values"),
                    None,
                );
            }
            fields.push(format!("spec.kubelet.config.{k}"));
            nc.spec.kubelet.config.insert(k, v);
        }
        let later = node.latent.contains(&wi);
        if !fields.is_empty() {
            cx.push(
                &codes::JQ_EDIT,
                pi,
                span,
                format!(
                    "this edit of kubelet-config.json → {}; removed from the script{}",
                    fields.join(", "),
                    if later { " (on AL2 it applied only at the next kubelet restart or reboot)" } else { "" }
                ),
                None,
            );
        } else if dead.is_empty() && gone.is_empty() && !at_boot {
            cx.push(
                &codes::DEAD_ON_AL2,
                pi,
                span,
                "this edit of kubelet-config.json changes nothing the kubelet ran with; removed".into(),
                None,
            );
        }
    }
    // Commands that only read kubelet-config.json to rewrite it (`jq … KCJ > tmp`): AL2023 has
    // no such file, so they would fail.
    for w in node.writes.iter().filter(|w| w.part == pi) {
        let reads_kcj = match &w.op.action {
            crate::al2::fileops::Action::Write { source: crate::al2::fileops::Source::Jq { input, .. }, .. } => {
                paths::normalise(input) == fs::KCJ
            }
            crate::al2::fileops::Action::Write { source: crate::al2::fileops::Source::File(f), .. } => {
                paths::normalise(f) == fs::KCJ
            }
            crate::al2::fileops::Action::Copy { from } => from == fs::KCJ,
            _ => false,
        };
        if reads_kcj && paths::kind(&w.op.path) != Kind::KubeletConfig {
            removed.push((
                w.op.command,
                "reads kubelet-config.json, which AL2023 does not have; what the edit did is in the report",
            ));
        }
    }
    // The kubeconfig and the cluster CA: nodeadm-config writes both before any script runs, so a
    // kept write or edit lands over nodeadm's file (a no-op at best, a broken join at worst).
    for w in node.writes.iter().filter(|w| w.part == pi && w.not_taken.is_none()) {
        if paths::kind(&w.op.path) != Kind::Kubeconfig {
            continue;
        }
        let (al2, instead) = paths::row(&w.op.path).map_or(("", ""), |r| (r.al2, r.instead));
        let span = span_of(cx, w.op.command);
        cx.push(
            &codes::AL2_ONLY,
            pi,
            span,
            format!("this writes {}, which on AL2 was read by {al2}; on AL2023 {instead}, so this command now changes nodeadm's file; kept", w.op.path),
            Some("remove the command if it only set up what spec.cluster now sets; keep it only if it writes something nodeadm does not".into()),
        );
    }
    // Kubelet drop-ins and unit edits: their arguments went through the call; the rest of their
    // environment is the kubelet's environment.
    let own_start = cx.entries.iter().any(|d| d.code == codes::STARTS_KUBELET.code);
    for w in node.writes.iter().filter(|w| w.part == pi) {
        if !matches!(paths::kind(&w.op.path), Kind::KubeletDropIn | Kind::KubeletUnit) {
            continue;
        }
        // What became of its settings differs per write; the report says which.
        let what = if paths::kind(&w.op.path) == Kind::KubeletUnit {
            "kubelet unit edit; AL2023's kubelet unit is nodeadm's (see the report)"
        } else {
            "kubelet drop-in; what became of its settings is in the report"
        };
        removed.push((w.op.command, what));
        let span = span_of(cx, w.op.command);
        if let Some(why) = &w.not_taken {
            cx.push(
                &codes::DEAD_ON_AL2,
                pi,
                span,
                format!("this writes {} in a branch AL2 did not take ({why}); removed", w.op.path),
                None,
            );
            continue;
        }
        if own_start {
            // The AL2 node ran no bootstrap.sh: the kubelet started from these files as written.
            let row = paths::row(&w.op.path).map_or("", |r| r.instead);
            let unknown = w.unreplayed.as_ref().map(|why| format!(" ({why})")).unwrap_or_default();
            cx.push(
                &codes::FILE_TRANSLATED,
                pi,
                span,
                format!("this writes {}{unknown}: {row}; this user data starts the kubelet itself (CV452), so what the file gave the kubelet is not translated; removed", w.op.path),
                None,
            );
            continue;
        }
        if let Some(why) = &w.no_effect {
            cx.push(&codes::DEAD_ON_AL2, pi, span, format!("this edits {}, but {why}; removed", w.op.path), None);
            continue;
        }
        let is_final = node.fs.get(&w.op.path).is_some_and(|f| f.writer == Writer::User(w.op.command));
        if !is_final {
            superseded(cx, pi, span, node, w);
            continue;
        }
        if let Some(why) = &w.unreplayed {
            cx.push(
                &codes::NOT_REPLAYED,
                pi,
                span,
                format!(
                    "this edit of {} cannot be replayed ({why}); what the kubelet ran with is unknown; removed",
                    w.op.path
                ),
                Some("set what the edit meant in spec.kubelet".into()),
            );
            continue;
        }
        let Some(text) = w.result.known() else {
            if let Content::Unknown(why) = &w.result {
                cx.push(
                    &codes::NOT_REPLAYED,
                    pi,
                    span,
                    format!("this writes {} with content only known at boot ({why}); what the kubelet ran with is unknown; removed", w.op.path),
                    None,
                );
            }
            continue;
        };
        let sets_extra_args = systemd::parse(text).iter().any(|e| {
            e.section == "Service"
                && e.key == "Environment"
                && systemd::environment(&e.value).unwrap_or_default().iter().any(|(k, _)| k == "KUBELET_EXTRA_ARGS")
        });
        let file = w.op.path.rsplit('/').next().unwrap_or_default();
        if sets_extra_args
            && node.run_part == Some(usize::MAX)
            && cx.opts.target == crate::target::Target::Mng
            && file > "30-kubelet-extra-args.conf"
        {
            cx.push(
                &codes::DEAD_ON_AL2,
                pi,
                span,
                format!("{file} sorts after the drop-in EKS's appended bootstrap.sh call writes (30-kubelet-extra-args.conf), so its KUBELET_EXTRA_ARGS replaced EKS's: on AL2 the node group's labels and --max-pods never reached the kubelet, which ran with its default of 110 pods; on AL2023 EKS's NodeConfig applies them"),
                Some("if the nodes should keep 110 pods, set spec.kubelet.config.maxPods: 110".into()),
            );
        }
        let mut env = Vec::new();
        let mut env_files: Vec<(String, Vec<String>)> = Vec::new();
        for e in systemd::parse(text).into_iter().filter(|e| e.section == "Service") {
            match e.key.as_str() {
                "Environment" => {
                    for (k, v) in systemd::environment(&e.value).unwrap_or_default() {
                        if k != "KUBELET_EXTRA_ARGS" && k != "KUBELET_ARGS" {
                            env.push((k, v));
                        }
                    }
                }
                "EnvironmentFile" => {
                    // The file as the node had it when the kubelet started (`-` marks it optional).
                    let file = e.value.trim().trim_start_matches('-');
                    match node.fs.content(file).and_then(Content::known) {
                        Some(t) => {
                            let vars = crate::al2::effective::env_file(t);
                            env_files.push((file.to_string(), vars.iter().map(|(k, _)| k.clone()).collect::<Vec<_>>()));
                            env.extend(vars);
                        }
                        None => cx.push(
                            &codes::NOT_REPLAYED,
                            pi,
                            span,
                            format!("the kubelet drop-in {} reads EnvironmentFile={}, whose content is not known here; nodeadm's kubelet takes its environment from spec.instance.environment.kubelet", w.op.path, e.value),
                            Some("put the variables in spec.instance.environment.kubelet".into()),
                        ),
                    }
                }
                _ => {}
            }
        }
        let row = paths::row(&w.op.path).map_or("", |r| r.instead);
        let with = if node.run_part == Some(usize::MAX) { "" } else { " with the bootstrap.sh call" };
        let mut msg =
            format!("this writes {}: {row}; what reached the kubelet's command line is translated{with}", w.op.path);
        if !env.is_empty() {
            let slot = nc.spec.instance.environment.entry("kubelet".into()).or_default();
            let names: Vec<String> = env.iter().map(|(k, _)| k.clone()).collect();
            for (k, v) in env {
                slot.insert(k, v);
            }
            msg.push_str(&format!("; {} → spec.instance.environment.kubelet", names.join(", ")));
            for (file, vars) in &env_files {
                msg.push_str(&format!(" ({} from EnvironmentFile={file})", vars.join(", ")));
            }
            // A proxy the kubelet had but containerd did not (image pulls are containerd's).
            if names.iter().any(|n| n.eq_ignore_ascii_case("https_proxy") || n.eq_ignore_ascii_case("http_proxy"))
                && !node
                    .fs
                    .dir("/etc/systemd/system/containerd.service.d")
                    .iter()
                    .any(|(_, f)| f.content.known().is_some_and(|t| t.to_ascii_lowercase().contains("proxy")))
            {
                msg.push_str("; on AL2 containerd had no proxy, so image pulls bypassed it; if pulls must go through the proxy, set the same variables in spec.instance.environment.containerd");
            }
        }
        cx.push(&codes::FILE_TRANSLATED, pi, span, format!("{msg}; removed"), None);
    }
    removed
}

/// A unit or drop-in write that is not the file the kubelet read: bootstrap.sh copied its unit
/// over it, a later command replaced or removed the file, or a later edit built on it (the last
/// write is reported with the file's final content).
fn superseded(cx: &mut Ctx, pi: usize, span: (usize, usize), node: &Node, w: &crate::al2::node::Write) {
    let path = &w.op.path;
    // The next write decides: an edit carries this one forward, a replacement discards it.
    let later_edit = node.writes.iter().find(|x| x.op.path == *path && x.op.command > w.op.command).is_some_and(|x| {
        matches!(
            x.op.action,
            crate::al2::fileops::Action::Sed { .. } | crate::al2::fileops::Action::Write { append: true, .. }
        )
    });
    let (meta, msg) = match node.fs.get(path).map(|f| &f.writer) {
        Some(Writer::Bootstrap) => (
            &codes::DEAD_ON_AL2,
            format!(
                "this edits {path} before the bootstrap.sh call, which copied /etc/eks/containerd/kubelet-containerd.service over it (containerd path), so the edit never reached the kubelet; removed"
            ),
        ),
        None => (&codes::DEAD_ON_AL2, format!("this writes {path}, which a later command removed; removed")),
        Some(_) if later_edit => (
            &codes::FILE_TRANSLATED,
            format!(
                "this edits {path}; a later edit builds on it, and the file as the kubelet read it is reported at the last write; removed"
            ),
        ),
        Some(_) => (
            &codes::DEAD_ON_AL2,
            format!(
                "this writes {path}, which a later command replaced, so the kubelet never read this version; removed"
            ),
        ),
    };
    cx.push(meta, pi, span, msg, None);
}
