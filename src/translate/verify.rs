//! Proof that the AL2023 node gets what the AL2 node got: the AL2 node's effective
//! configuration (the user data replayed over the AMI's files, `al2::effective`) against the
//! AL2023 node nodeadm builds from the output (`render`, same target and instance type), field by
//! field — kubelet configuration with flags folded in, the remaining kubelet arguments, labels,
//! containerd settings, service environment. A field is compared when either user data changed
//! it from its platform's own default (each side's baseline is its bare node), and max pods
//! always. Every difference is either explained by a report entry that made it on purpose (its
//! code and message name the field) or unexplained; `convert --verify` fails on the latter.

use super::Options;
use super::codes;
use crate::al2::bootstrap_effects::Facts;
use crate::diagnostic::{Diagnostic, RuleMeta};
use crate::effective::{Equivalence, Node, Row, Verdict};
use crate::target::Target;
use crate::userdata::{Envelope, Limits};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Mutex, OnceLock};

/// A value as compared and shown: objects with sorted keys, taint lists in a stable order, an
/// empty string as unset, and the kubelet's own default for an absent `maxPods`.
fn show(path: &str, v: Option<&serde_json::Value>) -> String {
    fn canonical(v: &serde_json::Value) -> serde_json::Value {
        match v {
            serde_json::Value::Object(m) => {
                let mut keys: Vec<&String> = m.keys().collect();
                keys.sort();
                serde_json::Value::Object(keys.into_iter().map(|k| (k.clone(), canonical(&m[k]))).collect())
            }
            serde_json::Value::Array(a) => serde_json::Value::Array(a.iter().map(canonical).collect()),
            other => other.clone(),
        }
    }
    match v {
        Some(serde_json::Value::String(s)) if s == crate::al2::effective::EKS_VALUE => "(EKS's value)".into(),
        None if path == "maxPods" => "110".into(),
        None => "(not set)".into(),
        Some(serde_json::Value::String(s)) if s.is_empty() => "(not set)".into(),
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(serde_json::Value::Array(a)) if path == "registerWithTaints" => {
            let mut items: Vec<String> = a.iter().map(|x| canonical(x).to_string()).collect();
            items.sort();
            format!("[{}]", items.join(","))
        }
        Some(other) => canonical(other).to_string(),
    }
}

/// Fields each target supplies itself (peers §8): AL2 user data set them, the target's own part
/// does on AL2023.
fn owned_by_target(target: Target, field: &str) -> bool {
    let label_or_taint = field.starts_with("labels.") || field == "kubelet.registerWithTaints";
    match target {
        Target::Mng => label_or_taint || field == "kubelet.maxPods" || field == "kubelet.clusterDNS",
        Target::Karpenter => label_or_taint || field == "kubelet.maxPods" || field == "kubelet.clusterDNS",
        _ => false,
    }
}

