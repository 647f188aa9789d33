//! `push`: plan, apply and verify new launch-template versions over many templates and regions
//! at once (`rollback.rs` sets the defaults back).
//!
//! A new version is created with `SourceVersion` and only the fields that change: real EC2
//! starts the new version from the source and replaces only the top-level parameters a request
//! sets (EC2 API reference, CreateLaunchTemplateVersion), so block devices, network interfaces,
//! tags and every field this tool does not know are carried over by EC2 itself, including
//! fields added to EC2 after this tool was built. `MetadataOptions` is top-level, so when the hop
//! limit changes the whole source block is sent with it. The new version is then read back and
//! compared with the source, field by field; any difference besides the intended ones is an
//! error. Nothing is deleted or modified in place: the only other write is the default-version
//! pointer (`--set-default`, `rollback`). A client token derived from the request makes a
//! retried create idempotent.

use super::nodegroups::{self, Migrated, NodegroupUpdate};
use super::plan::{self, Action, Item, LatestVersion, PlanFile, PlanOptions, SourceVersion};
use super::select::{self, Selector, TemplateRef};
use super::{AwsError, Connection, ami, cluster};
use crate::translate::{self, ClusterInfo};
use aws_sdk_ec2::types::{
    LaunchTemplateInstanceMetadataOptionsRequest, RequestLaunchTemplateData, ResponseLaunchTemplateData,
};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;

