//! User data → the pieces of an `EC2NodeClass` (peers §1): Karpenter appends its own NodeConfig
//! after the user's parts, with the cluster section, `maxPods`, `clusterDNS`, the NodePool's
//! labels and taints and all of `spec.kubelet` (peers §1.1-§1.2), so those values must live in
//! `spec.kubelet` and the NodePool, not in `userData`. Everything else stays in `userData` as
//! MIME parts Karpenter accepts (boundary `//`, LF, Content-Type only: peers §1.2).

use super::codes;
use super::validate::{self, KarpenterVersion};
use crate::diagnostic::{Diagnostic, Severity, Span};
use crate::nodeconfig::types::{LocalStorageStrategy, NodeConfig};
use crate::source::Source;
use crate::target::Target;
use crate::translate;
use crate::userdata::mime_write::{self, OutPart, WriteOptions};
use crate::userdata::{Envelope, Limits, NODECONFIG_MEDIA_TYPE};
use indexmap::IndexMap;
use serde_json::{Map, Value, json};

/// `spec.kubelet` fields of the v1.14 CRD (peers §1.4).
pub const V1_14_KUBELET: &[&str] = &[
    "clusterDNS",
    "maxPods",
    "podsPerCore",
    "systemReserved",
    "kubeReserved",
    "evictionHard",
    "evictionSoft",
    "evictionSoftGracePeriod",
    "evictionMaxPodGracePeriod",
    "imageGCHighThresholdPercent",
    "imageGCLowThresholdPercent",
    "cpuCFSQuota",
];

/// What user data becomes in Karpenter's terms.
#[derive(Debug, Clone, Default)]
pub struct Split {
    pub kubelet: Map<String, Value>,
    pub labels: IndexMap<String, String>,
    pub taints: Vec<Value>,
    pub raid0: bool,
    /// Devices of EBS data volumes the user data formats and mounts (kept in `userData` as the
    /// safe mount script); they need block device mappings too.
    pub data_devices: Vec<String>,
    /// The rest, as MIME for `spec.userData` (`None`: nothing left).
    pub user_data: Option<String>,
    pub entries: Vec<Diagnostic>,
}

fn note(meta: &'static crate::diagnostic::RuleMeta, message: impl Into<String>) -> Diagnostic {
    Diagnostic::new(meta, message).with_span(Span::payload(0, 0))
}