/// The report entry that explains a difference: one whose code changes such fields on purpose
/// and whose message names the field's key.
fn explanation(field: &str, al2: &str, entries: &[Diagnostic], target: Target) -> Option<(&'static str, String)> {
    if owned_by_target(target, field) {
        // The entry that left it out, when one names it (CV439 says where to set it instead).
        let key = match field {
            "kubelet.registerWithTaints" => "taint",
            "kubelet.maxPods" => "max-pods",
            "kubelet.clusterDNS" => "dns-cluster-ip",
            f => f.trim_start_matches("labels."),
        };
        let named = [&codes::SET_ON_TARGET, &codes::OMITTED]
            .into_iter()
            .find_map(|m| entries.iter().find(|d| d.code == m.code && d.message.contains(key)).map(|d| d.code));
        return Some((named.unwrap_or(codes::OMITTED.code), format!("--target {target} supplies it")));
    }
    // AL2's bootstrap.sh took the DNS address from DescribeCluster or guessed it from the VPC's
    // CIDR; nodeadm computes it from spec.cluster.cidr, which the entry that set it names.
    if field == "kubelet.clusterDNS"
        && (al2.contains("DescribeCluster") || al2.contains("from the VPC's CIDR"))
        && let Some(d) =
            entries.iter().find(|d| d.code == codes::TRANSLATED.code && d.message.contains("spec.cluster.cidr"))
    {
        let why = if al2.contains("DescribeCluster") {
            "nodeadm computes it from spec.cluster.cidr, AL2 from the service CIDR DescribeCluster returned: the same address when spec.cluster.cidr is the cluster's service CIDR"
        } else {
            "nodeadm computes it from spec.cluster.cidr, AL2 guessed it from the VPC's CIDR: the same address when the cluster uses EKS's default service CIDR (else AL2's was wrong)"
        };
        return Some((d.code, why.into()));
    }
    // A value only the AL2 node knew: explained by the entry that said so.
    if al2.contains(crate::al2::bootstrap_effects::BOOT_TIME)
        && let Some(d) = entries
            .iter()
            .find(|d| [codes::RUNTIME_VALUE.code, codes::MAX_PODS_EXPR.code, codes::BOOT_HOOK.code].contains(&d.code))
    {
        return Some((d.code, d.message.chars().take(120).collect()));
    }
    // A key AL2's containerd lost because the user replaced its config, which nodeadm's merged
    // config keeps: explained by the entry that said the config is merged, not replaced.
    if field.starts_with("containerd.")
        && let Some(d) = entries.iter().find(|d| {
            (d.code == codes::CONTAINERD.code || d.code == codes::MAP_SEMANTICS.code) && d.message.contains("merged")
        })
    {
        return Some((d.code, d.message.chars().take(120).collect()));
    }
    let key = field
        .trim_start_matches("kubelet.")
        .trim_start_matches("labels.")
        .trim_start_matches("args.")
        .trim_start_matches("containerd.")
        .trim_start_matches("environment.");
    let top = key.split(['.', '[', '=']).next().unwrap_or(key).trim_start_matches('-');
    let candidates: &[&RuleMeta] = &[
        &codes::MAP_SEMANTICS,
        &codes::NODEADM_OWNED,
        &codes::OMITTED,
        &codes::DROPPED,
        &codes::UNKNOWN,
        &codes::INVALID_VALUE,
        &codes::RUNTIME_VALUE,
        &codes::TEMPLATE_ARGS,
        &codes::BRANCHES,
        &codes::CONTAINERD,
        &codes::MAX_PODS_EXPR,
        &codes::NOT_REPLAYED,
        &codes::BOOT_HOOK,
    ];
    entries.iter().find_map(|d| {
        let fits = candidates.iter().any(|m| m.code == d.code);
        let names = !top.is_empty() && d.message.contains(top);
        let max_pods = d.code == codes::MAX_PODS_EXPR.code && (top == "maxPods" || field.contains("kubeReserved"));
        (fits && (names || max_pods)).then(|| (d.code, d.message.chars().take(120).collect()))
    })
}

/// Baseline nodes by what they depend on.
type Cache<K> = OnceLock<Mutex<BTreeMap<K, Node>>>;

