//! The effective node configuration, as nodeadm will build it (docs §2.2–2.4, §3, §4, §6):
//! NodeConfig sources are decoded non-strictly (unknown fields vanish), merged left to right
//! with nodeadm's rules (later non-empty scalars win, empty values cannot clear, `kubelet.flags`
//! append, `kubelet.config` and `baseRuntimeSpec` deep-merge with lists replaced, containerd TOML
//! deep-merges, feature gates and environment merge key by key), user data first, then the part
//! EKS or Karpenter appends, then `/etc/eks/nodeadm.d` drop-ins in file-name order. One user-data
//! part that does not decode discards all user-data config; a drop-in that does not decode makes
//! nodeadm-run fail. The kubelet's own config is nodeadm's generated base overlaid by the
//! `kubelet.config` drop-in with the kubelet's merge rules (maps merge, lists replace).
//! Every effective value remembers the source that set it and what it overrode (`--explain`).

pub mod cel;
pub mod effective;
pub mod instance;
pub mod snapshot;

use crate::diagnostic::Severity;
use crate::nodeconfig::types::NodeConfig;
use crate::target::Target;
use crate::userdata::{Envelope, Limits, PartKind};
use serde_json::{Map, Value, json};

#[derive(Debug, Clone, Default)]
pub struct Options {
    /// `/etc/eks/nodeadm.d` files: (file name, bytes).
    pub drop_ins: Vec<(String, Vec<u8>)>,
    /// Add the part EKS (`Mng`) or Karpenter appends.
    pub appended_by: Option<Target>,
    /// Who appends a NodeConfig with only the cluster section (the EKS Terraform module for its
    /// self-managed groups), when `appended_by` does not.
    pub cluster_from: Option<String>,
    pub instance_type: Option<String>,
    pub vcpus: Option<u32>,
    /// `vYYYYMMDD`: refuse features that release does not have.
    pub ami_release: Option<String>,
    /// `1.34`: decides version-dependent kubelet defaults.
    pub kubernetes_version: Option<String>,
    pub explain: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    pub severity: Severity,
    pub message: String,
}

#[derive(Debug, Clone)]
pub struct Rendered {
    pub doc: Value,
    pub notes: Vec<Note>,
}

impl Rendered {
    pub fn has_errors(&self) -> bool {
        self.notes.iter().any(|n| n.severity == Severity::Error)
    }
    pub fn yaml(&self) -> String {
        crate::nodeconfig::yaml::to_string(&self.doc).unwrap_or_default()
    }
    pub fn json(&self) -> String {
        let mut s = serde_json::to_string_pretty(&self.doc).unwrap_or_default();
        s.push('\n');
        s
    }
}

/// One setting of a path, for `--explain`.
#[derive(Debug, Clone, PartialEq)]
struct Set {
    source: String,
    value: Value,
}

#[derive(Default)]
struct Trace {
    /// Dotted path → every setting, in merge order.
    sets: Vec<(String, Vec<Set>)>,
}

impl Trace {
    fn record(&mut self, path: &str, source: &str, value: &Value) {
        let set = Set { source: source.to_string(), value: value.clone() };
        match self.sets.iter_mut().find(|(p, _)| p == path) {
            Some((_, v)) => v.push(set),
            None => self.sets.push((path.to_string(), vec![set])),
        }
    }
    fn source_of(&self, path: &str) -> Option<&str> {
        self.sets.iter().find(|(p, _)| p == path).and_then(|(_, v)| v.last()).map(|s| s.source.as_str())
    }
}

fn empty(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Bool(b) => !b,
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
        Value::Number(n) => n.as_f64() == Some(0.0),
    }
}

/// Deep merge where every leaf of `src` wins (lists replaced), recording leaves.
fn deep(dst: &mut Map<String, Value>, src: &Map<String, Value>, path: &str, source: &str, trace: &mut Trace) {
    for (k, v) in src {
        let p = format!("{path}.{k}");
        match (dst.get_mut(k), v) {
            (Some(Value::Object(d)), Value::Object(s)) => deep(d, s, &p, source, trace),
            _ => {
                if let Value::Object(s) = v {
                    let mut fresh = Map::new();
                    deep(&mut fresh, s, &p, source, trace);
                    dst.insert(k.clone(), Value::Object(fresh));
                } else {
                    trace.record(&p, source, v);
                    dst.insert(k.clone(), v.clone());
                }
            }
        }
    }
}

