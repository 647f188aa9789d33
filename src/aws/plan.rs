//! The plan of a `push`: per launch template, what the new version would change, decided
//! without writing anything (Terraform's plan/apply split). `converge.rs` then turns it into the
//! steps still missing from the state the flags ask for. Only three fields ever change:
//! `UserData` (converted as `convert` does), and where asked `ImageId` and the IMDS
//! `HttpPutResponseHopLimit` (AL2023 wants IMDSv2, hop limit 2 for pods that use it: peers §4
//! rule 7). Everything here is pure, so the decisions are unit-tested without AWS.

use super::select::TemplateRef;
use crate::source::Source;
use crate::translate::{self, emit};
use crate::userdata::{Envelope, Limits};
use base64::Engine as _;
use serde::{Deserialize, Serialize};

/// Identifies the file format of `--plan-out`, so an old or foreign file is refused.
/// v2 added the account, the owner and the steps of each item.
pub const FORMAT: &str = "eks-userdata/push-plan/v2";

/// A saved plan (`--plan-out`), applied as it is with `push --plan FILE --apply`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PlanFile {
    pub format: String,
    pub items: Vec<Item>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    /// A new version will be created (and the steps after it taken).
    Create,
    /// The migrated version exists; steps after it are missing (default, node groups).
    Update,
    /// Nothing to do: already AL2023, or already migrated by an earlier run.
    Unchanged,
    /// Left alone on purpose (no user data).
    Skip,
    /// Left alone: CloudFormation, eksctl, Terraform, Karpenter or EKS owns the template.
    Owned,
    /// Left alone because something is wrong (untranslatable user data, an API error).
    Error,
}

/// One field of the launch template data that the new version changes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Change {
    pub field: String,
    pub old: Option<String>,
    pub new: Option<String>,
}

/// One write that brings a template to the desired state, in the order they are taken.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "step", rename_all = "kebab-case", rename_all_fields = "camelCase", deny_unknown_fields)]
pub enum Step {
    /// An earlier run's version that fails verification (EC2 did not carry the source's other
    /// fields over): deleted, so no broken version stays behind.
    DeleteVersion { version: i64 },
    /// Create the migrated version from the source version, then verify it.
    CreateVersion,
    /// Make the migrated version the default (`to: None`: the version this run creates).
    SetDefault { from: i64, to: Option<i64> },
    /// Move a managed node group to the migrated version (EKS UpdateNodegroupVersion).
    UpdateNodegroup { cluster: String, nodegroup: String, from: Option<String>, to: Option<i64> },
}

