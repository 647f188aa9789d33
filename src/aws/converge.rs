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
/// `nodegroups` are the node groups that use this template.
pub fn converge(mut item: Item, existing: Option<Existing>, nodegroups: &[&NodegroupRef], want: Want) -> Item {
    if let Some(owner) = item.owner.clone() {
        if !want.include_owned {
            item.action = Action::Owned;
            item.reason = format!("owned by {} ({}): {}", owner.kind.as_str(), owner.evidence, owner.advice);
            item.changes.clear();
            item.user_data = None;
            item.image_id = None;
            item.hop_limit = None;
            item.diff.clear();
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
        Action::Create => match existing {
            Some(e) if e.equal => {
                item.target_version = Some(e.number);
                item.reason =
                    format!("already migrated: version {} was made from version {}", e.number, item.source_version);
                item.changes.clear();
                item.user_data = None;
                item.image_id = None;
                item.hop_limit = None;
                item.diff.clear();
            }
            Some(e) => {
                if !e.faithful {
                    item.steps.push(Step::DeleteVersion { version: e.number });
                }
                item.steps.push(Step::CreateVersion);
            }
            None => item.steps.push(Step::CreateVersion),
        },
        // Already AL2023: the source is the migrated version.
        Action::Unchanged => item.target_version = Some(item.source_version),
        _ => return item,
    }

    if want.set_default && item.target_version != Some(item.default_version) {
        item.steps.push(Step::SetDefault { from: item.default_version, to: item.target_version });
    }
    if want.update_nodegroups {
        for ng in nodegroups {
            nodegroup_step(&mut item, ng);
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

/// The node group's step, or a note when it cannot or should not be moved.
fn nodegroup_step(item: &mut Item, ng: &NodegroupRef) {
    let current = ng.version.as_deref().and_then(|v| match v {
        "$Default" => Some(item.default_version),
        "$Latest" => Some(item.latest_version),
        n => n.parse::<i64>().ok(),
    });
    if let (Some(t), Some(c)) = (item.target_version, current) {
        if c == t {
            return;
        }
        if c > t {
            item.notes.push(format!(
                "node group {}/{} uses version {c}, newer than the AL2023 version {t}: left alone",
                ng.cluster, ng.name
            ));
            return;
        }
    }
    let to = item.target_version;
    if !item.custom_ami {
        let ami_type = ng.ami_type.as_deref().unwrap_or("its AMI type");
        let version = to.map_or("the new version".to_string(), |t| format!("version {t}"));
        item.notes.push(format!(
            "node group {}/{} ({}): not-in-place: EKS chooses this node group's AMI ({ami_type}), and a node group cannot switch to AL2023 in place: create a new node group with amiType AL2023_x86_64_STANDARD (or AL2023_ARM_64_STANDARD) and launch template {} {version}, move the workloads, then delete this one",
            ng.cluster, ng.name, item.template_id, item.template_id
        ));
        return;
    }
    item.steps.push(Step::UpdateNodegroup {
        cluster: ng.cluster.clone(),
        nodegroup: ng.name.clone(),
        from: ng.version.clone(),
        to,
    });
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
        }
    }

    const ALL: Want = Want { set_default: true, update_nodegroups: true, include_owned: false };

    #[test]
    fn a_fresh_template_gets_every_step() {
        let g = ng("ng-a", "1");
        let i = converge(item(Action::Create), None, &[&g], ALL);
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
        let made = Existing { number: 2, equal: true, faithful: true };
        // Applied before without --set-default: now only the default moves.
        let i = converge(item(Action::Create), Some(made), &[], Want { set_default: true, ..Want::default() });
        assert_eq!((i.action, i.target_version), (Action::Update, Some(2)));
        assert_eq!(i.steps, [Step::SetDefault { from: 1, to: Some(2) }]);
        assert_eq!(i.reason, "version 2 is the AL2023 version; left to do: default version 1 → version 2");
        assert!(i.user_data.is_none() && i.changes.is_empty(), "nothing is created");
        // The same without asking for the default: nothing at all.
        let i = converge(item(Action::Create), Some(made), &[], Want::default());
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
        let i = converge(it, None, &[&old, &done, &newer], ALL);
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
    fn a_broken_version_is_deleted_and_made_again() {
        let broken = Existing { number: 2, equal: false, faithful: false };
        let i = converge(item(Action::Create), Some(broken), &[], Want::default());
        assert_eq!(i.steps, [Step::DeleteVersion { version: 2 }, Step::CreateVersion]);
        // A faithful version from other options (another --hop-limit) is kept.
        let other = Existing { number: 2, equal: false, faithful: true };
        assert_eq!(converge(item(Action::Create), Some(other), &[], Want::default()).steps, [Step::CreateVersion]);
    }

    #[test]
    fn owned_templates_are_left_alone_unless_included() {
        let mut it = item(Action::Create);
        it.owner = Some(Owner {
            kind: OwnerKind::Karpenter,
            evidence: "name karpenter.k8s.aws/1".into(),
            advice: "migrate".into(),
        });
        let i = converge(it.clone(), None, &[], ALL);
        assert_eq!((i.action, i.steps.len()), (Action::Owned, 0));
        assert_eq!(i.reason, "owned by Karpenter (name karpenter.k8s.aws/1): migrate");
        let i = converge(it, None, &[], Want { include_owned: true, ..ALL });
        assert_eq!(i.action, Action::Create);
        assert!(i.notes[0].starts_with("warning: owned by Karpenter"), "{:?}", i.notes);
    }

    #[test]
    fn node_groups_on_an_eks_ami_get_a_note_not_a_step() {
        let mut it = item(Action::Create);
        it.custom_ami = false;
        let g = ng("ng-eks", "1");
        let i = converge(it, None, &[&g], ALL);
        assert!(!i.steps.iter().any(|s| matches!(s, Step::UpdateNodegroup { .. })));
        assert!(i.notes[0].contains("not-in-place") && i.notes[0].contains("create a new node group"), "{:?}", i.notes);
    }
}