/// Merges one source's spec into the effective spec with nodeadm's rules.
fn merge_spec(
    dst: &mut Map<String, Value>,
    src: &Map<String, Value>,
    source: &str,
    trace: &mut Trace,
    notes: &mut Vec<Note>,
) {
    for (section, sv) in src {
        let Value::Object(s) = sv else { continue };
        let d = dst.entry(section.clone()).or_insert_with(|| Value::Object(Map::new()));
        let Value::Object(d) = d else { continue };
        match section.as_str() {
            "featureGates" => deep(d, s, "spec.featureGates", source, trace),
            "kubelet" => {
                for (k, v) in s {
                    let p = format!("spec.kubelet.{k}");
                    match (k.as_str(), v) {
                        ("flags", Value::Array(items)) => {
                            let list = d.entry("flags").or_insert_with(|| Value::Array(Vec::new()));
                            if let Value::Array(l) = list {
                                for it in items {
                                    trace.record(&format!("{p}[{}]", l.len()), source, it);
                                    l.push(it.clone());
                                }
                            }
                        }
                        ("config", Value::Object(cfg)) => {
                            let target = d.entry("config").or_insert_with(|| Value::Object(Map::new()));
                            if let Value::Object(t) = target {
                                deep(t, cfg, &p, source, trace);
                            }
                        }
                        (_, v) if !empty(v) => {
                            trace.record(&p, source, v);
                            d.insert(k.clone(), v.clone());
                        }
                        _ => {}
                    }
                }
            }
            "containerd" => {
                for (k, v) in s {
                    let p = format!("spec.containerd.{k}");
                    match (k.as_str(), v) {
                        ("baseRuntimeSpec", Value::Object(spec)) => {
                            let target = d.entry("baseRuntimeSpec").or_insert_with(|| Value::Object(Map::new()));
                            if let Value::Object(t) = target {
                                deep(t, spec, &p, source, trace);
                            }
                        }
                        ("config", Value::String(toml_text)) if !toml_text.is_empty() => {
                            let merged = match d.get("config").and_then(Value::as_str) {
                                Some(prev) if !prev.is_empty() => {
                                    match (prev.parse::<toml::Table>(), toml_text.parse::<toml::Table>()) {
                                        (Ok(mut a), Ok(b)) => {
                                            crate::nodeconfig::merge::merge_toml(&mut a, &b);
                                            a.to_string()
                                        }
                                        (_, Err(e)) | (Err(e), _) => {
                                            notes.push(Note {
                                                severity: Severity::Error,
                                                message: format!("containerd.config from {source} is not valid TOML, so nodeadm's merge fails: {e}"),
                                            });
                                            toml_text.clone()
                                        }
                                    }
                                }
                                _ => toml_text.clone(),
                            };
                            trace.record(&p, source, v);
                            d.insert("config".into(), Value::String(merged));
                        }
                        _ => {}
                    }
                }
            }
            "instance" => {
                for (k, v) in s {
                    let p = format!("spec.instance.{k}");
                    match (k.as_str(), v) {
                        ("environment", Value::Object(units)) => {
                            let target = d.entry("environment").or_insert_with(|| Value::Object(Map::new()));
                            if let Value::Object(t) = target {
                                deep(t, units, &p, source, trace);
                            }
                        }
                        (_, Value::Object(sub)) => {
                            let target = d.entry(k.clone()).or_insert_with(|| Value::Object(Map::new()));
                            if let Value::Object(t) = target {
                                scalars(t, sub, &p, source, trace);
                            }
                        }
                        _ => {}
                    }
                }
            }
            _ => scalars(d, s, &format!("spec.{section}"), source, trace),
        }
    }
}

/// Typed fields: a later non-empty value (or list) replaces; empty cannot clear.
fn scalars(dst: &mut Map<String, Value>, src: &Map<String, Value>, path: &str, source: &str, trace: &mut Trace) {
    for (k, v) in src {
        if empty(v) {
            continue;
        }
        trace.record(&format!("{path}.{k}"), source, v);
        dst.insert(k.clone(), v.clone());
    }
}

/// A decoded NodeConfig source.
struct Doc {
    name: String,
    spec: Map<String, Value>,
}

