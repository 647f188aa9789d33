//! Carries out a blue/green plan against EKS (the AWS SDK) and the Kubernetes API (kube-rs).
//! Every step is recorded in the plan (and saved through `save`) before it is taken, so the plan
//! file always says at least as much as the cluster shows; a re-run skips what is recorded done.

use super::{Group, NodeState, Plan, TAINT_KEY, TWIN_TAG, Taint};
use crate::aws::{AwsError, Connection, nodegroups};
use crate::preflight::kube::node_ready;
use aws_sdk_eks::types::{NodegroupScalingConfig, TaintEffect};
use futures_util::StreamExt as _;
use k8s_openapi::api::core::v1::{Node, Pod};
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use kube::api::{Api, EvictParams, ListParams, Patch, PatchParams};
use std::time::{Duration, Instant};

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("{0}")]
    Aws(#[from] AwsError),
    #[error("the Kubernetes API: {0}")]
    Kube(String),
    #[error("{0}")]
    Plan(#[from] super::PlanError),
    #[error("node group {0} does not exist in cluster {1}")]
    NoGroup(String, String),
    #[error(
        "node group {0} exists and is not this plan's twin (it has no {TWIN_TAG}={1} tag): choose another NEW name"
    )]
    NotOurTwin(String, String),
    #[error("{0}")]
    Timeout(String),
    #[error("saving the plan: {0}")]
    Save(String),
}

fn kube_err(e: kube::Error) -> RunError {
    RunError::Kube(e.to_string())
}

/// How long to wait, and what else to do.
#[derive(Debug, Clone)]
pub struct Options {
    pub delete_old: bool,
    /// For the twin to become ACTIVE and its nodes Ready.
    pub twin_timeout: Duration,
    /// For one node to drain (evictions a budget holds back are retried until then).
    pub drain_timeout: Duration,
    pub poll: Duration,
    /// Nodes drained at once.
    pub max_unavailable: usize,
}

