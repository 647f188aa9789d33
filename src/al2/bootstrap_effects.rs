//! What one `bootstrap.sh` run wrote to the node (al2-node §2.2–2.4): its variables come from
//! flags, the environment and any patch (`bootstrap_script.rs`); then it rewrote
//! `kubelet-config.json` (clusterDNS, evictionHard and kubeReserved replaced, providerID, maxPods
//! when USE_MAX_PODS is exactly `true`, the cgroup keys on containerd), installed the containerd
//! config from its template, copied the containerd kubelet unit, wrote `10-kubelet-args.conf`
//! and, only for non-empty extra args, `30-kubelet-extra-args.conf`, and started the kubelet.
//! Values only the instance knows are written as marked placeholders.

use super::bootstrap::Call;
use super::bootstrap_script::{self, Outcome};
use super::fs::{self, Content, Fs, Writer};
use super::words::Value;
use serde_json::json;

/// What the conversion knows about the instance and cluster the AL2 node ran on.
#[derive(Debug, Clone, Default)]
pub struct Facts {
    pub instance_type: Option<String>,
    /// The service CIDR DescribeCluster would have returned (from `--cluster-info`).
    pub service_cidr: Option<String>,
}

/// One bootstrap.sh run's result.
#[derive(Debug, Clone)]
pub struct Run {
    pub command: usize,
    pub vars: Outcome,
    /// bootstrap.sh wrote an unparseable kubelet-config.json (`echo "$(jq …)"` of bad JSON),
    /// so the kubelet never started.
    pub broken_kubelet_config: bool,
    /// The script was patched.
    pub patched: bool,
    /// kubelet-config.json right after bootstrap.sh rewrote it.
    pub kcj_after: Option<String>,
    /// The top-level kubelet-config.json keys bootstrap.sh set.
    pub kcj_keys: Vec<&'static str>,
}

fn text(o: &Outcome, var: &str) -> String {
    o.env.get(var).map(|v| v.value.text().to_string()).unwrap_or_default()
}

/// Marks what only the node knows in a kubelet argument string as one word, `<boot-time>`, so
/// systemd's split and the kubelet's flag parsing see what they would: one value there.
pub fn boot_time_words(text: &str) -> String {
    let b = text.as_bytes();
    let mut out = String::new();
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        let next = b.get(i + 1).copied();
        if c == b'$' && matches!(next, Some(b'(' | b'{')) {
            let (open, close) = if next == Some(b'(') { (b'(', b')') } else { (b'{', b'}') };
            let mut depth = 0usize;
            let mut j = i + 1;
            while let Some(&d) = b.get(j) {
                if d == open {
                    depth += 1;
                } else if d == close {
                    depth -= 1;
                    if depth == 0 {
                        break;
                    }
                }
                j += 1;
            }
            out.push_str(BOOT_TIME);
            i = j + 1;
            continue;
        }
        if c == b'$' && next.is_some_and(|n| n.is_ascii_alphabetic() || n == b'_') {
            let mut j = i + 1;
            while b.get(j).is_some_and(|d| d.is_ascii_alphanumeric() || *d == b'_') {
                j += 1;
            }
            out.push_str(BOOT_TIME);
            i = j;
            continue;
        }
        if c == b'`' {
            let j = text.get(i + 1..).and_then(|r| r.find('`')).map_or(b.len(), |k| i + 1 + k);
            out.push_str(BOOT_TIME);
            i = j + 1;
            continue;
        }
        let ch_len = text.get(i..).and_then(|r| r.chars().next()).map_or(1, char::len_utf8);
        out.push_str(text.get(i..i + ch_len).unwrap_or_default());
        i += ch_len;
    }
    out
}

/// What stands for a value only the node knows.
pub const BOOT_TIME: &str = "<boot-time>";