fn decode(text: &str) -> Result<NodeConfig, String> {
    // Indexed: `convert` lints the same document after rendering it, and the spans cost less
    // in this pass than in a second one (the parse memo hands the lint this reading).
    let y = crate::nodeconfig::yaml::parse_indexed(text).map_err(|e| e.message)?;
    let api = y.value.get("apiVersion").and_then(Value::as_str).unwrap_or_default();
    if api != crate::nodeconfig::API_VERSION {
        return Err(format!("apiVersion `{api}` is not {}", crate::nodeconfig::API_VERSION));
    }
    // Non-strict, like nodeadm: unknown fields are dropped; wrong types fail.
    // Deserialised from the shared reading, without copying it.
    <NodeConfig as serde::Deserialize>::deserialize(y.value.as_ref()).map_err(|e| e.to_string())
}

fn spec_map(nc: &NodeConfig) -> Map<String, Value> {
    match serde_json::to_value(&nc.spec) {
        Ok(Value::Object(m)) => m,
        _ => Map::new(),
    }
}

/// The sources nodeadm reads, in merge order.
fn sources(env: &Envelope, opts: &Options, notes: &mut Vec<Note>) -> Vec<Doc> {
    let mut user = Vec::new();
    let mut failed = false;
    for part in env.nodeconfig_parts() {
        let name = if env.is_multipart() { format!("user data {}", part.label()) } else { "user data".to_string() };
        match std::str::from_utf8(&part.body).map_err(|e| e.to_string()).and_then(decode) {
            Ok(nc) => user.push(Doc { name, spec: spec_map(&nc) }),
            Err(e) => {
                failed = true;
                notes.push(Note {
                    severity: Severity::Error,
                    message: format!("{name} does not decode ({e}); nodeadm then discards ALL NodeConfig in user data"),
                });
            }
        }
    }
    if failed {
        user.clear();
    }
    if env.nodeconfig_parts().next().is_none() {
        notes.push(Note { severity: Severity::Warning, message: "the user data has no NodeConfig part".into() });
    }
    let mut out = user;
    match opts.appended_by {
        Some(Target::Mng) => out.push(Doc {
            name: "EKS managed node group part".into(),
            spec: match json!({"cluster": {
                "name": "(set by EKS)", "apiServerEndpoint": "(set by EKS)",
                "certificateAuthority": "(set by EKS)", "cidr": "(set by EKS)"}})
            {
                Value::Object(m) => m,
                _ => Map::new(),
            },
        }),
        Some(Target::Karpenter) => out.push(Doc {
            name: "Karpenter part".into(),
            spec: match json!({
                "cluster": {"name": "(set by Karpenter)", "apiServerEndpoint": "(set by Karpenter)",
                            "certificateAuthority": "(set by Karpenter)", "cidr": "(set by Karpenter)"},
                "kubelet": {"config": {"maxPods": "(EC2NodeClass spec.kubelet.maxPods or ENI limit)",
                                       "clusterDNS": ["(EC2NodeClass spec.kubelet.clusterDNS or cluster DNS)"]},
                            "flags": ["--node-labels=(NodePool template labels)"]}})
            {
                Value::Object(m) => m,
                _ => Map::new(),
            },
        }),
        _ => {
            if let Some(who) = &opts.cluster_from {
                let set = format!("(set by {})", who.split(" (").next().unwrap_or(who));
                out.push(Doc {
                    name: format!("{} part", who.split(" (").next().unwrap_or(who)),
                    spec: match json!({"cluster": {
                        "name": set, "apiServerEndpoint": set, "certificateAuthority": set, "cidr": set}})
                    {
                        Value::Object(m) => m,
                        _ => Map::new(),
                    },
                });
            }
        }
    }
    let mut drop_ins: Vec<&(String, Vec<u8>)> = opts
        .drop_ins
        .iter()
        .filter(|(n, _)| {
            let l = n.to_ascii_lowercase();
            l.ends_with(".yaml") || l.ends_with(".yml") || l.ends_with(".json")
        })
        .collect();
    drop_ins.sort_by(|a, b| a.0.cmp(&b.0));
    for (name, bytes) in drop_ins {
        let env = Envelope::parse(bytes, &Limits::default());
        let parts: Vec<_> = env.nodeconfig_parts().collect();
        if parts.is_empty() {
            notes.push(Note {
                severity: Severity::Error,
                message: format!("drop-in {name} holds no NodeConfig; nodeadm-run fails on it"),
            });
        }
        for part in parts {
            match std::str::from_utf8(&part.body).map_err(|e| e.to_string()).and_then(decode) {
                Ok(nc) => out.push(Doc { name: format!("drop-in {name}"), spec: spec_map(&nc) }),
                Err(e) => notes.push(Note {
                    severity: Severity::Error,
                    message: format!(
                        "drop-in {name} does not decode ({e}); nodeadm-run fails and the node does not join"
                    ),
                }),
            }
        }
    }
    out
}

