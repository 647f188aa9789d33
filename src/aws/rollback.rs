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
    // (connection, template, the version to return to, if the plan says).
    let mut work: Vec<(Connection, TemplateRef, Option<i64>)> = Vec::new();
    if let Some(plan) = &opts.plan {
        let mut conns: BTreeMap<(String, String), Connection> = BTreeMap::new();
        // Only templates whose plan changed something, or was to change the default.
        for i in plan
            .items
            .iter()
            .filter(|i| i.steps.iter().any(|s| matches!(s, Step::CreateVersion | Step::SetDefault { .. })))
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
            work.push((conn, t, Some(i.default_version)));
        }
    } else {
        let regions: Vec<Option<String>> =
            if opts.regions.is_empty() { vec![None] } else { opts.regions.iter().cloned().map(Some).collect() };
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

async fn rollback_one(conn: &Connection, t: &TemplateRef, planned: Option<i64>) -> RollbackResult {
    let mut r = RollbackResult {
        account: conn.account.clone(),
        region: conn.region.clone(),
        template_id: t.id.clone(),
        template_name: t.name.clone(),
        from: None,
        to: None,
        action: String::new(),
        detail: String::new(),
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
    let to = planned.or_else(|| current.description.as_deref().and_then(plan::parse_description));
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
