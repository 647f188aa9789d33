//! Desired state, not actions (Terraform's model): from what a template is now, the flags ask
//! for a state — a migrated version exists and verifies; with `--set-default` it is the
//! default; with `--update-nodegroups` every managed node group on the template uses it — and
//! `push` takes only the steps still missing. A re-run after success has none; a re-run after a
//! partial failure has exactly the ones that failed. Pure, so each case is a unit test.

use super::nodegroups::NodegroupRef;
use super::plan::{Action, Item, Step};

/// The version an earlier run made from the same source (its description says so).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Existing {
    pub number: i64,
    /// It is exactly the version this run would make: the source with the planned changes.
    pub equal: bool,
    /// It is the source with only UserData, ImageId and the hop limit replaced. When false, EC2
    /// did not carry the source's other fields over: the version failed verification.
    pub faithful: bool,
}

/// What the flags ask for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Want {
    pub set_default: bool,
    pub update_nodegroups: bool,
    pub include_owned: bool,
}

/// Fills in `item.steps`, `target_version`, `notes`, and the action and reason that sum them up.
/// `earlier` are the versions earlier runs made from the source; `nodegroups` the node groups
/// that use this template.
pub fn converge(mut item: Item, earlier: &[Existing], nodegroups: &[&NodegroupRef], want: Want) -> Item {
    if let Some(owner) = item.owner.clone() {
        if !want.include_owned {
            item.action = Action::Owned;
            item.reason = format!("owned by {} ({}): {}", owner.kind.as_str(), owner.evidence, owner.advice);
            clear_changes(&mut item);
            item.findings.clear();
            return item;
        }
        item.notes.push(format!(
            "warning: owned by {} ({}), pushed anyway (--include-owned); unless its source is migrated too, the owner reverts this: {}",
            owner.kind.as_str(),
            owner.evidence,
            owner.advice
        ));
    }
    match item.action {
        Action::Create => match earlier.iter().filter(|e| e.equal).map(|e| e.number).max() {
            Some(n) => {
                item.target_version = Some(n);
                item.reason = format!("already migrated: version {n} was made from version {}", item.source_version);
                clear_changes(&mut item);
            }
            None => item.steps.push(Step::CreateVersion),
        },
        // Already AL2023: the source is the migrated version (`push.rs` has checked it verifies).
        Action::Unchanged => item.target_version = Some(item.source_version),
        _ => return item,
    }

    // Versions that fail verification go last, once neither the default nor a node group this
    // run moves is on them: EC2 refuses to delete the default version.
    let broken: Vec<i64> = earlier.iter().filter(|e| !e.faithful).map(|e| e.number).collect();
    let default_broken = broken.contains(&item.default_version);
    if (want.set_default || default_broken) && item.target_version != Some(item.default_version) {
        if default_broken && !want.set_default {
            item.notes.push(format!(
                "the default version {} fails verification: the default moves to the AL2023 version so that it can be deleted",
                item.default_version
            ));
        }
        item.steps.push(Step::SetDefault { from: item.default_version, to: item.target_version });
    }
    let mut staying: Vec<i64> = Vec::new();
    let ours: Vec<i64> = earlier.iter().map(|e| e.number).collect();
    for ng in nodegroups {
        if !want.update_nodegroups || !nodegroup_step(&mut item, ng, &ours) {
            staying.extend(version_of(&item, ng));
        }
    }
    for b in broken {
        if staying.contains(&b) {
            item.notes.push(format!("version {b} fails verification but a node group uses it: left until it is moved"));
        } else {
            item.steps.push(Step::DeleteVersion { version: b });
        }
    }

    let creates = item.steps.contains(&Step::CreateVersion);
    let rest: Vec<String> = item.steps.iter().filter(|s| **s != Step::CreateVersion).map(Step::describe).collect();
    if creates {
        item.action = Action::Create;
    } else if !rest.is_empty() {
        item.action = Action::Update;
        let target = item.target_version.map_or(String::new(), |t| format!("version {t} is the AL2023 version; "));
        item.reason = format!("{target}left to do: {}", rest.join("; "));
    } else {
        item.action = Action::Unchanged;
    }
    item
}

fn clear_changes(item: &mut Item) {
    item.changes.clear();
    item.user_data = None;
    item.image_id = None;
    item.hop_limit = None;
    item.diff.clear();
}

/// The version a node group is on, `$Default` and `$Latest` resolved.
fn version_of(item: &Item, ng: &NodegroupRef) -> Option<i64> {
    ng.version.as_deref().and_then(|v| match v {
        "$Default" => Some(item.default_version),
        "$Latest" => Some(item.latest_version),
        n => n.parse::<i64>().ok(),
    })
}