fn ami_checks(release: &str, trace: &Trace, spec: &Map<String, Value>, has_drop_ins: bool, notes: &mut Vec<Note>) {
    use crate::nodeconfig::since;
    let Some(r) = crate::lint::parse_ami_release(release) else {
        notes.push(Note {
            severity: Severity::Error,
            message: format!("`{release}` is not an AMI release; write it as v20251007"),
        });
        return;
    };
    let doc = serde_json::json!({ "spec": spec });
    for (_, e) in since::too_new(&doc, r) {
        // A field counts when the user data set it (not when a default filled it in); a value
        // is checked in the merged result.
        let dotted = e.pointer.trim_end_matches("/*").get(1..).unwrap_or_default().replace('/', ".");
        if e.value.is_none() && !trace.sets.iter().any(|(p, _)| p.starts_with(&dotted)) {
            continue;
        }
        let effect = if e.value.is_some() { "rejects it" } else { "ignores it" };
        notes.push(Note {
            severity: Severity::Error,
            message: format!("{} needs AMI release v{} or later; {release} {effect}", e.what, e.release),
        });
    }
    if has_drop_ins && r < since::DROP_INS {
        notes.push(Note {
            severity: Severity::Error,
            message: format!(
                "/etc/eks/nodeadm.d drop-ins need AMI release v{} or later; {release} never reads them",
                since::DROP_INS
            ),
        });
    }
}

fn version(opts: &Options) -> (u32, u32) {
    let v = opts.kubernetes_version.as_deref().unwrap_or("1.34");
    let mut it = v.trim_start_matches('v').split('.').map(|x| x.parse().unwrap_or(0));
    (it.next().unwrap_or(1), it.next().unwrap_or(34))
}

/// The service CIDR's cluster DNS IP, as nodeadm derives it; `None` when the CIDR is not an
/// address (a template placeholder such as `${var.service_cidr}`), which only rendering knows.
fn cluster_dns(cidr: &str) -> Option<String> {
    let addr = cidr.split('/').next()?;
    if addr.parse::<std::net::Ipv6Addr>().is_ok() {
        Some(format!("{addr}a"))
    } else {
        let [a, b, c, _] = addr.parse::<std::net::Ipv4Addr>().ok()?.octets();
        Some(format!("{a}.{b}.{c}.10"))
    }
}

fn max_pods(opts: &Options, spec: &Map<String, Value>, notes: &mut Vec<Note>) -> (Value, Value, String) {
    let expr =
        spec.get("kubelet").and_then(|k| k.get("maxPodsExpression")).and_then(Value::as_str).filter(|e| !e.is_empty());
    let Some(t) = &opts.instance_type else {
        return (
            json!("(computed at boot from the instance type; pass --instance-type)"),
            json!("(11 × maxPods + 255)Mi"),
            "nodeadm, from the instance type at boot".into(),
        );
    };
    let (standard, from) = match instance::lookup(t) {
        Some(i) => {
            (i.max_pods(), format!("nodeadm, from {t}'s ENIs ({} × ({} − 1) + 2)", i.default_enis, i.ips_per_eni))
        }
        None => {
            notes.push(Note {
                severity: Severity::Warning,
                message: format!("{t} is not in nodeadm's instance table: nodeadm asks EC2 DescribeInstanceTypes for it and uses {} if that fails", instance::FALLBACK_MAX_PODS),
            });
            (instance::FALLBACK_MAX_PODS, "nodeadm's fallback (type not in its table, EC2 not asked here)".to_string())
        }
    };
    let (value, from) = match (expr, instance::lookup(t)) {
        (Some(e), Some(i)) => match cel::evaluate(
            e,
            &cel::Vars { default_enis: i.default_enis, ips_per_eni: i.ips_per_eni, max_pods: standard },
        ) {
            Ok(v) => (v, format!("maxPodsExpression `{e}`")),
            Err(why) => {
                notes.push(Note {
                    severity: Severity::Warning,
                    message: format!("maxPodsExpression `{e}` fails ({why}); nodeadm logs a warning and uses the standard value {standard}"),
                });
                (standard, from)
            }
        },
        _ => (standard, from),
    };
    (json!(value), json!(format!("{}Mi", instance::memory_mebibytes_to_reserve(value))), from)
}

