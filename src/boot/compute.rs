//! The values the spec asks for, from IMDS facts and nodeadm's own instance table (docs §5.2):
//! max pods by formula (standard, custom networking with one ENI fewer, prefix delegation with
//! 16 addresses per slot, at most N ENIs; prefix delegation capped as max-pods-calculator.sh
//! capped it: 110 with 30 vCPUs or fewer, else 250), kubeReserved memory recomputed from that
//! value (11 × maxPods + 255 Mi, amazon-eks-ami #1698), labels and taints from facts.

use super::imds::Facts;
use super::spec::{BootSpec, Cap, CapWord, Fact, Formula, KubeReserved};
use serde_json::{Value, json};

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Computed {
    pub max_pods: Option<i64>,
    pub kube_reserved_memory: Option<String>,
    pub labels: Vec<(String, String)>,
    pub taints: Vec<Value>,
    /// Why something was left out (logged; the node still joins).
    pub notes: Vec<String>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("maxPods is required by the spec but cannot be computed: {0}")]
pub struct Required(pub String);

fn fact(facts: &Facts, f: Fact) -> Option<&str> {
    match f {
        Fact::Lifecycle => facts.lifecycle.as_deref(),
        Fact::Zone => facts.zone.as_deref(),
        Fact::Region => facts.region.as_deref(),
        Fact::InstanceType => facts.instance_type.as_deref(),
        Fact::Partition => facts.partition.as_deref(),
    }
}

fn applies(facts: &Facts, when: &std::collections::BTreeMap<Fact, String>) -> bool {
    when.iter().all(|(f, want)| fact(facts, *f) == Some(want.as_str()))
}

