//! Taking one template's steps (`converge.rs`), in order, stopping at the first that fails so a
//! re-run finds exactly the rest missing. A new version is created with `SourceVersion` and only
//! the fields that change: EC2 starts it from the source and replaces only the top-level
//! parameters a request sets (EC2 API reference, CreateLaunchTemplateVersion), so block devices,
//! network interfaces, tags and fields added to EC2 after this tool was built are carried over by
//! EC2 itself. `MetadataOptions` is top-level, so when the hop limit changes the whole source
//! block is sent with it. The version is then read back (`verify.rs`); one that differs from the
//! plan is deleted at once, and if even that fails the report names it with the command that
//! deletes it. The default is never moved to a version that did not verify.

use super::nodegroups::{self, NodegroupUpdate};
use super::plan::{self, Item, Step};
use super::verify::{self, digest_of, read_versions};
use super::{AwsError, Connection};
use aws_sdk_ec2::types::{
    LaunchTemplateInstanceMetadataOptionsRequest, RequestLaunchTemplateData, ResponseLaunchTemplateData,
};
use serde::{Deserialize, Serialize};

/// A version that failed verification and could not be deleted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LeftBehind {
    pub version: i64,
    /// The AWS CLI command that deletes it.
    pub command: String,
}

/// What applying one item did.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Outcome {
    pub new_version: Option<i64>,
    /// The new version was read back and matches the source apart from the planned changes.
    pub verified: bool,
    /// Fields that differed (the version was then deleted, or is in `left_behind`).
    pub differences: Vec<String>,
    /// Versions deleted: an earlier run's broken version, or this run's if it did not verify.
    pub deleted: Vec<i64>,
    pub left_behind: Option<LeftBehind>,
    pub default_set: bool,
    pub nodegroups: Vec<NodegroupUpdate>,
    pub error: Option<AwsError>,
}

impl Outcome {
    pub fn failed(&self) -> bool {
        self.error.is_some() || self.left_behind.is_some() || self.nodegroups.iter().any(|n| n.action == "error")
    }
}

/// Takes `item`'s steps. `nonce` makes this run's client tokens its own: a retried request
/// within the run is one version, a re-run after a deleted version makes a new one.
pub async fn apply_one(conn: &Connection, item: &Item, nonce: u64) -> Outcome {
    let mut o = Outcome::default();
    if item.steps.is_empty() {
        return o;
    }
    let source = match unchanged_since_plan(conn, item).await {
        Ok(s) => s,
        Err(e) => {
            o.error = Some(e);
            return o;
        }
    };
    for step in &item.steps {
        let done = match step {
            Step::DeleteVersion { version } => match delete(conn, &item.template_id, *version).await {
                Ok(()) => {
                    o.deleted.push(*version);
                    Ok(())
                }
                Err(e) => Err(e),
            },
            Step::CreateVersion => create_and_verify(conn, item, &source, nonce, &mut o).await,
            Step::SetDefault { to, .. } => match to.or(o.new_version) {
                Some(v) => set_default(conn, &item.template_id, v).await.map(|()| o.default_set = true),
                None => Err(AwsError::new("plan", "NoVersion", "no verified version to make the default")),
            },
            Step::UpdateNodegroup { cluster, nodegroup, from, to } => match to.or(o.new_version) {
                Some(v) => match nodegroups::current_version(conn, cluster, nodegroup).await {
                    Ok(now) if now == *from => {
                        o.nodegroups.push(nodegroups::update(conn, cluster, nodegroup, &item.template_id, v).await);
                        Ok(())
                    }
                    Ok(now) => Err(AwsError::new(
                        "plan",
                        "NodegroupChanged",
                        format!(
                            "node group {cluster}/{nodegroup} moved since it was planned (now version {}, planned at {}); plan again",
                            now.as_deref().unwrap_or("none"),
                            from.as_deref().unwrap_or("none")
                        ),
                    )),
                    Err(e) => Err(e),
                },
                None => Err(AwsError::new("plan", "NoVersion", "no verified version for the node group")),
            },
        };
        if let Err(e) = done {
            o.error = Some(e);
            break;
        }
    }
    o
}