/// nodeadm's generated kubelet config (`nodeadm/internal/kubelet/config.go`).
fn base_kubelet(spec: &Map<String, Value>, opts: &Options, notes: &mut Vec<Note>) -> (Map<String, Value>, String) {
    let cluster = spec.get("cluster");
    let cidr = cluster.and_then(|c| c.get("cidr")).and_then(Value::as_str).unwrap_or_default();
    let dns = cluster_dns(cidr).unwrap_or_else(|| "(from spec.cluster.cidr)".into());
    let (mp, memory, mp_from) = max_pods(opts, spec, notes);
    let cpu = match opts.vcpus {
        Some(n) => json!(format!("{}m", instance::cpu_millicores_to_reserve(n))),
        None => json!("(from the node's vCPU count; pass --vcpus)"),
    };
    let (major, minor) = version(opts);
    let mut gates = Map::new();
    gates.insert("RotateKubeletServerCertificate".into(), json!(true));
    if (major, minor) >= (1, 33) {
        gates.insert("DynamicResourceAllocation".into(), json!(true));
    }
    if (major, minor) >= (1, 34) {
        gates.insert("MutableCSINodeAllocatableCount".into(), json!(true));
    }
    let Value::Object(mut base) = json!({
        "kind": "KubeletConfiguration",
        "apiVersion": "kubelet.config.k8s.io/v1beta1",
        "address": "0.0.0.0",
        "authentication": {
            "anonymous": {"enabled": false},
            "webhook": {"cacheTTL": "2m0s", "enabled": true},
            "x509": {"clientCAFile": "/etc/kubernetes/pki/ca.crt"}
        },
        "authorization": {"mode": "Webhook", "webhook": {"cacheAuthorizedTTL": "5m0s", "cacheUnauthorizedTTL": "30s"}},
        "cgroupDriver": "systemd",
        "cgroupRoot": "/",
        "clusterDNS": [dns],
        "clusterDomain": "cluster.local",
        "containerRuntimeEndpoint": "unix:///run/containerd/containerd.sock",
        "evictionHard": {"memory.available": "100Mi", "nodefs.available": "10%", "nodefs.inodesFree": "5%"},
        "featureGates": Value::Object(gates),
        "hairpinMode": "hairpin-veth",
        "kubeReserved": {"cpu": cpu, "ephemeral-storage": "1Gi", "memory": memory},
        "kubeReservedCgroup": "/runtime",
        "logging": {"verbosity": 2},
        "maxPods": mp,
        "protectKernelDefaults": true,
        "providerID": "aws:///(availability zone)/(instance id)",
        "readOnlyPort": 0,
        "serializeImagePulls": false,
        "serverTLSBootstrap": true,
        "systemReservedCgroup": "/system",
        "tlsCipherSuites": [
            "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
            "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
            "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305",
            "TLS_RSA_WITH_AES_128_GCM_SHA256", "TLS_RSA_WITH_AES_256_GCM_SHA384"
        ]
    }) else {
        return (Map::new(), mp_from);
    };
    if (major, minor) >= (1, 34) {
        base.insert("shutdownGracePeriod".into(), json!("2m30s"));
        base.insert("shutdownGracePeriodCriticalPods".into(), json!("30s"));
    }
    if (1, 22) <= (major, minor) && (major, minor) < (1, 27) {
        base.insert("kubeAPIQPS".into(), json!(10));
        base.insert("kubeAPIBurst".into(), json!(20));
    }
    (base, mp_from)
}

fn sorted(v: Value) -> Value {
    match v {
        Value::Object(m) => {
            let mut keys: Vec<(String, Value)> = m.into_iter().collect();
            keys.sort_by(|a, b| a.0.cmp(&b.0));
            Value::Object(keys.into_iter().map(|(k, v)| (k, sorted(v))).collect())
        }
        Value::Array(a) => Value::Array(a.into_iter().map(sorted).collect()),
        other => other,
    }
}

