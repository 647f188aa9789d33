//! `rollback`: each template's default version goes back to the one before `push`, either the
//! default recorded in a saved plan or the source version named in the current default's
//! description (`eks-userdata: AL2023 user data from version N`). Only the default-version
//! pointer changes; no version is deleted. A default this tool did not make is left alone, and a
//! template already back where it was is reported unchanged: like `push`, a re-run converges.
//! Accounts are reached as `push` reaches them (`identity.rs`).

use super::identity::{self, Credentials};
use super::plan::{self, PlanFile, Step};
use super::select::{self, Selector, TemplateRef};
use super::verify::read_versions;
use super::{AwsError, Connection};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What `rollback` did to one template.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RollbackResult {
    pub account: String,
    pub region: String,
    pub template_id: String,
    pub template_name: String,
    pub from: Option<i64>,
    pub to: Option<i64>,
    /// `rolled-back`, `unchanged`, `skip` or `error`.
    pub action: String,
    pub detail: String,
    /// What rollback leaves to a person (node groups `push` moved).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// What a saved plan says about one template.
struct Planned {
    /// The default before `push`; `None` when the plan did not move it.
    back_to: Option<i64>,
    /// The version `push` made the default, when it existed at planning time.
    target: Option<i64>,
    notes: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct RollbackOptions {
    pub regions: Vec<String>,
    pub credentials: Vec<Credentials>,
    pub selector: Selector,
    pub plan: Option<PlanFile>,
}

/// Sets each template's default version back: to the default recorded in the plan, or to the
/// source version named in the current default's description.
pub async fn rollback(opts: &RollbackOptions) -> (Vec<RollbackResult>, Vec<AwsError>) {
    let mut results = Vec::new();
    let mut errors = Vec::new();
    let first = match &opts.plan {
        Some(p) => p.items.first().map(|i| i.region.clone()),
        None => opts.regions.first().cloned(),
    };
    let mut identities = Vec::new();
    for c in &opts.credentials {
        match identity::resolve(c, first.as_deref()).await {
            Ok(id) if identities.iter().any(|i: &identity::Identity| i.account == id.account) => {}
            Ok(id) => identities.push(id),
            Err(e) => errors.push(e),
        }
    }
    // (connection, template, what the plan says).
    let mut work: Vec<(Connection, TemplateRef, Option<Planned>)> = Vec::new();
    if let Some(plan) = &opts.plan {
        let mut conns: BTreeMap<(String, String), Connection> = BTreeMap::new();
        // Only templates whose plan moved the default or a node group.
        for i in plan
            .items
            .iter()
            .filter(|i| i.steps.iter().any(|s| matches!(s, Step::SetDefault { .. } | Step::UpdateNodegroup { .. })))
        {
            let Some(id) = identities.iter().find(|id| id.account == i.account) else {
                errors.push(AwsError::new(
                    "plan",
                    "WrongAccount",
                    format!(
                        "{} was planned in account {}: pass the --profile or --assume-role the plan was made with",
                        i.template_id, i.account
                    ),
                ));
                continue;
            };
            let conn = conns
                .entry((i.account.clone(), i.region.clone()))
                .or_insert_with(|| id.connection(Some(&i.region)))
                .clone();
            let t = TemplateRef {
                id: i.template_id.clone(),
                name: i.template_name.clone(),
                default_version: i.default_version,
                latest_version: i.latest_version,
                tags: Vec::new(),
                created_by: None,
            };
            let target = i.steps.iter().find_map(|s| match s {
                Step::SetDefault { to, .. } => Some(*to),
                _ => None,
            });
            let notes = i
                .steps
                .iter()
                .filter_map(|s| match s {
                    Step::UpdateNodegroup { cluster, nodegroup, from, .. } => Some(format!(
                        "node group {cluster}/{nodegroup} was moved by push and stays on its version (rollback moves only defaults); to move it back: aws eks update-nodegroup-version --region {} --cluster-name {cluster} --nodegroup-name {nodegroup} --launch-template id={},version={}",
                        i.region,
                        i.template_id,
                        from.as_deref().unwrap_or("$Default")
                    )),
                    _ => None,
                })
                .collect();
            let planned = match target {
                Some(target) => Planned { back_to: Some(i.default_version), target, notes },
                // Only node groups moved: the default stays where it is.
                None => Planned { back_to: None, target: None, notes },
            };
            work.push((conn, t, Some(planned)));
        }
    } else {
        let regions = super::push::distinct_regions(&opts.regions);
        for id in &identities {
            for region in &regions {
                let conn = id.connection(region.as_deref());
                match select::select(&conn, &opts.selector).await {
                    Ok(ts) => work.extend(ts.into_iter().map(|t| (conn.clone(), t, None))),
                    Err(e) => errors.push(e),
                }
            }
        }
    }
    for (conn, t, planned) in work {
        results.push(rollback_one(&conn, &t, planned).await);
    }
    (results, errors)
}

async fn rollback_one(conn: &Connection, t: &TemplateRef, planned: Option<Planned>) -> RollbackResult {
    let mut r = RollbackResult {
        account: conn.account.clone(),
        region: conn.region.clone(),
        template_id: t.id.clone(),
        template_name: t.name.clone(),
        from: None,
        to: None,
        action: String::new(),
        detail: String::new(),
        notes: planned.as_ref().map(|p| p.notes.clone()).unwrap_or_default(),
    };
    let current = match read_versions(conn, &t.id, &["$Default"]).await {
        Ok(v) => v.into_iter().next(),
        Err(e) => {
            r.action = "error".into();
            r.detail = e.to_string();
            return r;
        }
    };
    let Some(current) = current else {
        r.action = "error".into();
        r.detail = format!("{} has no default version", t.id);
        return r;
    };
    r.from = Some(current.number);
    let ours = current.description.as_deref().and_then(plan::parse_description);
    let to = match &planned {
        None => ours,
        Some(Planned { back_to: None, .. }) => {
            r.action = "unchanged".into();
            r.detail = "push did not move the default".into();
            return r;
        }
        // A default a person moved since is theirs: rollback returns only defaults push set.
        Some(Planned { back_to: Some(b), target, .. })
            if current.number != *b && ours.is_none() && *target != Some(current.number) =>
        {
            r.action = "skip".into();
            r.detail = format!(
                "the default version {} was not set by eks-userdata (the plan moved it from {b}): left alone",
                current.number
            );
            return r;
        }
        Some(Planned { back_to, .. }) => *back_to,
    };
    let Some(to) = to else {
        r.action = "skip".into();
        r.detail = format!("the default version {} was not made by eks-userdata", current.number);
        return r;
    };
    r.to = Some(to);
    if to == current.number {
        r.action = "unchanged".into();
        r.detail = format!("version {to} is already the default");
        return r;
    }
    match conn.ec2.modify_launch_template().launch_template_id(&t.id).default_version(to.to_string()).send().await {
        Ok(_) => {
            r.action = "rolled-back".into();
            r.detail = format!("default version {} → {to}", current.number);
        }
        Err(e) => {
            r.action = "error".into();
            r.detail = AwsError::sdk("ec2:ModifyLaunchTemplate", e).to_string();
        }
    }
    r
}