/// The cluster DNS address bootstrap.sh computed (al2-node §2.3).
fn cluster_dns(o: &Outcome, facts: &Facts) -> Vec<String> {
    let dns = text(o, "DNS_CLUSTER_IP");
    if !dns.is_empty() {
        return dns.split(',').map(|s| s.trim().to_string()).collect();
    }
    let described = text(o, "B64_CLUSTER_CA").is_empty() || text(o, "APISERVER_ENDPOINT").is_empty();
    let family = text(o, "IP_FAMILY").to_ascii_lowercase();
    let v6 = text(o, "SERVICE_IPV6_CIDR");
    let v4 = text(o, "SERVICE_IPV4_CIDR");
    let from_cidr = |cidr: &str| -> Option<String> {
        if cidr.contains(':') {
            cidr.split('/').next().map(|p| format!("{p}a"))
        } else {
            let ip = cidr.split('/').next()?;
            let (prefix, _) = ip.rsplit_once('.')?;
            Some(format!("{prefix}.10"))
        }
    };
    if family == "ipv6" && !v6.is_empty() {
        return from_cidr(&v6).into_iter().collect();
    }
    // A template placeholder renders to the cluster's CIDR, which the cluster info gives.
    let placeholder = |s: &str| s.contains("${") || s.contains("%s") || s.contains('<');
    if !v4.is_empty() && v4 != "None" && !placeholder(&v4) {
        return from_cidr(&v4).into_iter().collect();
    }
    if (described || placeholder(&v4))
        && let Some(c) = &facts.service_cidr
    {
        return from_cidr(c).into_iter().collect();
    }
    if described {
        return vec!["(from the service CIDR DescribeCluster returned)".into()];
    }
    // The VPC heuristic picks EKS's default service CIDR by the same rule EKS used to choose it
    // for the cluster, so for a cluster on a default CIDR it finds the right address.
    match facts.service_cidr.as_deref() {
        Some(c @ ("10.100.0.0/16" | "172.20.0.0/16")) => from_cidr(c).into_iter().collect(),
        _ => vec!["(172.20.0.10 or 10.100.0.10, from the VPC's CIDR)".into()],
    }
}

fn max_pods(facts: &Facts) -> Option<i64> {
    facts.instance_type.as_deref().and_then(crate::render::instance::lookup).map(|i| i.max_pods())
}