/// The template must be as planned (same latest version, same source data); returns the
/// source data the new version is made from.
async fn unchanged_since_plan(conn: &Connection, item: &Item) -> Result<ResponseLaunchTemplateData, AwsError> {
    let read =
        read_versions(conn, &item.template_id, &[&item.source_version.to_string(), "$Latest", "$Default"]).await?;
    let latest = read.iter().map(|v| v.number).max().unwrap_or(0);
    let default = read.iter().find(|v| v.default).map(|v| v.number);
    let Some(source) = read.into_iter().find(|v| v.number == item.source_version) else {
        return Err(AwsError::new(
            "plan",
            "SourceVersionGone",
            format!("version {} of {} no longer exists", item.source_version, item.template_id),
        ));
    };
    if latest != item.latest_version || digest_of(&source.data) != item.source_digest {
        return Err(AwsError::new(
            "plan",
            "TemplateChanged",
            format!(
                "{} changed since it was planned (latest version {latest}, planned at {}); plan again",
                item.template_id, item.latest_version
            ),
        ));
    }
    if default != Some(item.default_version) {
        return Err(AwsError::new(
            "plan",
            "TemplateChanged",
            format!(
                "{}'s default version moved since it was planned (now {}, planned at {}); plan again",
                item.template_id,
                default.map_or("none".to_string(), |d| d.to_string()),
                item.default_version
            ),
        ));
    }
    Ok(source.data)
}

async fn create_and_verify(
    conn: &Connection,
    item: &Item,
    source: &ResponseLaunchTemplateData,
    nonce: u64,
    o: &mut Outcome,
) -> Result<(), AwsError> {
    let number = create(conn, item, source, nonce).await?;
    o.new_version = Some(number);
    let checked = match read_versions(conn, &item.template_id, &[&number.to_string()]).await {
        Ok(read) => match read.into_iter().find(|v| v.number == number) {
            Some(new) => Ok(verify::differences(&verify::expected_for(source, item), &new.data)),
            None => Ok(vec![format!("version {number} cannot be read back")]),
        },
        Err(e) => Err(e),
    };
    let problem = match checked {
        Ok(d) if d.is_empty() => {
            o.verified = true;
            return Ok(());
        }
        Ok(d) => {
            o.differences = d;
            format!("version {number} does not match the plan (differences below)")
        }
        Err(e) => format!("version {number} could not be read back to verify it ({e})"),
    };
    // Never leave an unverified version behind: it would be one click from being the default.
    match delete(conn, &item.template_id, number).await {
        Ok(()) => {
            o.deleted.push(number);
            Err(AwsError::new(
                "verify",
                "VerificationFailed",
                format!("{problem}; it was deleted, nothing else changed"),
            ))
        }
        Err(e) => {
            o.left_behind = Some(LeftBehind {
                version: number,
                command: format!(
                    "aws ec2 delete-launch-template-versions --region {} --launch-template-id {} --versions {number}",
                    conn.region, item.template_id
                ),
            });
            Err(AwsError::new(
                "verify",
                "VerificationFailed",
                format!("{problem}; deleting it failed too ({e}): delete it before anyone makes it the default"),
            ))
        }
    }
}

/// A token for this request in this run (EC2 idempotency, at most 64 characters).
pub(crate) fn client_token(item: &Item, nonce: u64) -> String {
    let token = plan::digest(&[
        item.template_id.as_bytes(),
        item.source_version.to_string().as_bytes(),
        item.latest_version.to_string().as_bytes(),
        item.user_data.as_deref().unwrap_or_default().as_bytes(),
        item.image_id.as_deref().unwrap_or_default().as_bytes(),
        item.hop_limit.map(|h| h.to_string()).unwrap_or_default().as_bytes(),
        &nonce.to_le_bytes(),
    ]);
    format!("eks-userdata-{token}")
}