/// The old group as EKS describes it.
pub async fn read_group(conn: &Connection, cluster: &str, name: &str) -> Result<Option<Group>, RunError> {
    let g = match nodegroups::describe(conn, cluster, name).await {
        Ok(Some(g)) => g,
        Ok(None) => return Ok(None),
        Err(e) if e.code == "ResourceNotFoundException" => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    let scaling = g.scaling_config();
    Ok(Some(Group {
        name: name.to_string(),
        ami_type: g.ami_type().map(|a| a.as_str().to_string()),
        instance_types: g.instance_types().to_vec(),
        capacity_type: g.capacity_type().map(|c| c.as_str().to_string()),
        min_size: scaling.and_then(|s| s.min_size()).unwrap_or(0),
        max_size: scaling.and_then(|s| s.max_size()).unwrap_or(1),
        desired_size: scaling.and_then(|s| s.desired_size()).unwrap_or(0),
        subnets: g.subnets().to_vec(),
        labels: g.labels().map(|l| l.iter().map(|(k, v)| (k.clone(), v.clone())).collect()).unwrap_or_default(),
        taints: g
            .taints()
            .iter()
            .map(|t| Taint {
                key: t.key().unwrap_or_default().to_string(),
                value: t.value().map(str::to_string),
                effect: t.effect().map(|e| e.as_str().to_string()).unwrap_or_default(),
            })
            .collect(),
        node_role: g.node_role().unwrap_or_default().to_string(),
        launch_template: g
            .launch_template()
            .and_then(|l| Some((l.id()?.to_string(), l.version().unwrap_or("$Default").to_string()))),
        disk_size: g.disk_size(),
        tags: g.tags().map(|t| t.iter().map(|(k, v)| (k.clone(), v.clone())).collect()).unwrap_or_default(),
        status: g.status().map(|s| s.as_str().to_string()),
    }))
}

/// Whether a launch template version's user data still calls bootstrap.sh.
async fn user_data_is_al2(conn: &Connection, id: &str, version: &str) -> Result<bool, RunError> {
    let data = crate::aws::launch_template_data(conn, id, version).await?;
    let Some(b64) = data.as_ref().and_then(|d| d.user_data()) else { return Ok(false) };
    let env = crate::userdata::Envelope::parse(b64.as_bytes(), &crate::userdata::Limits::default());
    Ok(!crate::lint::rules::bootstrap_sh_call::calls(&env).is_empty())
}

/// The nodes of a node group, by name.
async fn group_nodes(kube: &kube::Client, group: &str) -> Result<Vec<Node>, RunError> {
    let nodes: Api<Node> = Api::all(kube.clone());
    let lp = ListParams::default().labels(&format!("eks.amazonaws.com/nodegroup={group}"));
    Ok(nodes.list(&lp).await.map_err(kube_err)?.items)
}

async fn pods_on(kube: &kube::Client, node: &str) -> Result<Vec<Pod>, RunError> {
    let pods: Api<Pod> = Api::all(kube.clone());
    let lp = ListParams::default().fields(&format!("spec.nodeName={node}"));
    Ok(pods.list(&lp).await.map_err(kube_err)?.items)
}

fn selects(sel: Option<&k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector>, pod: &Pod) -> bool {
    let sel = sel.and_then(|s| serde_json::to_value(s).ok());
    crate::selector::matches(sel.as_ref(), &pod.metadata.labels.clone().unwrap_or_default())
}

/// The plan: the twin, the old nodes in drain order, the budgets that pace the drain.
pub async fn plan(
    conn: &Connection,
    kube: &kube::Client,
    cluster: &str,
    old: &str,
    new: Option<&str>,
    template_version: Option<&str>,
) -> Result<Plan, RunError> {
    let group = read_group(conn, cluster, old).await?.ok_or_else(|| RunError::NoGroup(old.into(), cluster.into()))?;
    let al2_user_data = match (&group.launch_template, template_version) {
        (Some((id, v)), None) => user_data_is_al2(conn, id, v).await?,
        _ => false,
    };
    let new_name = new.map_or_else(|| super::twin_name(old), str::to_string);
    let twin = super::twin(&group, &new_name, template_version, al2_user_data)?;
    let nodes = group_nodes(kube, old).await?;
    let mut pods = Vec::new();
    for n in &nodes {
        pods.extend(pods_on(kube, n.metadata.name.as_deref().unwrap_or_default()).await?);
    }
    let pdbs: Api<PodDisruptionBudget> = Api::all(kube.clone());
    let mut budgets = Vec::new();
    for b in pdbs.list(&ListParams::default()).await.map_err(kube_err)?.items {
        let ns = b.metadata.namespace.clone().unwrap_or_default();
        let sel = b.spec.as_ref().and_then(|s| s.selector.as_ref());
        if pods.iter().any(|p| p.metadata.namespace.as_deref() == Some(ns.as_str()) && selects(sel, p)) {
            let allowed = b.status.as_ref().and_then(|s| s.disruptions_allowed).unwrap_or(0);
            budgets.push(format!("{ns}/{} (allows {allowed} now)", b.metadata.name.unwrap_or_default()));
        }
    }
    let names = nodes.iter().filter_map(|n| n.metadata.name.clone()).collect();
    Ok(Plan::new(cluster, &group, twin, names, budgets))
}

fn effect(e: &str) -> TaintEffect {
    TaintEffect::from(e)
}

/// Creates the twin unless it exists already (then it must be this plan's).
async fn create_twin(conn: &Connection, plan: &Plan) -> Result<(), RunError> {
    let t = &plan.twin;
    if let Some(existing) = read_group(conn, &plan.cluster, &t.name).await? {
        return match existing.tags.get(TWIN_TAG) {
            Some(of) if *of == plan.old => Ok(()),
            _ => Err(RunError::NotOurTwin(t.name.clone(), plan.old.clone())),
        };
    }
    let mut req = conn
        .eks
        .create_nodegroup()
        .cluster_name(&plan.cluster)
        .nodegroup_name(&t.name)
        .node_role(&t.node_role)
        .set_subnets(Some(t.subnets.clone()))
        .set_instance_types((!t.instance_types.is_empty()).then(|| t.instance_types.clone()))
        .scaling_config(
            NodegroupScalingConfig::builder()
                .min_size(t.min_size)
                .max_size(t.max_size)
                .desired_size(t.desired_size)
                .build(),
        )
        .set_labels(Some(t.labels.clone().into_iter().collect()))
        .set_tags(Some(t.tags.clone().into_iter().collect()));
    // A template that names the AMI must not be given an AMI type (EKS CreateNodegroup).
    if let Some(a) = t.ami_type.as_deref().filter(|a| *a != "CUSTOM") {
        req = req.ami_type(aws_sdk_eks::types::AmiTypes::from(a));
    }
    if let Some(c) = &t.capacity_type {
        req = req.capacity_type(aws_sdk_eks::types::CapacityTypes::from(c.as_str()));
    }
    if let Some((id, v)) = &t.launch_template {
        req = req.launch_template(aws_sdk_eks::types::LaunchTemplateSpecification::builder().id(id).version(v).build());
    } else if let Some(d) = t.disk_size {
        req = req.disk_size(d);
    }
    for taint in &t.taints {
        req = req.taints(
            aws_sdk_eks::types::Taint::builder()
                .key(&taint.key)
                .set_value(taint.value.clone())
                .effect(effect(&taint.effect))
                .build(),
        );
    }
    req.send().await.map_err(|e| AwsError::sdk("eks:CreateNodegroup", e))?;
    Ok(())
}

/// Carries out `plan` from where its progress says, saving it after each step.
pub async fn apply(
    plan: &mut Plan,
    conn: &Connection,
    kube: &kube::Client,
    opts: &Options,
    save: &dyn Fn(&Plan) -> Result<(), String>,
    say: &dyn Fn(&str),
    bar: &dyn Fn(usize, usize, &str),
) -> Result<(), RunError> {
    let save = |p: &Plan| save(p).map_err(RunError::Save);
    let twin = plan.twin.name.clone();
    if !plan.progress.twin_created {
        say(&format!("creating node group {twin}"));
        create_twin(conn, plan).await?;
        plan.progress.twin_created = true;
        save(plan)?;
    }
    // On a resume the twin is looked at again: it may have been deleted or degraded since.
    if plan.progress.twin_active {
        let status = read_group(conn, &plan.cluster, &twin).await?.and_then(|g| g.status);
        if status.as_deref() != Some("ACTIVE") {
            return Err(RunError::Timeout(format!(
                "node group {twin} was ACTIVE and is now {}: nothing more is drained; look at it in EKS, then run again with --plan",
                status.unwrap_or_else(|| "gone".into())
            )));
        }
    }
    if !plan.progress.twin_active {
        let deadline = Instant::now() + opts.twin_timeout;
        loop {
            let status = read_group(conn, &plan.cluster, &twin).await?.and_then(|g| g.status).unwrap_or_default();
            if status == "ACTIVE" {
                break;
            }
            if status.ends_with("FAILED") || Instant::now() >= deadline {
                return Err(RunError::Timeout(format!(
                    "node group {twin} is {status} after {}s, not ACTIVE: nothing was cordoned or deleted; look at it in EKS (its health issues), then run again with --plan",
                    opts.twin_timeout.as_secs()
                )));
            }
            say(&format!("waiting for {twin} to be ACTIVE (now {status})"));
            tokio::time::sleep(opts.poll).await;
        }
        plan.progress.twin_active = true;
        save(plan)?;
    }
    if !plan.progress.twin_ready {
        let deadline = Instant::now() + opts.twin_timeout;
        let want = usize::try_from(plan.twin.desired_size.max(0)).unwrap_or(0);
        loop {
            let nodes = group_nodes(kube, &twin).await?;
            let ready = nodes.iter().filter(|n| node_ready(n)).count();
            if ready >= want {
                break;
            }
            if Instant::now() >= deadline {
                return Err(RunError::Timeout(format!(
                    "{ready} of {want} nodes of {twin} are Ready after {}s: nothing was cordoned; run again with --plan when they are",
                    opts.twin_timeout.as_secs()
                )));
            }
            say(&format!("waiting for {twin}'s nodes: {ready} of {want} Ready"));
            tokio::time::sleep(opts.poll).await;
        }
        plan.progress.twin_ready = true;
        save(plan)?;
    }
    // Pods already Pending before the drain are not the drain's doing.
    let pods_api: Api<Pod> = Api::all(kube.clone());
    let pending_before: std::collections::BTreeSet<String> = pods_api
        .list(&ListParams::default().fields("status.phase=Pending"))
        .await
        .map_err(kube_err)?
        .items
        .iter()
        .filter_map(|p| p.metadata.uid.clone())
        .collect();
    // Nodes the old group gained since the plan (an ASG replacement, an autoscaler scale-up)
    // join it, at the end of the drain order.
    for n in group_nodes(kube, &plan.old).await? {
        let Some(name) = n.metadata.name else { continue };
        if !plan.nodes.iter().any(|s| s.name == name) {
            say(&format!("node {name} joined {} since the plan: it is drained too", plan.old));
            plan.nodes.push(super::NodeStep { name, state: NodeState::Pending });
        }
    }
    // Every old node is tainted and cordoned first, each recorded before it is touched.
    for i in 0..plan.nodes.len() {
        let Some(step) = plan.nodes.get(i).cloned() else { continue };
        if step.state == NodeState::Pending {
            if let Some(s) = plan.nodes.get_mut(i) {
                s.state = NodeState::Cordoned;
            }
            save(plan)?;
            if cordon(kube, &step.name, &plan.old).await? {
                say(&format!("cordoned {}", step.name));
            }
        }
    }
    // Up to `max_unavailable` nodes drain at once; each is recorded drained as it finishes. A
    // stop anywhere (an error, Ctrl-C) leaves the others recorded cordoned, which they are.
    let total = plan.nodes.len();
    let mut drained = plan.nodes.iter().filter(|s| s.state == NodeState::Drained).count();
    let todo: Vec<(usize, String)> = plan
        .nodes
        .iter()
        .enumerate()
        .filter(|(_, s)| s.state != NodeState::Drained)
        .map(|(i, s)| (i, s.name.clone()))
        .collect();
    let old = plan.old.clone();
    let mut running = futures_util::stream::iter(todo.into_iter().map(|(i, name)| {
        let old = &old;
        async move {
            // A recorded cordon is made again: harmless if it was done, needed if the run
            // stopped between the record and the call.
            if cordon(kube, &name, old).await? {
                drain(kube, &name, opts, say).await?;
            }
            Ok::<_, RunError>((i, name))
        }
    }))
    .buffer_unordered(opts.max_unavailable.max(1));
    while let Some(done) = running.next().await {
        let (i, name) = done?;
        if let Some(s) = plan.nodes.get_mut(i) {
            s.state = NodeState::Drained;
        }
        save(plan)?;
        drained += 1;
        bar(drained, total, &format!("drained {name}"));
    }
    drop(running);
    if !plan.progress.drained {
        // Replacements still starting are Pending for a while: they get the drain timeout to
        // run; what is Pending after it has nowhere to go.
        let pods: Api<Pod> = Api::all(kube.clone());
        let deadline = Instant::now() + opts.drain_timeout;
        let pending = loop {
            let pending: Vec<Pod> = pods
                .list(&ListParams::default().fields("status.phase=Pending"))
                .await
                .map_err(kube_err)?
                .items
                .into_iter()
                .filter(|p| p.metadata.uid.as_ref().is_none_or(|u| !pending_before.contains(u)))
                .collect();
            if pending.is_empty() || Instant::now() >= deadline {
                break pending;
            }
            say(&format!("waiting for {} Pending pod(s) to start", pending.len()));
            tokio::time::sleep(opts.poll).await;
        };
        if !pending.is_empty() {
            let names: Vec<String> = pending.iter().take(5).map(pod_name).collect();
            return Err(RunError::Timeout(format!(
                "{} pod(s) are still Pending {}s after the drain ({}): the old group is kept; make room on {twin}, then run again with --plan",
                pending.len(),
                opts.drain_timeout.as_secs(),
                names.join(", ")
            )));
        }
        plan.progress.drained = true;
        save(plan)?;
    }
    if opts.delete_old && !plan.progress.old_deleted {
        let undrained: Vec<String> = group_nodes(kube, &plan.old)
            .await?
            .into_iter()
            .filter_map(|n| n.metadata.name)
            .filter(|n| !plan.nodes.iter().any(|s| s.name == *n && s.state == NodeState::Drained))
            .collect();
        if !undrained.is_empty() {
            return Err(RunError::Timeout(format!(
                "node group {} has nodes the run has not drained ({}): it is not deleted; run again with --plan",
                plan.old,
                undrained.join(", ")
            )));
        }
        say(&format!("deleting node group {}", plan.old));
        let deleted = conn.eks.delete_nodegroup().cluster_name(&plan.cluster).nodegroup_name(&plan.old).send().await;
        match deleted.map_err(|e| AwsError::sdk("eks:DeleteNodegroup", e)) {
            Ok(_) => {}
            // Deleted already (by an earlier run whose record did not land, or by a person).
            Err(e) if e.code == "ResourceNotFoundException" => {}
            Err(e) => return Err(e.into()),
        }
        plan.progress.old_deleted = true;
        save(plan)?;
    }
    Ok(())
}

/// `namespace/name`, as kubectl writes a pod.
fn pod_name(p: &Pod) -> String {
    format!(
        "{}/{}",
        p.metadata.namespace.as_deref().unwrap_or_default(),
        p.metadata.name.as_deref().unwrap_or_default()
    )
}

/// Taints (NoSchedule) and cordons a node of `group`, keeping its other taints; `false` when the
/// node is gone or no longer the group's (a name reused by another instance), which is left alone.
async fn cordon(kube: &kube::Client, name: &str, group: &str) -> Result<bool, RunError> {
    let nodes: Api<Node> = Api::all(kube.clone());
    // The taint list is written whole, so the write names the version it read: a taint another
    // controller added in between makes it a conflict (409), read again.
    for _ in 0..5 {
        let Some(node) = nodes.get_opt(name).await.map_err(kube_err)? else { return Ok(false) };
        let labels = node.metadata.labels.as_ref();
        if labels.and_then(|l| l.get("eks.amazonaws.com/nodegroup")).map(String::as_str) != Some(group) {
            return Ok(false);
        }
        let mut taints = node.spec.as_ref().and_then(|s| s.taints.clone()).unwrap_or_default();
        if !taints.iter().any(|t| t.key == TAINT_KEY) {
            taints.push(k8s_openapi::api::core::v1::Taint {
                key: TAINT_KEY.into(),
                value: Some("true".into()),
                effect: "NoSchedule".into(),
                time_added: None,
            });
        }
        let patch = serde_json::json!({
            "metadata": {"resourceVersion": node.metadata.resource_version},
            "spec": {"unschedulable": true, "taints": taints},
        });
        match nodes.patch(name, &PatchParams::default(), &Patch::Merge(&patch)).await {
            Ok(_) => return Ok(true),
            Err(kube::Error::Api(s)) if s.code == 409 => continue,
            Err(e) => return Err(kube_err(e)),
        }
    }
    Err(RunError::Kube(format!("node {name} kept changing while it was being cordoned: run again with --plan")))
}

/// Evicts every pod on a node that a drain evicts (not DaemonSet pods, not mirror pods), retrying
/// those a PodDisruptionBudget holds back (HTTP 429), until they are gone or the timeout.
async fn drain(kube: &kube::Client, node: &str, opts: &Options, say: &dyn Fn(&str)) -> Result<(), RunError> {
    let deadline = Instant::now() + opts.drain_timeout;
    loop {
        let pods: Vec<Pod> = pods_on(kube, node)
            .await?
            .into_iter()
            .filter(|p| {
                let daemon = p.metadata.owner_references.iter().flatten().any(|o| o.kind == "DaemonSet");
                let mirror =
                    p.metadata.annotations.as_ref().is_some_and(|a| a.contains_key("kubernetes.io/config.mirror"));
                !daemon && !mirror
            })
            .collect();
        if pods.is_empty() {
            return Ok(());
        }
        // As `kubectl drain` without --force / --delete-emptydir-data: a pod no controller
        // recreates, or one whose emptyDir data would be lost, is not evicted by this tool.
        let refused: Vec<String> = pods
            .iter()
            .filter(|p| {
                let bare = !p.metadata.owner_references.iter().flatten().any(|o| o.controller == Some(true));
                let empty_dir =
                    p.spec.as_ref().is_some_and(|s| s.volumes.iter().flatten().any(|v| v.empty_dir.is_some()));
                bare || empty_dir
            })
            .map(pod_name)
            .collect();
        if !refused.is_empty() {
            return Err(RunError::Timeout(format!(
                "node {node} has pods that no controller recreates or that keep data in emptyDir ({}): move or delete them yourself (as `kubectl drain --force --delete-emptydir-data` would), then run again with --plan; the node stays cordoned, as the plan records",
                refused.join(", ")
            )));
        }
        let mut held = Vec::new();
        // A pod already terminating is waited for, not evicted again.
        for p in pods.iter().filter(|p| p.metadata.deletion_timestamp.is_none()) {
            let (ns, name) =
                (p.metadata.namespace.clone().unwrap_or_default(), p.metadata.name.clone().unwrap_or_default());
            let api: Api<Pod> = Api::namespaced(kube.clone(), &ns);
            match api.evict(&name, &EvictParams::default()).await {
                Ok(_) => say(&format!("evicted {ns}/{name} from {node}")),
                Err(kube::Error::Api(s)) if s.code == 429 => held.push(format!("{ns}/{name}")),
                Err(kube::Error::Api(s)) if s.code == 404 => {}
                Err(e) => return Err(kube_err(e)),
            }
        }
        if Instant::now() >= deadline {
            return Err(RunError::Timeout(format!(
                "node {node} is not drained after {}s ({} pod(s) left{}): it stays cordoned, as the plan records; run again with --plan to go on",
                opts.drain_timeout.as_secs(),
                pods.len(),
                if held.is_empty() {
                    String::new()
                } else {
                    format!("; a PodDisruptionBudget holds back {}", held.join(", "))
                }
            )));
        }
        if held.is_empty() {
            // Every pod was let go: look again soon for them to be gone.
            tokio::time::sleep(opts.poll.min(Duration::from_millis(250))).await;
        } else {
            say(&format!("waiting: a PodDisruptionBudget holds back {}", held.join(", ")));
            tokio::time::sleep(opts.poll).await;
        }
    }
}