#[derive(Debug, Clone, Default)]
pub enum ClusterSource {
    /// No cluster values: fine for `--target mng` / `karpenter`.
    #[default]
    None,
    /// EKS DescribeCluster in each region.
    Name(String),
    /// A `--cluster-info` file.
    Info(ClusterInfo),
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum AmiChoice {
    #[default]
    Keep,
    /// The newest (or `--ami-release`) AL2023 EKS AMI for the cluster's version.
    Auto,
    Id(String),
}

#[derive(Debug, Clone)]
pub struct PushOptions {
    /// Empty: the region of the AWS configuration.
    pub regions: Vec<String>,
    pub profile: Option<String>,
    pub selector: Selector,
    /// `$Default`, `$Latest` or a number.
    pub version: String,
    pub convert: translate::Options,
    pub cluster: ClusterSource,
    pub ami: AmiChoice,
    pub ami_release: Option<String>,
    pub ami_owner: String,
    pub hop_limit: Option<i32>,
    pub concurrency: usize,
    pub apply: bool,
    pub set_default: bool,
    pub update_nodegroups: bool,
}

impl Default for PushOptions {
    fn default() -> Self {
        PushOptions {
            regions: Vec::new(),
            profile: None,
            selector: Selector::default(),
            version: "$Default".into(),
            convert: translate::Options::default(),
            cluster: ClusterSource::None,
            ami: AmiChoice::Keep,
            ami_release: None,
            ami_owner: "amazon".into(),
            hop_limit: None,
            concurrency: 8,
            apply: false,
            set_default: false,
            update_nodegroups: false,
        }
    }
}

/// What applying one item did.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Outcome {
    pub new_version: Option<i64>,
    /// The new version was read back and matches the source apart from the planned changes.
    pub verified: bool,
    /// Fields that differ unexpectedly (`verified` is false).
    pub differences: Vec<String>,
    pub default_set: bool,
    pub error: Option<AwsError>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ItemResult {
    #[serde(flatten)]
    pub item: Item,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outcome: Option<Outcome>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PushReport {
    pub applied: bool,
    pub items: Vec<ItemResult>,
    pub nodegroups: Vec<NodegroupUpdate>,
    /// Failures that are not about one template (a region's listing, a cluster lookup).
    pub errors: Vec<AwsError>,
}

impl PushReport {
    /// Anything failed: an error item, a failed create or verification, a region error.
    pub fn failed(&self) -> bool {
        !self.errors.is_empty()
            || self.nodegroups.iter().any(|n| n.action == "error")
            || self.items.iter().any(|r| {
                r.item.action == Action::Error
                    || r.outcome.as_ref().is_some_and(|o| o.error.is_some() || (o.new_version.is_some() && !o.verified))
            })
    }

    pub fn plan_file(&self) -> PlanFile {
        PlanFile { format: plan::FORMAT.into(), items: self.items.iter().map(|r| r.item.clone()).collect() }
    }
}

/// Progress callback: `(done, total, what)`; the CLI draws a bar on a terminal.
pub type Progress = Arc<dyn Fn(usize, usize, &str) + Send + Sync>;

/// Plans every selected template and, with `apply`, creates, verifies and (with `set_default`)
/// promotes the new versions. Per-template failures are recorded and the others carry on.
pub async fn push(opts: &PushOptions, progress: Progress) -> PushReport {
    let mut report = PushReport { applied: opts.apply, ..Default::default() };
    let regions: Vec<Option<String>> =
        if opts.regions.is_empty() { vec![None] } else { opts.regions.iter().cloned().map(Some).collect() };
    let mut work: Vec<(Connection, Arc<PlanOptions>, TemplateRef, Option<String>)> = Vec::new();
    let mut conns: BTreeMap<String, (Connection, Option<String>)> = BTreeMap::new();
    for region in regions {
        let conn = match super::connect(region.as_deref(), opts.profile.as_deref()).await {
            Ok(c) => c,
            Err(e) => {
                report.errors.push(e);
                continue;
            }
        };
        let (info, cluster_name) = match &opts.cluster {
            ClusterSource::None => (ClusterInfo::default(), None),
            ClusterSource::Info(i) => (i.clone(), None),
            ClusterSource::Name(n) => match cluster::describe(&conn, n).await {
                Ok(i) => (i, Some(n.clone())),
                Err(e) => {
                    report.errors.push(e);
                    continue;
                }
            },
        };
        let templates = match select::select(&conn, &opts.selector).await {
            Ok(t) => t,
            Err(e) => {
                report.errors.push(e);
                continue;
            }
        };
        let popts = Arc::new(PlanOptions {
            convert: translate::Options { cluster: info.clone(), ..opts.convert.clone() },
            image_id: match &opts.ami {
                AmiChoice::Id(i) => Some(i.clone()),
                _ => None,
            },
            hop_limit: opts.hop_limit,
        });
        let kubernetes = info.kubernetes_version.clone();
        for t in templates {
            work.push((conn.clone(), popts.clone(), t, kubernetes.clone()));
        }
        conns.insert(conn.region.clone(), (conn, cluster_name));
    }

    // Plan, with bounded concurrency.
    let total = work.len();
    let auto = opts.ami == AmiChoice::Auto;
    let (owner, release) = (opts.ami_owner.clone(), opts.ami_release.clone());
    let version = opts.version.clone();
    let planned = bounded(work, opts.concurrency, progress.clone(), "plan", move |(conn, popts, t, kubernetes)| {
        let (owner, release, version) = (owner.clone(), release.clone(), version.clone());
        async move {
            let item = plan_one(
                &conn,
                &t,
                &version,
                &popts,
                auto.then_some((owner.as_str(), kubernetes.as_deref(), release.as_deref())),
            )
            .await;
            (format!("{} {}", t.id, t.name), item)
        }
    })
    .await;
    progress(total, total, "planned");
    report.items = planned.into_iter().map(|item| ItemResult { item, outcome: None }).collect();
    sort(&mut report.items);

    if opts.apply {
        apply_items(&mut report, opts, &conns, progress).await;
    }
    report
}

/// Applies a saved plan exactly: each template must be as it was when planned.
pub async fn apply_plan(plan: &PlanFile, opts: &PushOptions, progress: Progress) -> PushReport {
    let mut report = PushReport { applied: true, ..Default::default() };
    let mut conns: BTreeMap<String, (Connection, Option<String>)> = BTreeMap::new();
    for region in plan.items.iter().map(|i| i.region.clone()).collect::<std::collections::BTreeSet<_>>() {
        match super::connect(Some(&region), opts.profile.as_deref()).await {
            Ok(c) => {
                let name = match &opts.cluster {
                    ClusterSource::Name(n) => Some(n.clone()),
                    _ => None,
                };
                conns.insert(region, (c, name));
            }
            Err(e) => report.errors.push(e),
        }
    }
    report.items = plan.items.iter().cloned().map(|item| ItemResult { item, outcome: None }).collect();
    apply_items(&mut report, opts, &conns, progress).await;
    report
}

async fn apply_items(
    report: &mut PushReport,
    opts: &PushOptions,
    conns: &BTreeMap<String, (Connection, Option<String>)>,
    progress: Progress,
) {
    let work: Vec<(usize, Connection, Item)> = report
        .items
        .iter()
        .enumerate()
        .filter(|(_, r)| r.item.action == Action::Create)
        .filter_map(|(i, r)| Some((i, conns.get(&r.item.region)?.0.clone(), r.item.clone())))
        .collect();
    let set_default = opts.set_default;
    let done = bounded(work, opts.concurrency, progress.clone(), "apply", move |(i, conn, item)| async move {
        let what = format!("{} {}", item.template_id, item.template_name);
        let outcome = apply_one(&conn, &item, set_default).await;
        (what, (i, outcome))
    })
    .await;
    for (i, outcome) in done {
        if let Some(r) = report.items.get_mut(i) {
            r.outcome = Some(outcome);
        }
    }
    for r in &mut report.items {
        if r.item.action == Action::Create && r.outcome.is_none() {
            r.outcome = Some(Outcome {
                error: Some(AwsError::new(
                    "configuration",
                    "NoConnection",
                    format!("no connection to {}", r.item.region),
                )),
                ..Default::default()
            });
        }
    }
    if opts.update_nodegroups {
        for (conn, cluster_name) in conns.values() {
            let Some(cluster_name) = cluster_name else {
                report.errors.push(AwsError::new(
                    "eks:ListNodegroups",
                    "NoCluster",
                    "--update-nodegroups needs --cluster NAME",
                ));
                break;
            };
            let migrated: Vec<Migrated> = report
                .items
                .iter()
                .filter(|r| r.item.region == conn.region)
                .filter_map(|r| {
                    let o = r.outcome.as_ref()?;
                    (o.verified).then_some(Migrated {
                        template_id: r.item.template_id.clone(),
                        version: o.new_version?,
                        custom_ami: r.item.custom_ami,
                    })
                })
                .collect();
            if migrated.is_empty() {
                continue;
            }
            match nodegroups::update(conn, cluster_name, &migrated).await {
                Ok(mut u) => report.nodegroups.append(&mut u),
                Err(e) => report.errors.push(e),
            }
        }
    }
}

/// Runs `f` over `work` with at most `limit` in flight, reporting each completion.
async fn bounded<W, T, F, Fut>(work: Vec<W>, limit: usize, progress: Progress, phase: &'static str, f: F) -> Vec<T>
where
    W: Send + 'static,
    T: Send + 'static,
    F: Fn(W) -> Fut,
    Fut: std::future::Future<Output = (String, T)> + Send + 'static,
{
    let total = work.len();
    let gate = Arc::new(tokio::sync::Semaphore::new(limit.max(1)));
    let mut set = tokio::task::JoinSet::new();
    for (n, w) in work.into_iter().enumerate() {
        let fut = f(w);
        let gate = gate.clone();
        set.spawn(async move {
            let _permit = gate.acquire_owned().await;
            (n, fut.await)
        });
    }
    let mut out: Vec<(usize, T)> = Vec::with_capacity(total);
    let mut done = 0;
    while let Some(joined) = set.join_next().await {
        // A task that panicked is a bug; its item is missing from the result, never invented.
        if let Ok((n, (what, t))) = joined {
            done += 1;
            progress(done, total, &format!("{phase} {what}"));
            out.push((n, t));
        }
    }
    out.sort_by_key(|(n, _)| *n);
    out.into_iter().map(|(_, t)| t).collect()
}

fn sort(items: &mut [ItemResult]) {
    items.sort_by(|a, b| {
        (&a.item.region, &a.item.template_name, &a.item.template_id).cmp(&(
            &b.item.region,
            &b.item.template_name,
            &b.item.template_id,
        ))
    });
}

/// Everything EC2 returns about one version.
pub(crate) struct ReadVersion {
    pub(crate) number: i64,
    pub(crate) description: Option<String>,
    pub(crate) default: bool,
    pub(crate) data: ResponseLaunchTemplateData,
}

pub(crate) async fn read_versions(
    conn: &Connection,
    id: &str,
    versions: &[&str],
) -> Result<Vec<ReadVersion>, AwsError> {
    let out = conn
        .ec2
        .describe_launch_template_versions()
        .launch_template_id(id)
        .set_versions(Some(versions.iter().map(|v| v.to_string()).collect()))
        .send()
        .await
        .map_err(|e| AwsError::sdk("ec2:DescribeLaunchTemplateVersions", e))?;
    Ok(out
        .launch_template_versions()
        .iter()
        .map(|v| ReadVersion {
            number: v.version_number().unwrap_or(0),
            description: v.version_description().map(str::to_string),
            default: v.default_version().unwrap_or(false),
            data: v.launch_template_data().cloned().unwrap_or_else(|| ResponseLaunchTemplateData::builder().build()),
        })
        .collect())
}

fn digest_of(data: &ResponseLaunchTemplateData) -> String {
    // Debug redacts UserData (the SDK marks it sensitive), so it is added on its own.
    plan::digest(&[format!("{data:?}").as_bytes(), data.user_data().unwrap_or_default().as_bytes()])
}

fn hop_limit(data: &ResponseLaunchTemplateData) -> Option<i32> {
    data.metadata_options().and_then(|m| m.http_put_response_hop_limit())
}

async fn plan_one(
    conn: &Connection,
    t: &TemplateRef,
    version: &str,
    popts: &PlanOptions,
    auto_ami: Option<(&str, Option<&str>, Option<&str>)>,
) -> Item {
    let failed = |e: AwsError, number: i64| {
        let source = SourceVersion { number, ..Default::default() };
        let mut item = plan::plan_item(&conn.region, t, &source, None, &PlanOptions::default());
        item.action = Action::Error;
        item.reason = e.to_string();
        item
    };
    let read = match read_versions(conn, &t.id, &[version, "$Latest"]).await {
        Ok(r) => r,
        Err(e) => return failed(e, 0),
    };
    let chosen = match version {
        "$Default" => read.iter().find(|v| v.default),
        "$Latest" => read.iter().max_by_key(|v| v.number),
        n => read.iter().find(|v| n.parse() == Ok(v.number)),
    };
    let Some(src) = chosen else {
        return failed(
            AwsError::new(
                "ec2:DescribeLaunchTemplateVersions",
                "InvalidLaunchTemplateVersion.NotFound",
                format!("{} has no version {version}", t.id),
            ),
            0,
        );
    };
    let latest = read.iter().max_by_key(|v| v.number).filter(|l| l.number != src.number);
    let source = SourceVersion {
        number: src.number,
        user_data: src.data.user_data().map(str::to_string),
        image_id: src.data.image_id().map(str::to_string),
        hop_limit: hop_limit(&src.data),
        digest: digest_of(&src.data),
    };
    let latest = latest.map(|l| LatestVersion {
        number: l.number,
        description: l.description.clone(),
        user_data: l.data.user_data().map(str::to_string),
        image_id: l.data.image_id().map(str::to_string),
        hop_limit: hop_limit(&l.data),
    });
    let mut popts = popts.clone();
    if let Some((owner, kubernetes, release)) = auto_ami {
        let Some(kubernetes) = kubernetes else {
            return failed(
                AwsError::new(
                    "ami",
                    "NoKubernetesVersion",
                    "--ami auto needs the cluster's Kubernetes version: use --cluster NAME, or kubernetesVersion in --cluster-info",
                ),
                source.number,
            );
        };
        let Some(image) = source.image_id.as_deref() else {
            return failed(
                AwsError::new(
                    "ami",
                    "NoSourceImage",
                    "--ami auto: the template names no AMI, so its architecture is unknown; pass --ami ami-…",
                ),
                source.number,
            );
        };
        let found = match ami::architecture(conn, image).await {
            Ok(arch) => ami::find(conn, owner, kubernetes, &arch, release).await,
            Err(e) => Err(e),
        };
        match found {
            Ok((id, _name)) => popts.image_id = Some(id),
            Err(e) => return failed(e, source.number),
        }
    }
    plan::plan_item(&conn.region, t, &source, latest.as_ref(), &popts)
}

/// A stable client token: the same request retried is the same version (EC2 idempotency).
fn client_token(item: &Item) -> String {
    let token = plan::digest(&[
        item.template_id.as_bytes(),
        item.source_version.to_string().as_bytes(),
        item.user_data.as_deref().unwrap_or_default().as_bytes(),
        item.image_id.as_deref().unwrap_or_default().as_bytes(),
        item.hop_limit.map(|h| h.to_string()).unwrap_or_default().as_bytes(),
    ]);
    format!("eks-userdata-{token}")
}

async fn apply_one(conn: &Connection, item: &Item, set_default: bool) -> Outcome {
    let mut outcome = Outcome::default();
    match create(conn, item).await {
        Ok((number, source)) => {
            outcome.new_version = Some(number);
            match verify(conn, item, number, &source).await {
                Ok(diffs) => {
                    outcome.verified = diffs.is_empty();
                    outcome.differences = diffs;
                }
                Err(e) => outcome.error = Some(e),
            }
            if set_default && outcome.verified {
                match conn
                    .ec2
                    .modify_launch_template()
                    .launch_template_id(&item.template_id)
                    .default_version(number.to_string())
                    .send()
                    .await
                {
                    Ok(_) => outcome.default_set = true,
                    Err(e) => outcome.error = Some(AwsError::sdk("ec2:ModifyLaunchTemplate", e)),
                }
            }
        }
        Err(e) => outcome.error = Some(e),
    }
    outcome
}

/// Checks the template is as planned, then creates the version; returns its number and the
/// source data it was made from.
async fn create(conn: &Connection, item: &Item) -> Result<(i64, ResponseLaunchTemplateData), AwsError> {
    let read = read_versions(conn, &item.template_id, &[&item.source_version.to_string(), "$Latest"]).await?;
    let latest = read.iter().map(|v| v.number).max().unwrap_or(0);
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
    let mut data =
        RequestLaunchTemplateData::builder().set_user_data(item.user_data.clone()).set_image_id(item.image_id.clone());
    if let Some(h) = item.hop_limit {
        // MetadataOptions is one top-level parameter: EC2 replaces it whole, so carry the rest.
        let m = source.data.metadata_options();
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
        .client_token(client_token(item))
        .launch_template_data(data.build())
        .send()
        .await
        .map_err(|e| AwsError::sdk("ec2:CreateLaunchTemplateVersion", e))?;
    let number = out.launch_template_version().and_then(|v| v.version_number()).ok_or_else(|| {
        AwsError::new("ec2:CreateLaunchTemplateVersion", "NoVersionNumber", "EC2 returned no version number")
    })?;
    Ok((number, source.data))
}

/// The new version read back must equal the source with the planned changes; returns the
/// differing lines.
async fn verify(
    conn: &Connection,
    item: &Item,
    number: i64,
    source: &ResponseLaunchTemplateData,
) -> Result<Vec<String>, AwsError> {
    let read = read_versions(conn, &item.template_id, &[&number.to_string()]).await?;
    let Some(new) = read.into_iter().find(|v| v.number == number) else {
        return Ok(vec![format!("version {number} cannot be read back")]);
    };
    Ok(differences(&expected(source, item), &new.data))
}

pub(crate) fn expected(source: &ResponseLaunchTemplateData, item: &Item) -> ResponseLaunchTemplateData {
    let mut want = source.clone();
    if let Some(u) = &item.user_data {
        want.user_data = Some(u.clone());
    }
    if let Some(i) = &item.image_id {
        want.image_id = Some(i.clone());
    }
    if let Some(h) = item.hop_limit {
        let mut m = want
            .metadata_options
            .clone()
            .unwrap_or_else(|| aws_sdk_ec2::types::LaunchTemplateInstanceMetadataOptions::builder().build());
        m.http_put_response_hop_limit = Some(h);
        want.metadata_options = Some(m);
    }
    want
}

/// Lines of the debug rendering that differ (UserData compared on its own, as Debug redacts
/// it). The metadata options' `state` (`pending`/`applied`) describes EC2's rollout, not the
/// template, so it is not compared.
pub(crate) fn differences(want: &ResponseLaunchTemplateData, got: &ResponseLaunchTemplateData) -> Vec<String> {
    let normal = |d: &ResponseLaunchTemplateData| {
        let mut d = d.clone();
        if let Some(m) = d.metadata_options.as_mut() {
            m.state = None;
        }
        d
    };
    let (want, got) = (normal(want), normal(got));
    let mut out = Vec::new();
    if want.user_data != got.user_data {
        out.push("UserData: the new version's user data is not the planned one".to_string());
    }
    if want != got {
        let (a, b) = (format!("{want:#?}"), format!("{got:#?}"));
        for change in similar::TextDiff::from_lines(&a, &b).iter_all_changes() {
            match change.tag() {
                similar::ChangeTag::Delete => out.push(format!("- {}", change.value().trim_end())),
                similar::ChangeTag::Insert => out.push(format!("+ {}", change.value().trim_end())),
                similar::ChangeTag::Equal => {}
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_ec2::types::{
        LaunchTemplateBlockDeviceMapping, LaunchTemplateEbsBlockDevice, LaunchTemplateInstanceMetadataOptions,
    };

    fn data(user_data: &str, hop: i32) -> ResponseLaunchTemplateData {
        ResponseLaunchTemplateData::builder()
            .image_id("ami-1")
            .user_data(user_data)
            .block_device_mappings(
                LaunchTemplateBlockDeviceMapping::builder()
                    .device_name("/dev/xvda")
                    .ebs(LaunchTemplateEbsBlockDevice::builder().volume_size(100).build())
                    .build(),
            )
            .metadata_options(LaunchTemplateInstanceMetadataOptions::builder().http_put_response_hop_limit(hop).build())
            .build()
    }

    fn item() -> Item {
        let t = TemplateRef { id: "lt-1".into(), name: "n".into(), default_version: 1, latest_version: 1 };
        let mut i = plan::plan_item("r", &t, &SourceVersion::default(), None, &PlanOptions::default());
        i.user_data = Some("TkVX".into());
        i.hop_limit = Some(2);
        i
    }

    #[test]
    fn verification_accepts_exactly_the_planned_changes() {
        let src = data("T0xE", 1);
        let want = expected(&src, &item());
        assert!(differences(&want, &data("TkVX", 2)).is_empty());
        // A lost block device mapping, or user data that is not the planned one, is reported.
        let mut lost = data("TkVX", 2);
        lost.block_device_mappings = None;
        let d = differences(&want, &lost);
        assert!(d.iter().any(|l| l.contains("block_device_mappings")), "{d:?}");
        assert_eq!(
            differences(&want, &data("T0xE", 2))[0],
            "UserData: the new version's user data is not the planned one"
        );
    }

    #[test]
    fn client_tokens_are_stable_and_specific() {
        let a = item();
        let mut b = item();
        assert_eq!(client_token(&a), client_token(&b));
        b.user_data = Some("other".into());
        assert_ne!(client_token(&a), client_token(&b));
        assert!(client_token(&a).len() <= 64, "EC2's client token limit");
    }
}