/// Splits AL2 or AL2023 user data into `spec.kubelet`, NodePool labels and taints, the
/// instance-store policy and the remaining `userData`.
pub fn split(source: &Source, version: KarpenterVersion) -> Split {
    let env = Envelope::parse(&source.bytes, &Limits::default());
    let mut unusable = Vec::new();
    for part in &env.parts {
        let at = Span::part(part.index, 0, 0);
        let what = match (std::str::from_utf8(&part.body), part.kind) {
            (Ok(t), _) if t.trim().is_empty() => None,
            (Err(_), _) => Some((Severity::Error, "is not text".to_string())),
            (Ok(t), crate::userdata::PartKind::NodeConfig) => match crate::nodeconfig::yaml::parse(t) {
                Ok(d) if d.value.is_object() => None,
                Ok(_) => Some((Severity::Error, "is a NodeConfig part but not a YAML mapping".to_string())),
                Err(e) => Some((
                    Severity::Error,
                    format!(
                        "is a NodeConfig part that does not parse ({e}); nodeadm discards every user-data NodeConfig then"
                    ),
                )),
            },
            (Ok(_), crate::userdata::PartKind::Other) => Some((
                Severity::Warning,
                "is neither a script, cloud-config nor a NodeConfig; nothing on the node acts on it".to_string(),
            )),
            _ => None,
        };
        if let Some((severity, what)) = what {
            let label = if env.is_multipart() { part.label() } else { "the user data".into() };
            unusable.push(
                Diagnostic::new(&codes::UNUSABLE, format!("{label} {what}")).with_severity(severity).with_span(at),
            );
        }
    }
    // Translate as for a self-managed node (so labels, taints, maxPods and clusterDNS are kept),
    // then take out what Karpenter supplies itself.
    let plan = translate::plan(&env, &translate::Options { target: Target::SelfManaged, ..Default::default() });
    let mut out = Split {
        entries: plan.entries.into_iter().filter(|d| d.code != translate::codes::MISSING_CLUSTER.code).collect(),
        data_devices: plan.data_volumes.iter().map(|v| v.device.clone()).collect(),
        ..Default::default()
    };
    out.entries.append(&mut unusable);
    let is_nc = |p: &OutPart| {
        p.headers.iter().any(|(k, v)| k.eq_ignore_ascii_case("content-type") && v.starts_with(NODECONFIG_MEDIA_TYPE))
    };
    let mut docs = Vec::new();
    let mut others = Vec::new();
    for p in plan.parts {
        // An empty part configures nothing; Karpenter needs no userData for it.
        if p.body.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        if is_nc(&p) {
            match std::str::from_utf8(&p.body)
                .ok()
                .and_then(|t| crate::nodeconfig::yaml::from_str::<NodeConfig>(t).ok())
            {
                Some(nc) => docs.push(nc),
                None => others.push(p),
            }
        } else {
            others.push(p);
        }
    }
    let mut nc = match crate::nodeconfig::merge::merge_all(docs.iter()) {
        Ok(nc) => nc,
        Err(e) => {
            out.entries.push(
                note(&codes::INVALID, format!("the NodeConfig parts do not merge ({e}); they are kept as they are"))
                    .with_severity(Severity::Error),
            );
            NodeConfig::default()
        }
    };

    let cluster = &nc.spec.cluster;
    if !cluster.name.is_empty() || !cluster.api_server_endpoint.is_empty() || !cluster.cidr.is_empty() {
        out.entries.push(note(
            &codes::OVERRIDDEN,
            "spec.cluster is left out: Karpenter's NodeConfig supplies the cluster name, endpoint, CA and CIDR and overrides them",
        ));
    }
    nc.spec.cluster = Default::default();

    let config = std::mem::take(&mut nc.spec.kubelet.config);
    for (key, value) in config {
        if key == "registerWithTaints" {
            if let Value::Array(ts) = value {
                out.entries.push(note(
                    &codes::TO_NODEPOOL,
                    format!("{} taint(s) → NodePool spec.template.spec.taints", ts.len()),
                ));
                out.taints.extend(ts);
            }
            continue;
        }
        let typed = version == KarpenterVersion::Main || V1_14_KUBELET.contains(&key.as_str());
        if typed {
            out.entries.push(note(&codes::TO_SPEC_KUBELET, format!("kubelet `{key}` → spec.kubelet.{key}")));
            out.kubelet.insert(key, value);
        } else {
            nc.spec.kubelet.config.insert(key, value);
        }
    }
    let flags = std::mem::take(&mut nc.spec.kubelet.flags);
    for flag in flags {
        if let Some(labels) = flag.strip_prefix("--node-labels=") {
            for kv in labels.trim_matches('"').split(',').filter(|s| !s.is_empty()) {
                let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
                out.labels.insert(k.to_string(), v.to_string());
            }
            out.entries.push(note(&codes::TO_NODEPOOL, format!("`{flag}` → NodePool spec.template.metadata.labels")));
        } else {
            nc.spec.kubelet.flags.push(flag);
        }
    }
    if !nc.spec.kubelet.max_pods_expression.is_empty() {
        out.entries.push(note(
            &codes::OVERRIDDEN,
            "kubelet.maxPodsExpression has no effect: Karpenter always sets maxPods in its NodeConfig; set spec.kubelet.maxPods (a CEL expression on Karpenter's main branch)",
        ));
    }
    if nc.spec.instance.local_storage.strategy == Some(LocalStorageStrategy::Raid0) {
        nc.spec.instance.local_storage.strategy = None;
        out.raid0 = true;
        out.entries.push(note(&codes::INSTANCE_STORE, "instance.localStorage RAID0 → spec.instanceStorePolicy: RAID0"));
    }

    let mut parts = others;
    if nc.spec != Default::default() {
        nc.api_version = "node.eks.aws/v1alpha1".into();
        nc.kind = "NodeConfig".into();
        let yaml = crate::nodeconfig::yaml::to_string(&nc).unwrap_or_default();
        parts.push(OutPart::new(NODECONFIG_MEDIA_TYPE, yaml.into_bytes()));
    }
    if !parts.is_empty() {
        // Karpenter keeps only Content-Type per part (peers §1.2): write exactly that.
        let parts: Vec<OutPart> = parts
            .into_iter()
            .map(|p| {
                let ct = p.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case("content-type")).map(|(_, v)| v.clone());
                OutPart::new(&ct.unwrap_or_else(|| "text/x-shellscript; charset=\"us-ascii\"".into()), p.body)
            })
            .collect();
        let bytes = mime_write::write(&parts, &WriteOptions::default());
        out.user_data = Some(String::from_utf8_lossy(&bytes).into_owned());
        out.entries.push(note(
            &codes::DRIFT,
            "spec.userData is set: any later change to it replaces every node of the class (drift)",
        ));
    }
    out
}