impl Step {
    /// One line for the plan: what will be done.
    pub fn describe(&self) -> String {
        let v = |to: &Option<i64>| to.map_or("the new version".to_string(), |n| format!("version {n}"));
        match self {
            Step::DeleteVersion { version } => {
                format!("delete version {version}: an earlier run's version that fails verification")
            }
            Step::CreateVersion => "create the AL2023 version and verify it".into(),
            Step::SetDefault { from, to } => format!("default version {from} → {}", v(to)),
            Step::UpdateNodegroup { cluster, nodegroup, from, to } => format!(
                "node group {cluster}/{nodegroup}: version {} → {} (EKS replaces its nodes)",
                from.as_deref().unwrap_or("(none)"),
                v(to)
            ),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Item {
    /// The AWS account (a saved plan is applied only with credentials that reach it).
    pub account: String,
    pub region: String,
    pub template_id: String,
    pub template_name: String,
    /// The version read (`$Default` resolved to its number).
    pub source_version: i64,
    /// The template's default and latest versions when planned: `--plan` refuses to apply if
    /// the latest moved, and `rollback --plan` returns to this default.
    pub default_version: i64,
    pub latest_version: i64,
    /// A digest of the source version's data: `--plan` refuses to apply if it changed.
    pub source_digest: String,
    pub action: Action,
    pub reason: String,
    /// Who owns the template, when something does.
    pub owner: Option<super::owner::Owner>,
    /// The migrated version when it exists already (`None` with a `create-version` step).
    pub target_version: Option<i64>,
    /// The writes still missing, in order; empty when the template is as asked.
    pub steps: Vec<Step>,
    /// Warnings and things left for a person (`--include-owned`, node groups not updatable in
    /// place).
    pub notes: Vec<String>,
    pub changes: Vec<Change>,
    /// The new user data, base64 as EC2 takes it (`None`: unchanged).
    pub user_data: Option<String>,
    pub image_id: Option<String>,
    pub hop_limit: Option<i32>,
    /// Whether the (new) version names an AMI: EKS can then update a managed node group in place.
    pub custom_ami: bool,
    /// Unified diff of the decoded user data.
    pub diff: String,
    /// What `convert` reported at warning or error severity, `CODE: message`.
    pub findings: Vec<String>,
}

/// What `plan_item` needs to know about the version it reads.
#[derive(Debug, Clone, Default)]
pub struct SourceVersion {
    pub number: i64,
    pub user_data: Option<String>,
    pub image_id: Option<String>,
    pub hop_limit: Option<i32>,
    /// [`digest`] of everything in the version's data.
    pub digest: String,
}

#[derive(Debug, Clone, Default)]
pub struct PlanOptions {
    pub convert: translate::Options,
    /// The AMI to set (already resolved from `--ami auto`).
    pub image_id: Option<String>,
    pub hop_limit: Option<i32>,
}

/// The version description this tool writes; `rollback` reads the source version back from it.
pub fn description(source_version: i64) -> String {
    format!("eks-userdata: AL2023 user data from version {source_version}")
}

/// The source version named by [`description`].
pub fn parse_description(d: &str) -> Option<i64> {
    d.strip_prefix("eks-userdata: AL2023 user data from version ")?.trim().parse().ok()
}

/// FNV-1a 64, hex: a stable digest for change detection and client tokens (not security).
pub fn digest(parts: &[&[u8]]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for p in parts {
        for b in p.iter().chain(&[0xff]) {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    format!("{h:016x}")
}

/// Decides what the migrated version of one template version is: its changes, or why there is
/// none. Whether it exists already, and what else is missing, is `converge`'s question.
pub fn plan_item(account: &str, region: &str, t: &TemplateRef, src: &SourceVersion, opts: &PlanOptions) -> Item {
    let mut item = Item {
        account: account.to_string(),
        region: region.to_string(),
        template_id: t.id.clone(),
        template_name: t.name.clone(),
        source_version: src.number,
        default_version: t.default_version,
        latest_version: t.latest_version,
        source_digest: src.digest.clone(),
        action: Action::Create,
        reason: String::new(),
        owner: None,
        target_version: None,
        steps: Vec::new(),
        notes: Vec::new(),
        changes: Vec::new(),
        user_data: None,
        image_id: None,
        hop_limit: None,
        custom_ami: src.image_id.is_some() || opts.image_id.is_some(),
        diff: String::new(),
        findings: Vec::new(),
    };
    let b64 = src.user_data.as_deref().map(str::trim).filter(|u| !u.is_empty());
    let Some(b64) = b64 else {
        return with(item, Action::Skip, "no user data");
    };
    let Ok(raw) = base64::engine::general_purpose::STANDARD.decode(b64) else {
        return with(item, Action::Error, "the user data is not base64, as EC2 stores it");
    };
    let name = format!("{}@{}", t.id, src.number);
    // The user data as a reviewer reads it: gzip and base64 layers removed.
    let env = Envelope::parse(&raw, &Limits::default());
    let old_text = String::from_utf8_lossy(&env.payload).into_owned();

    let new_bytes = if translate::is_al2023(&env) {
        None
    } else {
        let conv =
            match translate::convert(&Source::new(name.clone(), raw.clone()), &opts.convert, emit::Format::Mime, &name)
            {
                Ok(c) => c,
                Err(e) => return with(item, Action::Error, &format!("cannot be converted: {e}")),
            };
        item.findings = conv.findings();
        match conv.output {
            Some(out) if !conv.refused && !conv.needs_review => Some(out),
            _ => {
                let errors = item.findings.iter().filter(|f| f.starts_with("error")).count();
                return with(
                    item,
                    Action::Error,
                    &format!("the user data cannot be translated without review ({errors} errors); left alone"),
                );
            }
        }
    };

    if let Some(new) = &new_bytes {
        let new_b64 = base64::engine::general_purpose::STANDARD.encode(new);
        let new_text = String::from_utf8_lossy(new).into_owned();
        item.diff = similar::TextDiff::from_lines(&old_text, &new_text)
            .unified_diff()
            .header(&format!("{name} user data"), "new version user data")
            .to_string();
        item.changes.push(Change {
            field: "UserData".into(),
            old: Some(format!("{} bytes (AL2)", raw.len())),
            new: Some(format!("{} bytes (AL2023)", new.len())),
        });
        item.user_data = Some(new_b64);
    }
    if let Some(img) = opts.image_id.as_ref().filter(|i| src.image_id.as_ref() != Some(*i)) {
        item.changes.push(Change { field: "ImageId".into(), old: src.image_id.clone(), new: Some(img.clone()) });
        item.image_id = Some(img.clone());
    }
    if let Some(h) = opts.hop_limit.filter(|h| src.hop_limit != Some(*h)) {
        item.changes.push(Change {
            field: "MetadataOptions.HttpPutResponseHopLimit".into(),
            old: src.hop_limit.map(|v| v.to_string()),
            new: Some(h.to_string()),
        });
        item.hop_limit = Some(h);
    }

    if item.changes.is_empty() {
        return with(item, Action::Unchanged, "already AL2023 user data; nothing else to change");
    }
    let fields: Vec<&str> = item.changes.iter().map(|c| c.field.as_str()).collect();
    let reason = format!("new version from version {}: {}", src.number, fields.join(", "));
    with(item, Action::Create, &reason)
}

/// An item for unit tests: template `lt-1`, versions 1, new user data `TkVX`.
#[cfg(test)]
pub(crate) fn sample_item() -> Item {
    let t = TemplateRef {
        id: "lt-1".into(),
        name: "n".into(),
        default_version: 1,
        latest_version: 1,
        tags: Vec::new(),
        created_by: None,
    };
    let mut i = plan_item("1", "r", &t, &SourceVersion { number: 1, ..Default::default() }, &PlanOptions::default());
    i.user_data = Some("TkVX".into());
    i
}

fn with(mut item: Item, action: Action, reason: &str) -> Item {
    item.action = action;
    item.reason = reason.to_string();
    item
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::translate::ClusterInfo;

    fn tpl() -> TemplateRef {
        TemplateRef {
            id: "lt-1".into(),
            name: "web".into(),
            default_version: 3,
            latest_version: 4,
            tags: Vec::new(),
            created_by: None,
        }
    }

    fn src(user_data: &str) -> SourceVersion {
        SourceVersion {
            number: 3,
            user_data: Some(base64::engine::general_purpose::STANDARD.encode(user_data)),
            image_id: Some("ami-al2".into()),
            hop_limit: Some(1),
            digest: "d".into(),
        }
    }

    fn opts() -> PlanOptions {
        PlanOptions {
            convert: translate::Options {
                cluster: ClusterInfo {
                    name: Some("prod".into()),
                    api_server_endpoint: Some("https://ABC.gr7.eu-west-1.eks.amazonaws.com".into()),
                    certificate_authority: Some("LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1Bb0dDQ3NHQVFVRkJ3TUIKLS0tLS1FTkQgQ0VSVElGSUNBVEUtLS0tLQo=".into()),
                    cidr: Some("10.100.0.0/16".into()),
                    ..Default::default()
                },
                ..Default::default()
            },
            ..Default::default()
        }
    }

    const AL2: &str = "#!/bin/bash\n/etc/eks/bootstrap.sh prod --kubelet-extra-args '--node-labels=a=b'\n";

    #[test]
    fn al2_user_data_becomes_a_new_version_and_al2023_is_unchanged() {
        let item = plan_item("1", "eu-west-1", &tpl(), &src(AL2), &opts());
        assert_eq!(item.action, Action::Create, "{item:?}");
        assert!(
            item.diff.contains("-/etc/eks/bootstrap.sh") && item.diff.contains("+apiVersion: node.eks.aws/v1alpha1"),
            "{}",
            item.diff
        );
        assert_eq!(item.changes.len(), 1);
        // After `--set-default`, the source is the AL2023 version itself.
        let new = base64::engine::general_purpose::STANDARD.decode(item.user_data.unwrap()).unwrap();
        let mut s = src("");
        s.user_data = Some(base64::engine::general_purpose::STANDARD.encode(new));
        assert_eq!(plan_item("1", "eu-west-1", &tpl(), &s, &opts()).action, Action::Unchanged);
    }

    #[test]
    fn image_and_hop_limit_changes_are_listed() {
        let o = PlanOptions { image_id: Some("ami-al2023".into()), hop_limit: Some(2), ..opts() };
        let item = plan_item("1", "r", &tpl(), &src(AL2), &o);
        let fields: Vec<_> =
            item.changes.iter().map(|c| (c.field.as_str(), c.old.as_deref(), c.new.as_deref())).collect();
        assert_eq!(
            fields[1..],
            [
                ("ImageId", Some("ami-al2"), Some("ami-al2023")),
                ("MetadataOptions.HttpPutResponseHopLimit", Some("1"), Some("2"))
            ]
        );
        assert!(item.custom_ami);
    }

    #[test]
    fn untranslatable_and_empty_user_data_are_left_alone() {
        let no_cluster = PlanOptions::default();
        let item = plan_item("1", "r", &tpl(), &src(AL2), &no_cluster);
        assert_eq!(item.action, Action::Error);
        assert!(item.findings.iter().any(|f| f.contains("CV408")), "{:?}", item.findings);
        assert_eq!(item.user_data, None);
        let mut empty = src("");
        empty.user_data = None;
        assert_eq!(plan_item("1", "r", &tpl(), &empty, &opts()).action, Action::Skip);
        let mut bad = src("");
        bad.user_data = Some("not base64!".into());
        assert_eq!(plan_item("1", "r", &tpl(), &bad, &opts()).action, Action::Error);
    }

    #[test]
    fn steps_read_as_the_plan_says_them() {
        let s = Step::SetDefault { from: 1, to: None };
        assert_eq!(s.describe(), "default version 1 → the new version");
        let json = serde_json::to_string(&Step::UpdateNodegroup {
            cluster: "prod".into(),
            nodegroup: "ng".into(),
            from: Some("1".into()),
            to: Some(2),
        })
        .unwrap();
        assert_eq!(json, r#"{"step":"update-nodegroup","cluster":"prod","nodegroup":"ng","from":"1","to":2}"#);
        assert_eq!(
            serde_json::from_str::<Step>(&json).unwrap().describe(),
            "node group prod/ng: version 1 → version 2 (EKS replaces its nodes)"
        );
    }

    #[test]
    fn descriptions_round_trip() {
        assert_eq!(parse_description(&description(12)), Some(12));
        assert_eq!(parse_description("made by hand"), None);
        assert_eq!(digest(&[b"a", b"b"]), digest(&[b"a", b"b"]));
        assert_ne!(digest(&[b"ab"]), digest(&[b"a", b"b"]));
    }
}
