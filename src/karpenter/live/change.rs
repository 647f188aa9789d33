//! What to change on one live EC2NodeClass, and what to save first. The server-side apply
//! configuration holds only the top-level `spec` fields that change, so the fields this tool
//! takes over (`metadata.managedFields`, kubernetes.io/docs/reference/using-api/server-side-apply)
//! are the ones it changes; the fields the migration drops are listed apart, because an apply
//! never removes a field another manager set. A class whose change would break it (an AL2 AMI
//! under an AL2023 family, an error finding) is marked blocked.

use super::{FIELD_MANAGER, KarpenterVersion, Line, Snapshot, name};
use crate::karpenter::codes;
use crate::nodeconfig::pointer::Pointer as _;
use serde::Serialize;
use serde_json::{Map, Value, json};
use std::collections::BTreeSet;

/// One EC2NodeClass to change.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Change {
    pub name: String,
    /// The server-side apply configuration: the changed top-level `spec` fields only, so the
    /// fields this tool takes over are the ones it changes.
    pub apply: Value,
    /// Top-level `spec` fields the migration drops (a merge patch removes them after the apply).
    pub remove: Vec<String>,
    /// The class as it will read after the change (server fields left out).
    pub after: Value,
    pub report: Vec<Line>,
    /// Other field managers that own fields this change sets or removes.
    pub managers: Vec<String>,
    /// Why it will not be applied (the run stops before any write), if it will not.
    pub blocked: Option<String>,
}

/// A class as a person would write it: server-set metadata and status left out.
pub fn clean(v: &Value) -> Value {
    let mut v = v.clone();
    if let Some(o) = v.as_object_mut() {
        o.remove("status");
    }
    if let Some(md) = v.get_mut("metadata").and_then(Value::as_object_mut) {
        for k in ["managedFields", "resourceVersion", "uid", "creationTimestamp", "generation", "selfLink"] {
            md.remove(k);
        }
        // Karpenter's own hash of the spec: it writes it again, and a backup taken again after
        // it changed should still read the same.
        if let Some(a) = md.get_mut("annotations").and_then(Value::as_object_mut) {
            a.retain(|k, _| !k.starts_with("karpenter.k8s.aws/ec2nodeclass-hash"));
            if a.is_empty() {
                md.remove("annotations");
            }
        }
    }
    v
}

/// A class to migrate: one that selects AL2, or an AL2023 one whose `userData` still calls
/// bootstrap.sh (a run stopped between its apply and the removal of `userData`, or a class
/// someone half-migrated by hand).
pub(super) fn needs_migrating(class: &Value) -> bool {
    if crate::karpenter::migrate::is_al2(class) {
        return true;
    }
    let Some(user_data) = class.at("/spec/userData").and_then(Value::as_str) else { return false };
    let env = crate::userdata::Envelope::parse(user_data.as_bytes(), &crate::userdata::Limits::default());
    !crate::lint::rules::bootstrap_sh_call::calls(&env).is_empty()
}

/// Why a change must not be applied to a live class: what it would make cannot work. `None`
/// when it can go.
fn blocked(before: &Value, report: &[Line]) -> Option<String> {
    let selects_images = before
        .at("/spec/amiSelectorTerms")
        .and_then(Value::as_array)
        .is_some_and(|t| t.iter().any(|x| x.get("alias").is_none()));
    if before.at("/spec/amiFamily").and_then(Value::as_str) == Some("AL2") && selects_images {
        return Some(
            "its amiSelectorTerms pick AMIs by id, name or tags, which are AL2 images today: with amiFamily AL2023 its nodes would not join; point the terms at AL2023 images (or an al2023@ alias) first".into(),
        );
    }
    let errors: Vec<&str> = report.iter().filter(|l| l.severity == "error").map(|l| l.code.as_str()).collect();
    (!errors.is_empty()).then(|| {
        format!(
            "the migrated class has errors ({}): fix them in the cluster or migrate the source files",
            errors.join(", ")
        )
    })
}