#[derive(Debug, Clone, Default)]
pub struct NodeClassOptions {
    pub name: String,
    /// `v20251023`; `None` is `latest` (with a warning).
    pub ami_version: Option<String>,
    pub role: Option<String>,
    pub instance_profile: Option<String>,
    /// For the `karpenter.sh/discovery: CLUSTER` selector convention.
    pub cluster: Option<String>,
    pub subnet_tags: Vec<(String, String)>,
    pub security_group_tags: Vec<(String, String)>,
    pub hop_limit: Option<i64>,
    /// Size of a data volume's block device mapping (`100Gi`); user data does not say.
    pub data_volume_size: Option<String>,
    pub version: KarpenterVersion,
}

#[derive(Debug, Clone)]
pub struct NodeClassOutput {
    pub nodeclass: Value,
    pub nodepool: Option<Value>,
    pub entries: Vec<Diagnostic>,
}

impl NodeClassOutput {
    /// The manifests as one YAML stream: the EC2NodeClass, then the NodePool snippet.
    pub fn to_yaml(&self) -> String {
        let mut out = crate::nodeconfig::yaml::to_string(&self.nodeclass).unwrap_or_default();
        if let Some(np) = &self.nodepool {
            out.push_str("---\n# NodePool snippet: merge spec.template into the NodePool that uses this class.\n");
            out.push_str(&crate::nodeconfig::yaml::to_string(np).unwrap_or_default());
        }
        out
    }
}

fn tags(pairs: &[(String, String)]) -> Value {
    Value::Object(pairs.iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect())
}

