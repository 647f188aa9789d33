//! Reads the cluster's Karpenter objects, applies a live plan and follows the NodeClaims, through
//! kube-rs. The classes are changed by server-side apply as field manager `eks-userdata`, holding
//! only the fields that change and conditional on the resourceVersion read; the fields the
//! migration drops (`userData` once everything in it moved to `spec.kubelet`) are then removed
//! by a JSON merge patch, since an apply only removes fields its own manager set.

use super::{FIELD_MANAGER, NodeInfo, Plan, PodBudget, PodInfo, Snapshot, Tally};
use k8s_openapi::api::core::v1::{Node, Pod};
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind, ListParams, Patch, PatchParams};
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::time::{Duration, Instant};

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(
        "{what} ({group}/v1) is not served by this cluster: is Karpenter v1 or later installed? (a cluster on Karpenter v0.x has karpenter.k8s.aws/v1beta1 classes: upgrade Karpenter to v1 first)"
    )]
    NoCrd { what: &'static str, group: &'static str },
    #[error("the Kubernetes API: {0}")]
    Kube(String),
    #[error(
        "ec2nodeclass/{class}: {message}; the fields belong to another field manager: run again with --force-conflicts to take them over, or migrate the source it applies from (`eks-userdata karpenter migrate FILE --in-place`)"
    )]
    Conflict { class: String, message: String },
    #[error("ec2nodeclass/{0} changed while it was being migrated: run again (nothing else was applied after it)")]
    Changed(String),
    #[error("ec2nodeclass/{0} is not changed, nor is any other: {1}")]
    Blocked(String, String),
}

fn kube_err(e: kube::Error) -> RunError {
    RunError::Kube(e.to_string())
}

fn resource(group: &str, kind: &str, plural: &str) -> ApiResource {
    ApiResource::from_gvk_with_plural(&GroupVersionKind::gvk(group, "v1", kind), plural)
}

fn classes_api(kube: &kube::Client) -> Api<DynamicObject> {
    Api::all_with(kube.clone(), &resource("karpenter.k8s.aws", "EC2NodeClass", "ec2nodeclasses"))
}

async fn list(
    kube: &kube::Client,
    group: &'static str,
    kind: &'static str,
    plural: &str,
) -> Result<Vec<Value>, RunError> {
    let ar = resource(group, kind, plural);
    let api: Api<DynamicObject> = Api::all_with(kube.clone(), &ar);
    match api.list(&ListParams::default()).await {
        Ok(l) => Ok(l
            .items
            .into_iter()
            .map(|o| {
                // List items need not carry their type; the apply and the backup do.
                typed(serde_json::to_value(o).unwrap_or(Value::Null), &ar.api_version, &ar.kind)
            })
            .collect()),
        Err(kube::Error::Api(s)) if s.code == 404 => Err(RunError::NoCrd { what: kind, group }),
        Err(e) => Err(kube_err(e)),
    }
}