/// Field managers other than this tool that own any of `keys` of `spec`.
fn owners(class: &Value, keys: &[String]) -> Vec<String> {
    let mut out = BTreeSet::new();
    for entry in class.at("/metadata/managedFields").and_then(Value::as_array).into_iter().flatten() {
        let manager = entry.get("manager").and_then(Value::as_str).unwrap_or("unknown");
        if manager == FIELD_MANAGER {
            continue;
        }
        let spec = entry.at("/fieldsV1/f:spec");
        if keys.iter().any(|k| spec.and_then(|s| s.get(format!("f:{k}"))).is_some()) {
            out.insert(manager.to_string());
        }
    }
    out.into_iter().collect()
}

pub(super) fn managed_by_us(class: &Value) -> bool {
    class
        .at("/metadata/managedFields")
        .and_then(Value::as_array)
        .is_some_and(|m| m.iter().any(|e| e.get("manager").and_then(Value::as_str) == Some(FIELD_MANAGER)))
}

/// Managers that sync from a source and would put the old values back.
fn is_gitops(manager: &str) -> bool {
    let m = manager.to_ascii_lowercase();
    ["argocd", "kustomize-controller", "helm-controller", "helm", "flux", "terraform", "pulumi"]
        .iter()
        .any(|g| m.contains(g))
}

pub(crate) fn change(class: &Value, version: KarpenterVersion) -> Change {
    let class_name = name(class);
    let before = clean(class);
    let mut after = before.clone();
    let mut entries = Vec::new();
    crate::karpenter::migrate::migrate_one(&format!("ec2nodeclass/{class_name}"), &mut after, version, &mut entries);
    let empty = Map::new();
    let old_spec = before.get("spec").and_then(Value::as_object).unwrap_or(&empty);
    let new_spec = after.get("spec").and_then(Value::as_object).unwrap_or(&empty);
    let changed: Map<String, Value> =
        new_spec.iter().filter(|(k, v)| old_spec.get(*k) != Some(*v)).map(|(k, v)| (k.clone(), v.clone())).collect();
    let remove: Vec<String> = old_spec.keys().filter(|k| !new_spec.contains_key(*k)).cloned().collect();
    let mut metadata = Map::new();
    metadata.insert("name".into(), json!(class_name));
    // The apply is conditional on the version read: a class edited meanwhile is a conflict.
    if let Some(rv) = class.at("/metadata/resourceVersion") {
        metadata.insert("resourceVersion".into(), rv.clone());
    }
    let apply = json!({
        "apiVersion": class.get("apiVersion").cloned().unwrap_or(json!("karpenter.k8s.aws/v1")),
        "kind": "EC2NodeClass",
        "metadata": metadata,
        "spec": changed,
    });
    let touched: Vec<String> = changed.keys().cloned().chain(remove.iter().cloned()).collect();
    let managers = owners(class, &touched);
    let mut report: Vec<Line> = entries.into_iter().map(Line::from).collect();
    if !managers.is_empty() {
        let gitops: Vec<&String> = managers.iter().filter(|m| is_gitops(m)).collect();
        let why = if gitops.is_empty() {
            "the apply takes them over only with --force-conflicts".to_string()
        } else {
            format!(
                "{} syncs from a source and would put the AL2 values back: migrate the source (`eks-userdata karpenter migrate FILE --in-place`) instead",
                gitops.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
            )
        };
        report.push(Line::new(
            &codes::OTHER_MANAGER,
            format!(
                "{class_name}: spec fields it changes ({}) are owned by {}; {why}",
                touched.join(", "),
                managers.join(", ")
            ),
        ));
    }
    let blocked = blocked(&before, &report);
    Change { name: class_name, apply, remove, after, report, managers, blocked }
}

/// The classes as read, before any change: what `kubectl replace -f` puts back.
pub fn backup(s: &Snapshot, names: &[String], cluster: &str) -> String {
    let mut out = format!(
        "# EC2NodeClasses of cluster {cluster} before `eks-userdata karpenter migrate --cluster {cluster}`.\n# To put them back: kubectl replace -f THIS-FILE\n"
    );
    let mut classes: Vec<&Value> = s.classes.iter().filter(|c| names.contains(&name(c))).collect();
    classes.sort_by_key(|c| name(c));
    for c in classes {
        out.push_str("---\n");
        out.push_str(&crate::nodeconfig::yaml::to_string(&clean(c)).unwrap_or_default());
    }
    out
}