/// A new EC2NodeClass for AL2023 from user data.
pub fn nodeclass(source: &Source, opts: &NodeClassOptions) -> NodeClassOutput {
    let split = split(source, opts.version);
    let mut entries = split.entries;
    let alias = match &opts.ami_version {
        Some(v) => format!("al2023@{}", if v.starts_with('v') { v.clone() } else { format!("v{v}") }),
        None => {
            entries.push(note(&codes::AMI_LATEST, "amiSelectorTerms: al2023@latest; pin a release with --ami-version"));
            "al2023@latest".into()
        }
    };
    let mut spec = Map::new();
    match (&opts.role, &opts.instance_profile) {
        (_, Some(p)) => {
            spec.insert("instanceProfile".into(), json!(p));
        }
        (Some(r), None) => {
            spec.insert("role".into(), json!(r));
        }
        (None, None) => {
            entries.push(note(&codes::PLACEHOLDER, "role: REPLACE-ME (pass --role NAME or --instance-profile NAME)"));
            spec.insert("role".into(), json!("REPLACE-ME-KarpenterNodeRole"));
        }
    }
    spec.insert("amiSelectorTerms".into(), json!([{ "alias": alias }]));
    for (key, given) in
        [("subnetSelectorTerms", &opts.subnet_tags), ("securityGroupSelectorTerms", &opts.security_group_tags)]
    {
        let term = if !given.is_empty() {
            tags(given)
        } else if let Some(c) = &opts.cluster {
            json!({ "karpenter.sh/discovery": c })
        } else {
            entries.push(note(
                &codes::PLACEHOLDER,
                format!("{key}: REPLACE-ME (pass --cluster NAME for the karpenter.sh/discovery tag, or tags)"),
            ));
            json!({ "karpenter.sh/discovery": "REPLACE-ME" })
        };
        spec.insert(key.into(), json!([{ "tags": term }]));
    }
    // The AL2023 root volume as Karpenter defaults it (peers §1.4), made explicit, then any data
    // volume: Karpenter attaches it, the safe mount script in userData formats and mounts it.
    let mut bdms = vec![
        json!({ "deviceName": "/dev/xvda", "rootVolume": true, "ebs": { "volumeSize": "20Gi", "volumeType": "gp3", "encrypted": true, "deleteOnTermination": true } }),
    ];
    for device in &split.data_devices {
        let named = ["/dev/xvd", "/dev/sd"].iter().any(|p| device.starts_with(p));
        let name = if named { device.clone() } else { "/dev/xvdb".to_string() };
        if !named {
            entries.push(note(&codes::PLACEHOLDER, format!("the data volume `{device}` has no EBS device name: its block device mapping says /dev/xvdb; set the name the old launch template used")));
        }
        let size = match &opts.data_volume_size {
            Some(s) => s.clone(),
            None => {
                entries.push(note(&codes::PLACEHOLDER, format!("the size of the data volume {name} is not in the user data: 100Gi is a placeholder (pass --data-volume-size)")));
                "100Gi".to_string()
            }
        };
        bdms.push(json!({ "deviceName": name, "ebs": { "volumeSize": size, "volumeType": "gp3", "encrypted": true, "deleteOnTermination": true } }));
    }
    spec.insert("blockDeviceMappings".into(), Value::Array(bdms));
    if split.raid0 {
        spec.insert("instanceStorePolicy".into(), json!("RAID0"));
    }
    spec.insert(
        "metadataOptions".into(),
        json!({ "httpEndpoint": "enabled", "httpProtocolIPv6": "disabled", "httpPutResponseHopLimit": opts.hop_limit.unwrap_or(1), "httpTokens": "required" }),
    );
    if !split.kubelet.is_empty() {
        spec.insert("kubelet".into(), Value::Object(split.kubelet));
    }
    if let Some(u) = split.user_data {
        spec.insert("userData".into(), json!(u));
    }
    let nodeclass = json!({
        "apiVersion": "karpenter.k8s.aws/v1",
        "kind": "EC2NodeClass",
        "metadata": { "name": opts.name },
        "spec": spec,
    });
    entries.extend(problems(&nodeclass, opts.version));
    let nodepool = (!split.labels.is_empty() || !split.taints.is_empty())
        .then(|| nodepool(&opts.name, &split.labels, &split.taints));
    NodeClassOutput { nodeclass, nodepool, entries }
}

/// The CRD's verdict as report entries.
pub fn problems(doc: &Value, version: KarpenterVersion) -> Vec<Diagnostic> {
    validate::validate(doc, version)
        .into_iter()
        .map(|p| {
            note(
                &codes::INVALID,
                format!(
                    "{}: {} (EC2NodeClass CRD {})",
                    if p.pointer.is_empty() { "/" } else { &p.pointer },
                    p.message,
                    version.as_str()
                ),
            )
        })
        .collect()
}

fn nodepool(name: &str, labels: &IndexMap<String, String>, taints: &[Value]) -> Value {
    let mut template_spec = Map::new();
    template_spec
        .insert("nodeClassRef".into(), json!({ "group": "karpenter.k8s.aws", "kind": "EC2NodeClass", "name": name }));
    if !taints.is_empty() {
        template_spec.insert("taints".into(), Value::Array(taints.to_vec()));
    }
    let mut template = Map::new();
    if !labels.is_empty() {
        template.insert("metadata".into(), json!({ "labels": labels }));
    }
    template.insert("spec".into(), Value::Object(template_spec));
    json!({ "apiVersion": "karpenter.sh/v1", "kind": "NodePool", "metadata": { "name": name }, "spec": { "template": template } })
}