async fn create(
    conn: &Connection,
    item: &Item,
    source: &ResponseLaunchTemplateData,
    nonce: u64,
) -> Result<i64, AwsError> {
    let mut data =
        RequestLaunchTemplateData::builder().set_user_data(item.user_data.clone()).set_image_id(item.image_id.clone());
    if let Some(h) = item.hop_limit {
        // MetadataOptions is one top-level parameter: EC2 replaces it whole, so carry the rest.
        let m = source.metadata_options();
        data = data.metadata_options(
            LaunchTemplateInstanceMetadataOptionsRequest::builder()
                .set_http_tokens(m.and_then(|m| m.http_tokens()).cloned())
                .set_http_endpoint(m.and_then(|m| m.http_endpoint()).cloned())
                .set_http_protocol_ipv6(m.and_then(|m| m.http_protocol_ipv6()).cloned())
                .set_instance_metadata_tags(m.and_then(|m| m.instance_metadata_tags()).cloned())
                .http_put_response_hop_limit(h)
                .build(),
        );
    }
    let out = conn
        .ec2
        .create_launch_template_version()
        .launch_template_id(&item.template_id)
        .source_version(item.source_version.to_string())
        .version_description(plan::description(item.source_version))
        .client_token(client_token(item, nonce))
        .launch_template_data(data.build())
        .send()
        .await
        .map_err(|e| AwsError::sdk("ec2:CreateLaunchTemplateVersion", e))?;
    out.launch_template_version().and_then(|v| v.version_number()).ok_or_else(|| {
        AwsError::new("ec2:CreateLaunchTemplateVersion", "NoVersionNumber", "EC2 returned no version number")
    })
}

/// Deletes one version. EC2 answers 200 and lists the versions it could not delete, so that
/// list is read too.
async fn delete(conn: &Connection, template_id: &str, version: i64) -> Result<(), AwsError> {
    let out = conn
        .ec2
        .delete_launch_template_versions()
        .launch_template_id(template_id)
        .versions(version.to_string())
        .send()
        .await
        .map_err(|e| AwsError::sdk("ec2:DeleteLaunchTemplateVersions", e))?;
    if let Some(f) = out.unsuccessfully_deleted_launch_template_versions().first() {
        let (code, message) = f
            .response_error()
            .map(|r| {
                (
                    r.code().map_or("Unknown".to_string(), |c| c.as_str().to_string()),
                    r.message().unwrap_or_default().to_string(),
                )
            })
            .unwrap_or_else(|| ("Unknown".into(), String::new()));
        return Err(AwsError::new(
            "ec2:DeleteLaunchTemplateVersions",
            &code,
            format!("version {version} of {template_id} was not deleted: {message}"),
        ));
    }
    Ok(())
}

async fn set_default(conn: &Connection, template_id: &str, version: i64) -> Result<(), AwsError> {
    conn.ec2
        .modify_launch_template()
        .launch_template_id(template_id)
        .default_version(version.to_string())
        .send()
        .await
        .map(|_| ())
        .map_err(|e| AwsError::sdk("ec2:ModifyLaunchTemplate", e))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item() -> Item {
        plan::sample_item()
    }

    #[test]
    fn client_tokens_are_stable_within_a_run_and_new_across_runs() {
        let (a, mut b) = (item(), item());
        assert_eq!(client_token(&a, 7), client_token(&b, 7));
        assert_ne!(client_token(&a, 7), client_token(&a, 8), "a re-run is a new request");
        b.user_data = Some("other".into());
        assert_ne!(client_token(&a, 7), client_token(&b, 7));
        assert!(client_token(&a, 7).len() <= 64, "EC2's client token limit");
    }
}