pub fn compute(spec: &BootSpec, facts: &Facts, vcpus: u32) -> Result<Computed, Required> {
    let mut c = Computed::default();
    let itype = facts.instance_type.as_deref();
    let over = spec.overrides.iter().find(|o| {
        let by_type = o.instance_types.is_empty()
            || itype.is_some_and(|t| o.instance_types.iter().any(|g| crate::config::wildcard(g, t)));
        by_type && applies(facts, &o.when)
    });
    if let Some(n) = over.and_then(|o| o.max_pods) {
        c.max_pods = Some(n);
    } else if let Some(m) = &spec.max_pods {
        let inst = itype.and_then(crate::render::instance::lookup);
        match (itype, inst) {
            (Some(_), Some(i)) => {
                let enis = m.max_enis.map_or(i.default_enis, |n| n.min(i.default_enis));
                let per_eni = i.ips_per_eni - 1;
                let raw = match m.formula {
                    Formula::Standard => enis * per_eni + 2,
                    Formula::CustomNetworking => (enis - 1).max(0) * per_eni + 2,
                    Formula::PrefixDelegation => enis * per_eni * 16 + 2,
                };
                let auto = if vcpus <= 30 { 110 } else { 250 };
                let cap = match (&m.cap, m.formula) {
                    (Some(Cap::Number(n)), _) => Some(*n),
                    (Some(Cap::Word(CapWord::None)), _) => None,
                    (Some(Cap::Word(CapWord::Auto)), _) | (None, Formula::PrefixDelegation) => Some(auto),
                    (None, _) => None,
                };
                c.max_pods = Some(cap.map_or(raw, |cap| raw.min(cap)));
            }
            (Some(t), None) => {
                let why = format!("instance type {t} is not in nodeadm's instance table");
                if m.required {
                    return Err(Required(why));
                }
                c.notes.push(format!("maxPods left to nodeadm: {why}"));
            }
            (None, _) => {
                if m.required {
                    return Err(Required("IMDS gave no instance type".into()));
                }
                c.notes.push("maxPods left to nodeadm: IMDS gave no instance type".into());
            }
        }
    }
    if spec.kube_reserved == Some(KubeReserved::Recompute) {
        match c.max_pods {
            Some(n) => {
                c.kube_reserved_memory = Some(format!("{}Mi", crate::render::instance::memory_mebibytes_to_reserve(n)))
            }
            None => c.notes.push("kubeReserved left to nodeadm: no maxPods was computed".into()),
        }
    }
    for l in spec.labels.iter().filter(|l| applies(facts, &l.when)) {
        match (l.value.as_deref(), l.from.and_then(|f| fact(facts, f))) {
            (Some(v), _) | (None, Some(v)) => c.labels.push((l.key.clone(), v.to_string())),
            (None, None) => c.notes.push(format!("label {} left out: IMDS does not have {:?}", l.key, l.from)),
        }
    }
    for t in spec.taints.iter().filter(|t| applies(facts, &t.when)) {
        match (t.value.as_deref(), t.from.and_then(|f| fact(facts, f))) {
            (Some(v), _) | (None, Some(v)) => c.taints.push(json!({ "key": t.key, "value": v, "effect": t.effect })),
            (None, None) => c.notes.push(format!("taint {} left out: IMDS does not have {:?}", t.key, t.from)),
        }
    }
    Ok(c)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::boot::spec::parse;

    fn facts(t: &str, lifecycle: &str) -> Facts {
        Facts {
            instance_type: Some(t.into()),
            lifecycle: Some(lifecycle.into()),
            zone: Some("eu-west-1a".into()),
            ..Default::default()
        }
    }

    const HEAD: &str = "apiVersion: eks-userdata/v1alpha1\nkind: BootSpec\n";

    #[test]
    fn formulas_caps_and_kube_reserved() {
        let pd = parse(&format!("{HEAD}maxPods: {{formula: prefix-delegation}}\nkubeReserved: recompute\n")).unwrap();
        let c = compute(&pd, &facts("m5.large", "spot"), 2).unwrap();
        assert_eq!((c.max_pods, c.kube_reserved_memory.as_deref()), (Some(110), Some("1465Mi")));
        assert_eq!(compute(&pd, &facts("m5.24xlarge", "spot"), 96).unwrap().max_pods, Some(250));
        let std = parse(&format!("{HEAD}maxPods: {{formula: standard}}\n")).unwrap();
        assert_eq!(compute(&std, &facts("m5.large", "spot"), 2).unwrap().max_pods, Some(29));
        let cn = parse(&format!("{HEAD}maxPods: {{formula: custom-networking}}\n")).unwrap();
        assert_eq!(compute(&cn, &facts("m5.large", "spot"), 2).unwrap().max_pods, Some(20));
        let two = parse(&format!("{HEAD}maxPods: {{formula: standard, maxEnis: 2}}\n")).unwrap();
        assert_eq!(compute(&two, &facts("m5.large", "spot"), 2).unwrap().max_pods, Some(20));
    }

    #[test]
    fn facts_labels_taints_overrides_and_required() {
        let s = parse(&format!(
            "{HEAD}maxPods: {{formula: standard, required: true}}\nlabels: [{{key: lc, from: lifecycle}}, {{key: az, from: zone}}, {{key: p, from: partition}}]\ntaints: [{{key: spot, value: 'true', effect: NoSchedule, when: {{lifecycle: spot}}}}]\noverrides: [{{instanceTypes: ['m5.*'], maxPods: 58}}]\n"
        ))
        .unwrap();
        let c = compute(&s, &facts("m5.large", "spot"), 2).unwrap();
        assert_eq!(c.max_pods, Some(58));
        assert_eq!(c.labels, [("lc".to_string(), "spot".to_string()), ("az".to_string(), "eu-west-1a".to_string())]);
        assert_eq!(c.taints.len(), 1);
        assert!(c.notes[0].contains("label p left out"));
        assert_eq!(compute(&s, &facts("c5.large", "on-demand"), 2).unwrap().taints.len(), 0);
        assert!(compute(&s, &facts("x9.huge", "spot"), 2).is_err(), "required and unknown type");
    }
}