/// The classes, pools, claims, nodes and do-not-disrupt pods.
pub async fn read(kube: &kube::Client) -> Result<Snapshot, RunError> {
    let classes = list(kube, "karpenter.k8s.aws", "EC2NodeClass", "ec2nodeclasses").await?;
    let pools = list(kube, "karpenter.sh", "NodePool", "nodepools").await?;
    let claims = list(kube, "karpenter.sh", "NodeClaim", "nodeclaims").await?;
    let mut s = Snapshot { classes, pools, claims, ..Default::default() };
    let nodes: Api<Node> = Api::all(kube.clone());
    for n in nodes.list(&ListParams::default()).await.map_err(kube_err)?.items {
        let name = n.metadata.name.clone().unwrap_or_default();
        let ready = crate::preflight::kube::node_ready(&n);
        let status = n.status.unwrap_or_default();
        let do_not_disrupt = n
            .metadata
            .annotations
            .as_ref()
            .and_then(|a| a.get("karpenter.sh/do-not-disrupt"))
            .is_some_and(|v| v == "true");
        let os_image = status.node_info.map(|i| i.os_image).unwrap_or_default();
        s.nodes.insert(name, NodeInfo { os_image, ready, do_not_disrupt });
    }
    let pods: Api<Pod> = Api::all(kube.clone());
    for p in pods.list(&ListParams::default()).await.map_err(kube_err)?.items {
        // Karpenter passes over pods that finished or are terminating, and does not evict
        // DaemonSet pods or mirror pods.
        let phase = p.status.as_ref().and_then(|s| s.phase.clone()).unwrap_or_default();
        let active = p.metadata.deletion_timestamp.is_none() && phase != "Succeeded" && phase != "Failed";
        let Some(node) = p.spec.as_ref().and_then(|s| s.node_name.clone()).filter(|_| active) else { continue };
        let annotations = p.metadata.annotations.clone().unwrap_or_default();
        let daemon = p.metadata.owner_references.iter().flatten().any(|o| o.kind == "DaemonSet");
        if daemon || annotations.contains_key("kubernetes.io/config.mirror") {
            continue;
        }
        let (namespace, name) =
            (p.metadata.namespace.clone().unwrap_or_default(), p.metadata.name.clone().unwrap_or_default());
        // A duration value protects the pod for that long after it started (not evaluated
        // here: said with the pod).
        if let Some(value) = annotations.get("karpenter.sh/do-not-disrupt").filter(|v| !v.is_empty() && *v != "false") {
            let mut who = format!("{namespace}/{name}");
            if value != "true" {
                who.push_str(&format!(" (for {value} after it started)"));
            }
            s.protected_pods.entry(node.clone()).or_default().push(who);
        }
        let labels = p.metadata.labels.clone().unwrap_or_default();
        s.pods.entry(node).or_default().push(PodInfo { namespace, name, labels });
    }
    let budgets: Api<PodDisruptionBudget> = Api::all(kube.clone());
    for b in budgets.list(&ListParams::default()).await.map_err(kube_err)?.items {
        s.budgets.push(PodBudget {
            namespace: b.metadata.namespace.unwrap_or_default(),
            name: b.metadata.name.unwrap_or_default(),
            selector: b.spec.and_then(|sp| sp.selector).and_then(|sel| serde_json::to_value(sel).ok()),
            allowed: i64::from(b.status.and_then(|st| st.disruptions_allowed).unwrap_or(0)),
        });
    }
    Ok(s)
}

/// The class as the API server has it now.
async fn fresh(api: &Api<DynamicObject>, name: &str) -> Result<Value, RunError> {
    let o = api.get(name).await.map_err(kube_err)?;
    Ok(typed(serde_json::to_value(o).unwrap_or(Value::Null), "karpenter.k8s.aws/v1", "EC2NodeClass"))
}

fn typed(mut v: Value, api_version: &str, kind: &str) -> Value {
    if let Some(o) = v.as_object_mut() {
        o.insert("apiVersion".into(), json!(api_version));
        o.insert("kind".into(), json!(kind));
    }
    v
}

fn without_version(v: &Value) -> Value {
    let mut v = v.clone();
    if let Some(md) = v.get_mut("metadata").and_then(Value::as_object_mut) {
        md.remove("resourceVersion");
    }
    v
}

fn is_manager_conflict(s: &kube::core::Status) -> bool {
    let causes = s.details.as_ref().map(|d| d.causes.as_slice()).unwrap_or_default();
    causes.iter().any(|c| c.reason == "FieldManagerConflict") || s.message.starts_with("Apply failed with")
}

/// Writes are conditional on the version read, and Karpenter itself writes the class (its
/// status, its hash annotation when the spec changes), so a write can find a newer version than
/// it read. It is tried again on the newer one when the change is still the same; a class someone
/// else changed in its spec is left for a new run.
const ATTEMPTS: usize = 5;

/// The server-side apply of one change, retried over Karpenter's own writes. `dry_run`: the
/// API server checks it (conflicts, the CRD's schema and rules) and stores nothing.
async fn apply_one(
    api: &Api<DynamicObject>,
    change: &super::Change,
    force: bool,
    dry_run: bool,
    version: super::KarpenterVersion,
) -> Result<Option<String>, RunError> {
    let mut params = PatchParams::apply(FIELD_MANAGER);
    if force {
        params = params.force();
    }
    if dry_run {
        params = params.dry_run();
    }
    let mut config = change.apply.clone();
    for _ in 0..ATTEMPTS {
        match api.patch(&change.name, &params, &Patch::Apply(&config)).await {
            Ok(o) => return Ok(o.metadata.resource_version),
            // Both conflicts are 409 Conflict; a field manager's names its causes.
            Err(kube::Error::Api(s)) if s.code == 409 && is_manager_conflict(&s) => {
                return Err(RunError::Conflict { class: change.name.clone(), message: s.message.clone() });
            }
            Err(kube::Error::Api(s)) if s.code == 409 => {
                let again = super::change(&fresh(api, &change.name).await?, version);
                if without_version(&again.apply) != without_version(&change.apply) || again.remove != change.remove {
                    return Err(RunError::Changed(change.name.clone()));
                }
                config = again.apply;
            }
            Err(e) => return Err(kube_err(e)),
        }
    }
    Err(RunError::Changed(change.name.clone()))
}