/// The bare AL2 node: the same call with nothing from the user (`script`).
fn baseline_al2(facts: &Facts, script: &'static str) -> Node {
    static CACHE: Cache<(Option<String>, Option<String>, &'static str)> = OnceLock::new();
    let key = (facts.instance_type.clone(), facts.service_cidr.clone(), script);
    let cache = CACHE.get_or_init(Default::default);
    if let Some(n) = cache.lock().ok().and_then(|c| c.get(&key).cloned()) {
        return n;
    }
    let node = match crate::al2::shell::parse(script, crate::al2::template::Syntax::None) {
        Ok(s) => {
            let a = crate::al2::analysis::analyze(s);
            crate::al2::effective::of(&crate::al2::node::replay(&[(0, &a)], facts))
        }
        Err(_) => Node::default(),
    };
    if let Ok(mut c) = cache.lock() {
        c.insert(key, node.clone());
    }
    node
}

fn render_opts(opts: &Options) -> crate::render::Options {
    crate::render::Options {
        instance_type: opts.facts().instance_type,
        appended_by: matches!(opts.target, Target::Mng | Target::Karpenter).then_some(opts.target),
        cluster_from: opts.cluster_from.clone(),
        ..Default::default()
    }
}

fn baseline_al2023(opts: &Options) -> Node {
    static CACHE: Cache<(Option<String>, String, Option<String>)> = OnceLock::new();
    let key = (opts.facts().instance_type, opts.target.to_string(), opts.cluster.cidr.clone());
    let cache = CACHE.get_or_init(Default::default);
    if let Some(n) = cache.lock().ok().and_then(|c| c.get(&key).cloned()) {
        return n;
    }
    let cidr = opts.cluster.cidr.clone().unwrap_or_else(|| "172.20.0.0/16".into());
    let doc = format!(
        "apiVersion: node.eks.aws/v1alpha1\nkind: NodeConfig\nspec:\n  cluster:\n    name: c\n    apiServerEndpoint: https://c\n    certificateAuthority: Y2E=\n    cidr: {cidr}\n"
    );
    let env = Envelope::parse(doc.as_bytes(), &Limits::default());
    let node = crate::render::effective::of(&crate::render::render(&env, &render_opts(opts)));
    if let Ok(mut c) = cache.lock() {
        c.insert(key, node.clone());
    }
    node
}

fn changed<'a, V: PartialEq>(a: &'a BTreeMap<String, V>, base: &BTreeMap<String, V>) -> BTreeSet<&'a String> {
    a.iter().filter(|(k, v)| base.get(*k) != Some(*v)).map(|(k, _)| k).collect()
}

/// The local-storage mode nodeadm runs `setup-local-disks` with, from what `render` shows.
fn new_local_storage(r: &crate::render::Rendered) -> Option<String> {
    let cmd = r.doc.get("localStorage")?.get("command")?.as_str()?.to_string();
    cmd.split_whitespace().nth(1).map(str::to_string)
}