/// Renders the effective configuration for user data (and drop-ins, and an appended part).
pub fn render(env: &Envelope, opts: &Options) -> Rendered {
    let mut notes = Vec::new();
    let docs = sources(env, opts, &mut notes);
    let mut trace = Trace::default();
    let mut spec = Map::new();
    for d in &docs {
        merge_spec(&mut spec, &d.spec, &d.name, &mut trace, &mut notes);
    }
    spec.retain(|_, v| !empty(v));
    // Conflicting parts: a later source changed a value an earlier one set.
    for (path, sets) in &trace.sets {
        if path.contains('[') {
            continue;
        }
        if let [.., a, b] = sets.as_slice()
            && a.value != b.value
        {
            notes.push(Note {
                severity: Severity::Info,
                message: format!("{path}: {} from {} overrides {} from {}", b.value, b.source, a.value, a.source),
            });
        }
    }
    let nodeconfig = json!({"apiVersion": crate::nodeconfig::API_VERSION, "kind": crate::nodeconfig::KIND, "spec": Value::Object(spec.clone())});
    if let Ok(nc) = <NodeConfig as serde::Deserialize>::deserialize(&nodeconfig) {
        let c = &nc.spec.cluster;
        for (f, v) in [
            ("name", &c.name),
            ("apiServerEndpoint", &c.api_server_endpoint),
            ("certificateAuthority", &c.certificate_authority),
            ("cidr", &c.cidr),
        ] {
            if v.is_empty() {
                notes.push(Note {
                    severity: Severity::Error,
                    message: format!(
                        "spec.cluster.{f} is missing after the merge: nodeadm-config fails and the node does not join"
                    ),
                });
            }
        }
    }
    if let Some(r) = &opts.ami_release {
        ami_checks(r, &trace, &spec, !opts.drop_ins.is_empty(), &mut notes);
    }
    // Kubelet: nodeadm's base, overlaid by the drop-in.
    let (mut kubelet, max_pods_from) = base_kubelet(&spec, opts, &mut notes);
    let user_cfg =
        spec.get("kubelet").and_then(|k| k.get("config")).and_then(Value::as_object).cloned().unwrap_or_default();
    let mut ktrace = Trace::default();
    deep(&mut kubelet, &user_cfg, "kubelet", "spec.kubelet.config", &mut ktrace);
    if user_cfg.contains_key("maxPods") {
        notes.push(Note {
            severity: Severity::Info,
            message: "kubelet.config.maxPods overrides the computed value, but kubeReserved stays computed from the instance value (docs §5.2, amazon-eks-ami #1698)".into(),
        });
    }
    // Flags: nodeadm's own (map order varies on the node; sorted here), then the user's.
    let ig =
        spec.get("featureGates").and_then(|g| g.get("InstanceIdNodeName")).and_then(Value::as_bool).unwrap_or(false);
    let mut flags =
        vec!["--cloud-provider=external".to_string(), "--config=/etc/kubernetes/kubelet/config.json".to_string()];
    if !user_cfg.is_empty() {
        flags.push("--config-dir=/etc/kubernetes/kubelet/config.json.d".into());
    }
    flags.extend([
        format!("--hostname-override={}", if ig { "(instance id)" } else { "(EC2 private DNS name)" }),
        "--image-credential-provider-bin-dir=/etc/eks/image-credential-provider".into(),
        "--image-credential-provider-config=/etc/eks/image-credential-provider/config.json".into(),
        "--kubeconfig=/var/lib/kubelet/kubeconfig".into(),
        "--node-ip=(from IMDS)".into(),
        "--runtime-cgroups=/runtime.slice/containerd.service".into(),
    ]);
    let user_flags: Vec<String> = spec
        .get("kubelet")
        .and_then(|k| k.get("flags"))
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).map(str::to_string).collect())
        .unwrap_or_default();
    for f in &user_flags {
        if f.chars().any(char::is_whitespace) {
            notes.push(Note { severity: Severity::Warning, message: format!("kubelet flag `{f}` contains whitespace: nodeadm space-joins flags, so it splits into several arguments") });
        }
    }
    flags.extend(user_flags);
    // Local storage: what nodeadm-run executes.
    let local = spec.get("instance").and_then(|i| i.get("localStorage")).and_then(Value::as_object);
    let local_storage = local.and_then(|l| l.get("strategy")).and_then(Value::as_str).map(|st| {
        let dir = local.and_then(|l| l.get("mountPath")).and_then(Value::as_str).unwrap_or("/mnt/k8s-disks");
        let disabled: Vec<&str> = local.and_then(|l| l.get("disabledMounts")).and_then(Value::as_array).map(|a| a.iter().filter_map(Value::as_str).collect()).unwrap_or_default();
        let mut cmd = format!("setup-local-disks {} --dir {dir}", st.to_ascii_lowercase());
        let mut binds = vec!["/var/lib/kubelet"];
        for (name, flag, path) in [("Containerd", "--no-bind-containerd", "/var/lib/containerd"), ("PodLogs", "--no-bind-pods-logs", "/var/log/pods"), ("SOCI", "--no-bind-soci", "/var/lib/soci-snapshotter-grpc")] {
            if disabled.contains(&name) {
                cmd.push(' ');
                cmd.push_str(flag);
            } else {
                binds.push(path);
            }
        }
        let layout = if st == "Mount" { format!("each instance-store disk at {dir}/1..N, no bind mounts") } else { format!("one array at {dir}/0, bind-mounted on {}", binds.join(", ")) };
        json!({"command": cmd, "layout": layout, "when": "nodeadm-run, after user-data scripts, before containerd and kubelet start"})
    });
    // Boot order (docs §3).
    let mut boot = vec![json!(
        "nodeadm-config: reads user data (not drop-ins), writes kubelet, containerd and environment config"
    )];
    for p in &env.parts {
        let what = match p.kind {
            PartKind::Boothook => Some("cloud-init init stage (boothook, every boot)"),
            PartKind::CloudConfig => Some("cloud-init config and final stages (cloud-config modules)"),
            PartKind::ShellScript => Some("cloud-init final stage (script, once per instance)"),
            PartKind::Include | PartKind::PartHandler | PartKind::JinjaTemplate => Some("cloud-init"),
            _ => None,
        };
        if let Some(w) = what {
            let label = if env.is_multipart() { p.label() } else { "the user data".into() };
            boot.push(json!(format!("{w}: {label}")));
        }
    }
    boot.push(json!(format!(
        "nodeadm-run: merges user data{} , re-runs the config phase if that changed it{}, then starts containerd and kubelet",
        if opts.drop_ins.is_empty() { "" } else { " with /etc/eks/nodeadm.d drop-ins" },
        if local_storage.is_some() { ", sets up local storage" } else { "" }
    )));
    let mut doc = Map::new();
    doc.insert("nodeconfig".into(), nodeconfig);
    let mut k = Map::new();
    k.insert("config".into(), sorted(Value::Object(kubelet)));
    k.insert(
        "maxPodsFrom".into(),
        json!(if user_cfg.contains_key("maxPods") { "spec.kubelet.config.maxPods".to_string() } else { max_pods_from }),
    );
    k.insert("args".into(), json!(flags));
    doc.insert("kubelet".into(), Value::Object(k));
    if let Some(c) = spec.get("containerd") {
        doc.insert("containerd".into(), json!({"overlay": c, "note": "merged over nodeadm's generated /etc/containerd/config.toml and base runtime spec"}));
    }
    if let Some(l) = local_storage {
        doc.insert("localStorage".into(), l);
    }
    doc.insert("bootOrder".into(), Value::Array(boot));
    doc.insert(
        "notes".into(),
        Value::Array(notes.iter().map(|n| json!(format!("{}: {}", n.severity, n.message))).collect()),
    );
    if opts.explain {
        let mut ex = Map::new();
        for (path, sets) in &trace.sets {
            if let Some((last, earlier)) = sets.split_last() {
                let mut e = Map::new();
                e.insert("value".into(), last.value.clone());
                e.insert("from".into(), json!(last.source));
                let over: Vec<Value> = if path.contains('[') {
                    Vec::new()
                } else {
                    earlier.iter().rev().map(|s| json!({"from": s.source, "value": s.value})).collect()
                };
                if !over.is_empty() {
                    e.insert("overrode".into(), Value::Array(over));
                }
                ex.insert(path.clone(), Value::Object(e));
            }
        }
        for (path, _) in &ktrace.sets {
            let src = trace
                .source_of(&path.replacen("kubelet.", "spec.kubelet.config.", 1))
                .unwrap_or("spec.kubelet.config")
                .to_string();
            ex.insert(
                format!("{path} (kubelet)"),
                json!({"from": src, "overrode": "nodeadm's generated default, if it had one"}),
            );
        }
        doc.insert("explain".into(), Value::Object(ex));
    }
    Rendered { doc: Value::Object(doc), notes }
}

#[cfg(test)]
mod tests;