/// Removes the fields the migration drops, once the apply holds.
async fn remove_fields(
    api: &Api<DynamicObject>,
    change: &super::Change,
    mut version: Option<String>,
) -> Result<(), RunError> {
    let mut spec = serde_json::Map::new();
    for k in &change.remove {
        spec.insert(k.clone(), Value::Null);
    }
    let params = PatchParams { field_manager: Some(FIELD_MANAGER.into()), ..Default::default() };
    for _ in 0..ATTEMPTS {
        let patch = json!({"metadata": {"resourceVersion": version}, "spec": spec});
        match api.patch(&change.name, &params, &Patch::Merge(&patch)).await {
            Ok(_) => return Ok(()),
            Err(kube::Error::Api(s)) if s.code == 409 => {
                let now = fresh(api, &change.name).await?;
                // Only while the class still holds what was applied.
                let applied = change.apply.get("spec").and_then(Value::as_object);
                let holds =
                    applied.is_some_and(|a| a.iter().all(|(k, v)| now.get("spec").and_then(|s| s.get(k)) == Some(v)));
                if !holds {
                    return Err(RunError::Changed(change.name.clone()));
                }
                version = now
                    .get("metadata")
                    .and_then(|m| m.get("resourceVersion"))
                    .and_then(Value::as_str)
                    .map(str::to_string);
            }
            Err(e) => return Err(kube_err(e)),
        }
    }
    Err(RunError::Changed(change.name.clone()))
}

/// Applies every change of the plan, in order, adding each class to `applied` as it is done (so
/// a stop part way still says which were). `force`: take over fields another manager owns
/// (`--force-conflicts`). Nothing is written unless every change can be: a blocked change, or
/// one the API server refuses in a dry run (a conflict, the CRD's rules), stops the run first.
pub async fn apply(
    kube: &kube::Client,
    plan: &Plan,
    force: bool,
    version: super::KarpenterVersion,
    say: &dyn Fn(&str),
    applied: &mut Vec<String>,
) -> Result<(), RunError> {
    let api = classes_api(kube);
    if let Some(c) = plan.changes.iter().find(|c| c.blocked.is_some()) {
        return Err(RunError::Blocked(c.name.clone(), c.blocked.clone().unwrap_or_default()));
    }
    for c in &plan.changes {
        apply_one(&api, c, force, true, version).await?;
    }
    for c in &plan.changes {
        let resource_version = apply_one(&api, c, force, false, version).await?;
        if !c.remove.is_empty() {
            remove_fields(&api, c, resource_version).await?;
        }
        say(&format!("applied ec2nodeclass/{}", c.name));
        applied.push(c.name.clone());
    }
    Ok(())
}

/// Polls the claims of `classes` until every one runs a Ready node that is not AL2, or
/// `timeout`; the last plan read (its claims are where they ended) and whether it finished.
pub async fn follow(
    kube: &kube::Client,
    classes: &[String],
    timeout: Duration,
    poll: Duration,
    progress: &dyn Fn(&Tally),
    say: &dyn Fn(&str),
) -> Result<(Plan, bool), RunError> {
    let deadline = Instant::now() + timeout;
    let wanted: BTreeSet<String> = classes.iter().cloned().collect();
    let mut failures = 0;
    loop {
        // A read that fails now and then (an API server restart, a throttled list) is tried again
        // at the next poll; five in a row stop the follow.
        let snapshot = match read(kube).await {
            Ok(s) => s,
            Err(e) if failures < 4 && Instant::now() < deadline => {
                failures += 1;
                say(&format!("reading the NodeClaims failed ({e}); trying again"));
                tokio::time::sleep(poll).await;
                continue;
            }
            Err(e) => return Err(e),
        };
        failures = 0;
        let plan = super::status(&snapshot, &wanted);
        let tally = Tally::of(&plan.claims);
        progress(&tally);
        if tally.done() {
            return Ok((plan, true));
        }
        if Instant::now() >= deadline {
            return Ok((plan, false));
        }
        tokio::time::sleep(poll).await;
    }
}