/// Compares the AL2 node with the AL2023 node the output gives.
pub fn check(al2: &Node, output: &[u8], entries: &[Diagnostic], opts: &Options) -> Equivalence {
    let facts = opts.facts();
    let implied = al2.implied;
    let b2 = baseline_al2(&facts, if implied { super::implied_call(opts.target) } else { "/etc/eks/bootstrap.sh c\n" });
    // Nothing to write: the node gets the target's own configuration alone (an empty multipart).
    let empty = b"MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"//\"\n\n--//--\n";
    let output = if output.iter().all(u8::is_ascii_whitespace) { &empty[..] } else { output };
    let env = Envelope::parse(output, &Limits::default());
    let rendered = crate::render::render(&env, &render_opts(opts));
    let new = crate::render::effective::of(&rendered);
    let b23 = baseline_al2023(opts);
    let mut rows = Vec::new();
    let kubelet_known = !al2.unknown.iter().any(|u| u == "kubelet configuration");
    let containerd_known = !al2.unknown.iter().any(|u| u == "containerd configuration");
    for u in &al2.unknown {
        rows.push(Row {
            field: u.clone(),
            al2: if u.contains("template") {
                "(only known where the template is rendered)"
            } else {
                "(only known on the node)"
            }
            .into(),
            al2023: if u.contains("template") {
                "(not in the output)"
            } else {
                "(nodeadm's, with what the output sets)"
            }
            .into(),
            verdict: match entries
                .iter()
                .filter(|d| {
                    [
                        codes::NOT_REPLAYED.code,
                        codes::RUNTIME_VALUE.code,
                        codes::TEMPLATE_BOOTSTRAP_ARGS.code,
                        codes::STARTS_KUBELET.code,
                    ]
                    .contains(&d.code)
                        && (u != "bootstrap.sh arguments from a template input"
                            || d.code == codes::TEMPLATE_BOOTSTRAP_ARGS.code)
                })
                // The entry about this file first (`containerd configuration` → a containerd edit).
                .min_by_key(|d| {
                    (d.code != codes::STARTS_KUBELET.code, !d.message.contains(u.split(' ').next().unwrap_or_default()))
                }) {
                Some(d) => Verdict::Explained { code: d.code, why: d.message.chars().take(120).collect() },
                None => Verdict::Unexplained,
            },
        });
    }
    // bootstrap.sh arguments from a template input could have set any field: a field the same
    // on both sides is the same only if the input did not change it.
    let template_args = al2.unknown.iter().any(|u| u == "bootstrap.sh arguments from a template input");
    let mut push = |field: String, a: String, b: String| {
        // EKS sets it on both nodes.
        let b = if a == "(EKS's value)" && owned_by_target(opts.target, &field) { a.clone() } else { b };
        if a == b {
            let a = if template_args {
                format!("{a} (if the template input does not change it)").trim_start().to_string()
            } else {
                a
            };
            rows.push(Row { field, al2: a, al2023: b, verdict: Verdict::Same });
            return;
        }
        let verdict = match explanation(&field, &a, entries, opts.target) {
            Some((code, why)) => Verdict::Explained { code, why },
            None => Verdict::Unexplained,
        };
        rows.push(Row { field, al2: a, al2023: b, verdict });
    };
    // Kubelet configuration.
    let mut paths: BTreeSet<String> = changed(&al2.kubelet, &b2.kubelet).into_iter().cloned().collect();
    paths.extend(changed(&new.kubelet, &b23.kubelet).into_iter().cloned());
    // Keys a side lost against its baseline (a map flag that replaced the whole map on AL2).
    paths.extend(b2.kubelet.keys().filter(|k| !al2.kubelet.contains_key(*k)).cloned());
    paths.extend(b23.kubelet.keys().filter(|k| !new.kubelet.contains_key(*k)).cloned());
    // A map one side replaced shows up as leaves on the other: compare at the changed leaves.
    paths.insert("maxPods".into());
    if !kubelet_known {
        paths.retain(|p| al2.kubelet.contains_key(p));
    }
    for p in &paths {
        push(format!("kubelet.{p}"), show(p, al2.kubelet.get(p)), show(p, new.kubelet.get(p)));
    }
    // Labels.
    let mut keys: BTreeSet<&String> = al2.labels.keys().collect();
    keys.extend(new.labels.keys());
    for k in keys {
        let s = |m: &BTreeMap<String, String>| m.get(k).cloned().unwrap_or_else(|| "(not set)".into());
        push(format!("labels.{k}"), s(&al2.labels), s(&new.labels));
    }
    // Other kubelet arguments, as multisets over each side's own baseline.
    let extra = |n: &Node, base: &Node| -> Vec<String> {
        let mut rest = n.args.clone();
        for a in &base.args {
            if let Some(i) = rest.iter().position(|x| x == a) {
                rest.remove(i);
            }
        }
        rest
    };
    let owned = |a: &String| {
        let name = a.trim_start_matches('-').split('=').next().unwrap_or_default();
        crate::al2::kubelet_flags::NODEADM_OWNED.contains(&name)
    };
    let xa = extra(al2, &b2);
    // nodeadm's own flags (`--config-dir` when there is a drop-in) are not the user's.
    let xb: Vec<String> = extra(&new, &b23).into_iter().filter(|a| !owned(a)).collect();
    let names: BTreeSet<String> = xa.iter().chain(&xb).map(|a| a.split('=').next().unwrap_or(a).to_string()).collect();
    for n in names {
        let pick = |v: &Vec<String>| {
            let found: Vec<&str> =
                v.iter().filter(|a| a.split('=').next() == Some(n.as_str())).map(String::as_str).collect();
            if found.is_empty() { "(not set)".to_string() } else { found.join(" ") }
        };
        push(format!("args.{n}"), pick(&xa), pick(&xb));
    }
    // containerd: what user data changed on AL2 against the overlay on AL2023.
    let mut cpaths: BTreeSet<String> = BTreeSet::new();
    if containerd_known {
        cpaths.extend(changed(&al2.containerd, &b2.containerd).into_iter().cloned());
        cpaths.extend(b2.containerd.keys().filter(|k| !al2.containerd.contains_key(*k)).cloned());
        cpaths.extend(new.containerd.keys().cloned());
    }
    for p in cpaths {
        let a = al2.containerd.get(&p).cloned().unwrap_or_else(|| "(not set)".into());
        let b = new.containerd.get(&p).cloned().unwrap_or_else(|| {
            if b2.containerd.contains_key(&p) { "(nodeadm's value)".into() } else { "(not set)".into() }
        });
        // Keys AL2's template had that nodeadm's config also sets are not user settings.
        if b2.containerd.get(&p) == Some(&a) && b == "(nodeadm's value)" {
            continue;
        }
        push(format!("containerd.{p}"), a, b);
    }
    // Service environment.
    let mut svcs: BTreeSet<(String, String)> = BTreeSet::new();
    for (svc, vars) in al2.environment.iter().chain(&new.environment) {
        for k in vars.keys() {
            svcs.insert((svc.clone(), k.clone()));
        }
    }
    for (svc, k) in svcs {
        let get =
            |n: &Node| n.environment.get(&svc).and_then(|m| m.get(&k)).cloned().unwrap_or_else(|| "(not set)".into());
        let default = |n: &Node| n.environment.get("default").and_then(|m| m.get(&k)).cloned();
        let (a, mut b) = (get(al2), get(&new));
        if b == "(not set)"
            && let Some(d) = default(&new)
        {
            b = d;
        }
        push(format!("environment.{svc}.{k}"), a, b);
    }
    // Local storage and data volumes.
    let local = new_local_storage(&rendered);
    let show_local = |v: &Option<String>| v.clone().unwrap_or_else(|| "(not set)".into());
    if al2.local_storage.is_some() || local.is_some() {
        push("localStorage".into(), show_local(&al2.local_storage), show_local(&local));
    }
    super::storage::volume_rows(&al2.data_volumes, &env, entries, &mut rows);
    // The user's commands.
    let commands = super::timing::al2023(&env, opts.template);
    super::timing::rows(&al2.commands, &commands, entries, &mut rows);
    // A node that never joined has nothing to be equivalent to: every difference goes back to
    // why it failed.
    if let Some(why) = &al2.fails {
        for r in rows.iter_mut().filter(|r| r.verdict == Verdict::Unexplained) {
            r.verdict =
                Verdict::Explained { code: codes::NEVER_WORKED.code, why: format!("the AL2 node never joined: {why}") };
        }
    }
    Equivalence {
        instance_type: facts.instance_type.unwrap_or_default(),
        rows,
        al2_fails: al2.fails.clone(),
        al2023_fails: new.fails,
    }
}

/// The findings an equivalence adds to the report: each unexplained difference (CV437), and a
/// node that joined on AL2 but not on AL2023.
pub fn findings(e: &Equivalence) -> Vec<Diagnostic> {
    let mut out: Vec<Diagnostic> = e
        .unexplained()
        .map(|r| {
            Diagnostic::new(
                &codes::NOT_EQUIVALENT,
                format!(
                    "{}: the AL2 node ran with `{}`, the AL2023 node gets `{}`, and no report entry explains it",
                    r.field, r.al2, r.al2023
                ),
            )
            .with_help("check the translation of this field; `convert --verify` fails on it")
        })
        .collect();
    if let Some(why) = &e.al2_fails {
        out.push(
            Diagnostic::new(
                &codes::NEVER_WORKED,
                format!("this never worked on AL2: {why}; the node never started kubelet"),
            )
            .with_help("the output configures the node the user data describes; check that it is the node you want")
            .leading(),
        );
    }
    if let (None, Some(why)) = (&e.al2_fails, &e.al2023_fails) {
        out.push(Diagnostic::new(
            &codes::NOT_EQUIVALENT,
            format!("the AL2 node joined, but nodeadm fails on the output: {why}"),
        ));
    }
    out
}
