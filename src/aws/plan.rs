//! The plan of a `push`: per launch template, what the new version would change, decided
//! without writing anything (Terraform's plan/apply split). Only three fields ever change:
//! `UserData` (converted as `convert` does), and where asked `ImageId` and the IMDS
//! `HttpPutResponseHopLimit` (AL2023 wants IMDSv2, hop limit 2 for pods that use it: peers §4
//! rule 7). Everything here is pure, so the decisions are unit-tested without AWS.

use super::select::TemplateRef;
use crate::report::FileReport;
use crate::source::Source;
use crate::translate::{self, emit};
use crate::userdata::{Envelope, Limits};
use base64::Engine as _;
use serde::{Deserialize, Serialize};

/// Identifies the file format of `--plan-out`, so an old or foreign file is refused.
pub const FORMAT: &str = "eks-userdata/push-plan/v1";

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
    /// A new version will be created.
    Create,
    /// Nothing to do: already AL2023, or already migrated by an earlier run.
    Unchanged,
    /// Left alone on purpose (no user data).
    Skip,
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

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Item {
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

/// The template's latest version, to recognise an earlier run's output.
#[derive(Debug, Clone, Default)]
pub struct LatestVersion {
    pub number: i64,
    pub description: Option<String>,
    pub user_data: Option<String>,
    pub image_id: Option<String>,
    pub hop_limit: Option<i32>,
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

/// Decides what to do with one template version.
pub fn plan_item(
    region: &str,
    t: &TemplateRef,
    src: &SourceVersion,
    latest: Option<&LatestVersion>,
    opts: &PlanOptions,
) -> Item {
    let mut item = Item {
        region: region.to_string(),
        template_id: t.id.clone(),
        template_name: t.name.clone(),
        source_version: src.number,
        default_version: t.default_version,
        latest_version: t.latest_version,
        source_digest: src.digest.clone(),
        action: Action::Create,
        reason: String::new(),
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

    let new_bytes = if is_al2023(&env) {
        None
    } else {
        let conv =
            match translate::convert(&Source::new(name.clone(), raw.clone()), &opts.convert, emit::Format::Mime, &name)
            {
                Ok(c) => c,
                Err(e) => return with(item, Action::Error, &format!("cannot be converted: {e}")),
            };
        item.findings = findings(&conv.reports);
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
    // An earlier run made exactly this version from this source: re-running changes nothing.
    if let Some(l) = latest.filter(|l| l.description.as_deref().and_then(parse_description) == Some(src.number)) {
        let same_data = item.user_data.is_none() || l.user_data.as_deref().map(str::trim) == item.user_data.as_deref();
        let same_image = item.image_id.is_none() || l.image_id == item.image_id;
        let same_hop = item.hop_limit.is_none() || l.hop_limit == item.hop_limit;
        if same_data && same_image && same_hop {
            let reason = format!("already migrated: version {} was made from version {}", l.number, src.number);
            item.changes.clear();
            item.user_data = None;
            item.image_id = None;
            item.hop_limit = None;
            return with(item, Action::Unchanged, &reason);
        }
    }
    let fields: Vec<&str> = item.changes.iter().map(|c| c.field.as_str()).collect();
    let reason = format!("new version from version {}: {}", src.number, fields.join(", "));
    with(item, Action::Create, &reason)
}

fn with(mut item: Item, action: Action, reason: &str) -> Item {
    item.action = action;
    item.reason = reason.to_string();
    item
}

/// AL2023 user data already: a NodeConfig and no bootstrap.sh call (AL301's test). Converting
/// it again would wrap it once more, so it is left as it is.
fn is_al2023(env: &Envelope) -> bool {
    env.nodeconfig_parts().next().is_some() && crate::lint::rules::bootstrap_sh_call::calls(env).is_empty()
}

fn findings(reports: &[FileReport]) -> Vec<String> {
    reports
        .iter()
        .flat_map(|r| &r.findings)
        .filter(|f| f.diagnostic.severity >= crate::diagnostic::Severity::Warning)
        .map(|f| format!("{} {}: {}", f.diagnostic.severity, f.diagnostic.code, f.diagnostic.message))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::translate::ClusterInfo;

    fn tpl() -> TemplateRef {
        TemplateRef { id: "lt-1".into(), name: "web".into(), default_version: 3, latest_version: 4 }
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
    fn al2_user_data_becomes_a_new_version_and_a_rerun_is_unchanged() {
        let item = plan_item("eu-west-1", &tpl(), &src(AL2), None, &opts());
        assert_eq!(item.action, Action::Create, "{item:?}");
        assert!(
            item.diff.contains("-/etc/eks/bootstrap.sh") && item.diff.contains("+apiVersion: node.eks.aws/v1alpha1"),
            "{}",
            item.diff
        );
        assert_eq!(item.changes.len(), 1);

        // The latest version is the one an earlier run made from version 3.
        let latest = LatestVersion {
            number: 4,
            description: Some(description(3)),
            user_data: item.user_data.clone(),
            ..Default::default()
        };
        let again = plan_item("eu-west-1", &tpl(), &src(AL2), Some(&latest), &opts());
        assert_eq!(
            (again.action, again.reason.as_str()),
            (Action::Unchanged, "already migrated: version 4 was made from version 3")
        );

        // After `--set-default`, the source is the AL2023 version itself.
        let new = base64::engine::general_purpose::STANDARD.decode(item.user_data.unwrap()).unwrap();
        let mut s = src("");
        s.user_data = Some(base64::engine::general_purpose::STANDARD.encode(new));
        assert_eq!(plan_item("eu-west-1", &tpl(), &s, None, &opts()).action, Action::Unchanged);
    }

    #[test]
    fn image_and_hop_limit_changes_are_listed() {
        let o = PlanOptions { image_id: Some("ami-al2023".into()), hop_limit: Some(2), ..opts() };
        let item = plan_item("r", &tpl(), &src(AL2), None, &o);
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
        let item = plan_item("r", &tpl(), &src(AL2), None, &no_cluster);
        assert_eq!(item.action, Action::Error);
        assert!(item.findings.iter().any(|f| f.contains("CV408")), "{:?}", item.findings);
        assert_eq!(item.user_data, None);
        let mut empty = src("");
        empty.user_data = None;
        assert_eq!(plan_item("r", &tpl(), &empty, None, &opts()).action, Action::Skip);
        let mut bad = src("");
        bad.user_data = Some("not base64!".into());
        assert_eq!(plan_item("r", &tpl(), &bad, None, &opts()).action, Action::Error);
    }

    #[test]
    fn descriptions_round_trip() {
        assert_eq!(parse_description(&description(12)), Some(12));
        assert_eq!(parse_description("made by hand"), None);
        assert_eq!(digest(&[b"a", b"b"]), digest(&[b"a", b"b"]));
        assert_ne!(digest(&[b"ab"]), digest(&[b"a", b"b"]));
    }
}