/// Applies one run to the file model.
pub fn apply(fs: &mut Fs, command: usize, call: &Call, facts: &Facts) -> Run {
    // A patch outside the model leaves the script unknown: bootstrap.sh is then run as shipped,
    // and the translator reports the patch it could not replay (CV415).
    let (script, unknown) = match fs.content(fs::BOOTSTRAP) {
        Some(Content::Known(t)) => (t.clone(), false),
        _ => (bootstrap_script::skeleton(), true),
    };
    let patched = unknown || script != bootstrap_script::skeleton();
    let env: Vec<(String, Value)> = call
        .options
        .iter()
        .filter_map(|(f, a)| a.from_env.as_ref().map(|_| (f.env_var().to_string(), a.value.clone())))
        .collect();
    let files: &Fs = fs;
    let sourced = |p: &str| files.content(p).and_then(Content::known).map(str::to_string);
    let mut vars = bootstrap_script::evaluate(&script, call, &env, &sourced);
    vars.unmodelled |= unknown;
    let runtime = text(&vars, "CONTAINER_RUNTIME");
    let mut broken = false;
    let mut kcj_keys: Vec<&'static str> = Vec::new();
    // kubelet-config.json, edited key by key as bootstrap.sh's jq calls do.
    if let Some(kcj) = fs.content(fs::KCJ).and_then(Content::known).map(str::to_string) {
        match crate::memo::json(&kcj) {
            Some(serde_json::Value::Object(mut m)) => {
                let dns = cluster_dns(&vars, facts);
                m.insert("clusterDNS".into(), json!(dns));
                m.insert(
                    "evictionHard".into(),
                    json!({"memory.available": "100Mi", "nodefs.available": "10%", "nodefs.inodesFree": "5%"}),
                );
                let mp = max_pods(facts);
                let memory = mp.map_or("(11 × max pods + 255)Mi".to_string(), |n| {
                    format!("{}Mi", crate::render::instance::memory_mebibytes_to_reserve(n))
                });
                m.insert(
                    "kubeReserved".into(),
                    json!({"cpu": "(from the vCPU count)", "ephemeral-storage": "1Gi", "memory": memory}),
                );
                m.insert("providerID".into(), json!("aws:///(availability zone)/(instance id)"));
                if vars.use_max_pods.as_ref().is_some_and(|v| v.text() == "true") {
                    m.insert("maxPods".into(), mp.map_or(json!("(from /etc/eks/eni-max-pods.txt)"), |n| json!(n)));
                }
                if runtime != "dockerd" {
                    m.insert("cgroupDriver".into(), json!("systemd"));
                    if !text(&vars, "KUBELET_EXTRA_ARGS").contains("--reserved-cpus") {
                        m.insert("systemReservedCgroup".into(), json!("/system"));
                        m.insert("kubeReservedCgroup".into(), json!("/runtime"));
                    }
                }
                kcj_keys = vec!["clusterDNS", "evictionHard", "kubeReserved", "providerID"];
                if m.contains_key("maxPods") && vars.use_max_pods.as_ref().is_some_and(|v| v.text() == "true") {
                    kcj_keys.push("maxPods");
                }
                for k in ["cgroupDriver", "systemReservedCgroup", "kubeReservedCgroup"] {
                    if m.get(k).is_some() && (runtime != "dockerd") {
                        kcj_keys.push(k);
                    }
                }
                let mut out = serde_json::to_string_pretty(&serde_json::Value::Object(m)).unwrap_or_default();
                out.push('\n');
                fs.put(fs::KCJ, Content::Known(out), Writer::Bootstrap, false);
            }
            _ => {
                broken = true;
                fs.put(fs::KCJ, Content::Known("\n".into()), Writer::Bootstrap, false);
            }
        }
    }
    let kcj_after = fs.content(fs::KCJ).and_then(Content::known).map(str::to_string);
    // containerd: the template (or the user's file), the pause image, the live config.
    if runtime != "dockerd" {
        let file = text(&vars, "CONTAINERD_CONFIG_FILE");
        if !file.is_empty() {
            let c = fs
                .content(&super::paths::normalise(&file))
                .cloned()
                .unwrap_or_else(|| Content::Unknown(format!("{file} is not written by this user data")));
            fs.put(fs::CONTAINERD_TEMPLATE, c, Writer::Bootstrap, false);
        }
        let template = fs.content(fs::CONTAINERD_TEMPLATE).cloned();
        let filled = match template {
            Some(Content::Known(t)) => Content::Known(t.replace("SANDBOX_IMAGE", "<pause-image-in-regional-ecr>")),
            Some(u) => u,
            None => Content::Unknown("the containerd template was removed".into()),
        };
        let writer = fs.get(fs::CONTAINERD_TEMPLATE).map_or(Writer::Ami, |f| f.writer);
        fs.put(fs::CONTAINERD_TEMPLATE, filled.clone(), writer, false);
        if fs.content(fs::CONTAINERD_CONFIG) != Some(&filled) {
            fs.put(fs::CONTAINERD_CONFIG, filled, Writer::Bootstrap, false);
        }
        let unit =
            fs.content(fs::KUBELET_UNIT_CONTAINERD).cloned().unwrap_or_else(|| Content::Unknown("removed".into()));
        fs.put(fs::KUBELET_UNIT, unit, Writer::Bootstrap, false);
    }
    if vars.writes_args_drop_in {
        let args = text(&vars, "KUBELET_ARGS");
        fs.put(
            &format!("{}10-kubelet-args.conf", fs::KUBELET_DROP_INS),
            Content::Known(format!("[Service]\nEnvironment='KUBELET_ARGS={args}'\n")),
            Writer::Bootstrap,
            false,
        );
    }
    if vars.writes_extra_args_drop_in {
        let extra = vars.env.get("KUBELET_EXTRA_ARGS").map(|v| v.value.clone());
        // A value only known at boot is kept as its shell text: the translator reports it.
        let content = match extra {
            Some(v) => {
                let text = if v.is_runtime() { boot_time_words(v.text()) } else { v.text().to_string() };
                Content::Known(format!("[Service]\nEnvironment='KUBELET_EXTRA_ARGS={text}'\n"))
            }
            None => Content::Unknown("KUBELET_EXTRA_ARGS".into()),
        };
        fs.put(&format!("{}30-kubelet-extra-args.conf", fs::KUBELET_DROP_INS), content, Writer::Bootstrap, false);
    }
    Run { command, vars, broken_kubelet_config: broken, patched, kcj_after, kcj_keys }
}