/// Whether the node group can be updated in place to the new version: EKS keeps a node group's
/// AMI source ("You must create a new node group to switch between specifying an AMI ID in a
/// launch template and not specifying an AMI ID"). `CUSTOM` is what EKS reports for a template
/// that names an AMI; an `AL2023_*` type is already AL2023 and takes a template without one; any
/// other type (`AL2_x86_64`, …) cannot become AL2023 in place.
fn in_place(item: &Item, ng: &NodegroupRef) -> bool {
    match ng.ami_type.as_deref() {
        Some("CUSTOM") => item.custom_ami,
        Some(t) if t.starts_with("AL2023_") => !item.custom_ami,
        Some(_) => false,
        None => item.custom_ami,
    }
}

/// Adds the node group's step, or a note when it cannot or should not be moved; true when it
/// will be moved (or is already on the AL2023 version). `ours` are earlier runs' versions: a node
/// group on one of them is moved even though its number is newer than the source's.
fn nodegroup_step(item: &mut Item, ng: &NodegroupRef, ours: &[i64]) -> bool {
    let current = version_of(item, ng);
    // Compared with the AL2023 version, or before it is made, with the version it is made from.
    let reference = item.target_version.unwrap_or(item.source_version);
    if let Some(c) = current {
        if Some(c) == item.target_version {
            return true;
        }
        if c > reference && !ours.contains(&c) {
            let what = match item.target_version {
                Some(t) => format!("the AL2023 version {t}"),
                None => format!("version {}, which the AL2023 version is made from", item.source_version),
            };
            item.notes
                .push(format!("node group {}/{} uses version {c}, newer than {what}: left alone", ng.cluster, ng.name));
            return false;
        }
    }
    if ng.status.as_deref() == Some("UPDATING") {
        item.notes.push(format!("node group {}/{} is being updated: left for the next run", ng.cluster, ng.name));
        return false;
    }
    let to = item.target_version;
    if !in_place(item, ng) {
        let version = to.map_or("the new version".to_string(), |t| format!("version {t}"));
        let why = match ng.ami_type.as_deref() {
            Some(t) if t.starts_with("AL2023_") => format!(
                "the node group runs EKS's {t} AMI and the new version names an AMI, which EKS does not allow in place: push without --ami for it, or create a new node group with launch template {} {version}",
                item.template_id
            ),
            Some("CUSTOM") => format!(
                "the node group's template names an AMI and the new version does not, which EKS does not allow in place: create a new node group with launch template {} {version}",
                item.template_id
            ),
            other => format!(
                "EKS chooses this node group's AMI ({}), and a node group cannot switch to AL2023 in place: create a new node group with amiType AL2023_x86_64_STANDARD (or AL2023_ARM_64_STANDARD) and launch template {} {version}, move the workloads, then delete this one",
                other.unwrap_or("its AMI type"),
                item.template_id
            ),
        };
        item.notes.push(format!("node group {}/{} ({}): not-in-place: {why}", ng.cluster, ng.name, item.template_id));
        return false;
    }
    item.steps.push(Step::UpdateNodegroup {
        cluster: ng.cluster.clone(),
        nodegroup: ng.name.clone(),
        from: ng.version.clone(),
        to,
    });
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aws::owner::{Owner, OwnerKind};
    use crate::aws::plan::Change;

    fn item(action: Action) -> Item {
        let mut i = crate::aws::plan::sample_item();
        i.user_data = None;
        i.latest_version = 2;
        i.action = action;
        i.custom_ami = true;
        if action == Action::Create {
            i.changes.push(Change { field: "UserData".into(), old: None, new: None });
            i.user_data = Some("TkVX".into());
        }
        i
    }

    fn ng(name: &str, version: &str) -> NodegroupRef {
        NodegroupRef {
            cluster: "prod".into(),
            name: name.into(),
            template_id: "lt-1".into(),
            version: Some(version.into()),
            ami_type: Some("CUSTOM".into()),
            status: Some("ACTIVE".into()),
        }
    }

    const ALL: Want = Want { set_default: true, update_nodegroups: true, include_owned: false };

    #[test]
    fn a_fresh_template_gets_every_step() {
        let g = ng("ng-a", "1");
        let i = converge(item(Action::Create), &[], &[&g], ALL);
        assert_eq!(i.action, Action::Create);
        assert_eq!(
            i.steps,
            [
                Step::CreateVersion,
                Step::SetDefault { from: 1, to: None },
                Step::UpdateNodegroup {
                    cluster: "prod".into(),
                    nodegroup: "ng-a".into(),
                    from: Some("1".into()),
                    to: None
                }
            ]
        );
    }

    #[test]
    fn a_rerun_takes_only_the_missing_steps() {
        let made = [Existing { number: 2, equal: true, faithful: true }];
        // Applied before without --set-default: now only the default moves.
        let i = converge(item(Action::Create), &made, &[], Want { set_default: true, ..Want::default() });
        assert_eq!((i.action, i.target_version), (Action::Update, Some(2)));
        assert_eq!(i.steps, [Step::SetDefault { from: 1, to: Some(2) }]);
        assert_eq!(i.reason, "version 2 is the AL2023 version; left to do: default version 1 → version 2");
        assert!(i.user_data.is_none() && i.changes.is_empty(), "nothing is created");
        // The same without asking for the default: nothing at all.
        let i = converge(item(Action::Create), &made, &[], Want::default());
        assert_eq!((i.action, i.steps.len()), (Action::Unchanged, 0), "{i:?}");
        assert!(i.reason.starts_with("already migrated"), "{}", i.reason);
    }

    #[test]
    fn after_set_default_node_groups_are_still_moved() {
        // The default is the AL2023 version itself (plan_item says Unchanged).
        let mut it = item(Action::Unchanged);
        it.source_version = 2;
        it.default_version = 2;
        let (old, done, newer) = (ng("old", "1"), ng("done", "2"), ng("newer", "3"));
        let i = converge(it, &[], &[&old, &done, &newer], ALL);
        assert_eq!(i.action, Action::Update);
        assert_eq!(
            i.steps,
            [Step::UpdateNodegroup {
                cluster: "prod".into(),
                nodegroup: "old".into(),
                from: Some("1".into()),
                to: Some(2)
            }]
        );
        assert!(i.notes.iter().any(|n| n.contains("prod/newer uses version 3, newer")), "{:?}", i.notes);
    }

    #[test]
    fn a_broken_version_is_made_again_and_deleted_last() {
        let broken = [Existing { number: 2, equal: false, faithful: false }];
        let i = converge(item(Action::Create), &broken, &[], Want::default());
        assert_eq!(i.steps, [Step::CreateVersion, Step::DeleteVersion { version: 2 }]);
        // A faithful version from other options (another --hop-limit) is kept.
        let other = [Existing { number: 2, equal: false, faithful: true }];
        assert_eq!(converge(item(Action::Create), &other, &[], Want::default()).steps, [Step::CreateVersion]);
    }

    #[test]
    fn a_broken_default_is_moved_off_before_it_is_deleted() {
        let mut it = item(Action::Create);
        it.default_version = 2;
        let broken = [Existing { number: 2, equal: false, faithful: false }];
        // Even without --set-default: EC2 cannot delete the default version.
        let i = converge(it.clone(), &broken, &[], Want::default());
        assert_eq!(
            i.steps,
            [Step::CreateVersion, Step::SetDefault { from: 2, to: None }, Step::DeleteVersion { version: 2 }]
        );
        assert!(i.notes[0].starts_with("the default version 2 fails verification"), "{:?}", i.notes);
        // A node group on the broken version keeps it until it is moved.
        let g = ng("on-broken", "2");
        let i = converge(it.clone(), &broken, &[&g], Want { set_default: true, ..Want::default() });
        assert!(!i.steps.contains(&Step::DeleteVersion { version: 2 }), "{:?}", i.steps);
        let i = converge(it, &broken, &[&g], ALL);
        assert_eq!(i.steps.last(), Some(&Step::DeleteVersion { version: 2 }), "moved, then deleted");
    }

    #[test]
    fn node_groups_newer_than_the_source_are_left_alone_and_busy_ones_wait() {
        let newer = ng("newer", "3");
        let mut busy = ng("busy", "1");
        busy.status = Some("UPDATING".into());
        let i = converge(item(Action::Create), &[], &[&newer, &busy], ALL);
        assert!(!i.steps.iter().any(|s| matches!(s, Step::UpdateNodegroup { .. })), "{:?}", i.steps);
        assert!(i.notes.iter().any(|n| n.contains("prod/newer uses version 3, newer than version 1")), "{:?}", i.notes);
        assert!(i.notes.iter().any(|n| n.contains("prod/busy is being updated")), "{:?}", i.notes);
    }

    #[test]
    fn owned_templates_are_left_alone_unless_included() {
        let mut it = item(Action::Create);
        it.owner = Some(Owner {
            kind: OwnerKind::Karpenter,
            evidence: "name karpenter.k8s.aws/1".into(),
            advice: "migrate".into(),
        });
        let i = converge(it.clone(), &[], &[], ALL);
        assert_eq!((i.action, i.steps.len()), (Action::Owned, 0));
        assert_eq!(i.reason, "owned by Karpenter (name karpenter.k8s.aws/1): migrate");
        let i = converge(it, &[], &[], Want { include_owned: true, ..ALL });
        assert_eq!(i.action, Action::Create);
        assert!(i.notes[0].starts_with("warning: owned by Karpenter"), "{:?}", i.notes);
    }

    #[test]
    fn node_groups_on_an_eks_ami_get_a_note_not_a_step() {
        let mut it = item(Action::Create);
        it.custom_ami = false;
        let mut g = ng("ng-eks", "1");
        g.ami_type = Some("AL2_x86_64".into());
        let i = converge(it.clone(), &[], &[&g], ALL);
        assert!(!i.steps.iter().any(|s| matches!(s, Step::UpdateNodegroup { .. })));
        assert!(i.notes[0].contains("not-in-place") && i.notes[0].contains("create a new node group"), "{:?}", i.notes);
        // --ami on a node group whose AMI EKS chooses: not in place either, whatever the template says.
        it.custom_ami = true;
        assert!(!converge(it, &[], &[&g], ALL).steps.iter().any(|s| matches!(s, Step::UpdateNodegroup { .. })));
    }
}
