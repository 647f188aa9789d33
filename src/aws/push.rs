//! `push`: over many templates, regions and accounts at once, work out the state the flags ask
//! for (`converge.rs`), then take the missing steps (`apply.rs`) — `rollback.rs` sets the defaults
//! back. One bounded pool does the work of every account and region, so one progress display
//! and one summary cover the whole run.
//!
//! Order of work: credentials are resolved (`identity.rs`); each account and region lists its
//! templates (and, with `--update-nodegroups`, its node groups); each template is read, converted
//! and planned; with `--apply`, each plan's steps are taken. Per-template failures are recorded
//! and the others carry on.

use super::apply::{self, Outcome};
use super::converge::Existing;
use super::converge::{self, Want};
use super::identity::{self, Credentials, Identity};
use super::nodegroups::{self, NodegroupRef, NodegroupUpdate};
use super::owner::TagMarker;
use super::plan::{self, Action, Item, PlanFile, PlanOptions, SourceVersion};
use super::select::{self, Selector, TemplateRef};
use super::verify::{self, ReadVersion, digest_of, hop_limit, read_from, read_versions};
use super::{AwsError, Connection, ami, cluster};
use crate::translate::{self, ClusterInfo};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;

#[derive(Debug, Clone, Default)]
pub enum ClusterSource {
    /// No cluster values: fine for `--target mng` / `karpenter`.
    #[default]
    None,
    /// EKS DescribeCluster in each account and region.
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
    /// Whose credentials; each is a separate account (`identity::sources`).
    pub credentials: Vec<Credentials>,
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
    /// Push to templates that CloudFormation, eksctl, Terraform, Karpenter or EKS owns.
    pub include_owned: bool,
    /// Extra tags that mark a template as Terraform's (`.eks-userdata.toml`).
    pub terraform_tags: Vec<TagMarker>,
}

impl Default for PushOptions {
    fn default() -> Self {
        PushOptions {
            regions: Vec::new(),
            credentials: vec![Credentials::Default],
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
            include_owned: false,
            terraform_tags: Vec::new(),
        }
    }
}

impl PushOptions {
    fn want(&self) -> Want {
        Want {
            set_default: self.set_default,
            update_nodegroups: self.update_nodegroups,
            include_owned: self.include_owned,
        }
    }
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
    /// Every node group update started (or failed), from all items.
    pub nodegroups: Vec<NodegroupUpdate>,
    /// Failures that are not about one template (credentials, a region's listing, a cluster
    /// lookup).
    pub errors: Vec<AwsError>,
}

impl PushReport {
    /// Anything failed: an error item, a failed step, a region error.
    pub fn failed(&self) -> bool {
        !self.errors.is_empty()
            || self
                .items
                .iter()
                .any(|r| r.item.action == Action::Error || r.outcome.as_ref().is_some_and(Outcome::failed))
    }

    pub fn plan_file(&self) -> PlanFile {
        PlanFile { format: plan::FORMAT.into(), items: self.items.iter().map(|r| r.item.clone()).collect() }
    }
}

/// Progress callback: `(done, total, what)`; the CLI draws a bar on a terminal.
pub type Progress = Arc<dyn Fn(usize, usize, &str) + Send + Sync>;

/// An account and region.
type Place = (String, String);

/// What one account and region holds for the plan.
struct Inventory {
    conn: Connection,
    info: ClusterInfo,
    cluster_name: Option<String>,
    templates: Vec<TemplateRef>,
    nodegroups: Vec<NodegroupRef>,
}

/// Plans every selected template in every account and region and, with `apply`, takes the
/// missing steps.
pub async fn push(opts: &PushOptions, progress: Progress) -> PushReport {
    let mut report = PushReport { applied: opts.apply, ..Default::default() };
    let identities =
        resolve(&opts.credentials, opts.regions.first().map(String::as_str), opts.concurrency, &mut report).await;
    let regions = distinct_regions(&opts.regions);
    let places: Vec<Connection> =
        identities.iter().flat_map(|id| regions.iter().map(move |r| id.connection(r.as_deref()))).collect();

    // Each account and region: cluster, templates, node groups.
    let cluster = opts.cluster.clone();
    let (selector, want_ngs) = (opts.selector.clone(), opts.update_nodegroups);
    let listed = bounded(places, opts.concurrency, progress.clone(), "list", move |conn| {
        let (cluster, selector) = (cluster.clone(), selector.clone());
        async move {
            let what = format!("{} {}", conn.account, conn.region);
            (what, inventory(conn, &cluster, &selector, want_ngs).await)
        }
    })
    .await;

    let mut work = Vec::new();
    let mut conns: BTreeMap<Place, Connection> = BTreeMap::new();
    for inv in listed {
        let inv = match inv {
            Some(Ok(i)) => i,
            Some(Err(e)) => {
                report.errors.push(e);
                continue;
            }
            None => {
                report.errors.push(panicked("listing an account and region"));
                continue;
            }
        };
        let popts = Arc::new(PlanOptions {
            convert: translate::Options { cluster: inv.info.clone(), ..opts.convert.clone() },
            image_id: match &opts.ami {
                AmiChoice::Id(i) => Some(i.clone()),
                _ => None,
            },
            hop_limit: opts.hop_limit,
        });
        let ngs = Arc::new(inv.nodegroups);
        for t in inv.templates {
            work.push((inv.conn.clone(), popts.clone(), t, inv.info.kubernetes_version.clone(), ngs.clone()));
        }
        if want_ngs && inv.cluster_name.is_none() {
            report.errors.push(AwsError::new(
                "eks:ListNodegroups",
                "NoCluster",
                "--update-nodegroups needs --cluster NAME",
            ));
        }
        conns.insert((inv.conn.account.clone(), inv.conn.region.clone()), inv.conn);
    }

    // Plan, with bounded concurrency.
    let total = work.len();
    let listed_templates: Vec<(String, String, TemplateRef)> =
        work.iter().map(|(c, _, t, _, _)| (c.account.clone(), c.region.clone(), t.clone())).collect();
    let auto = opts.ami == AmiChoice::Auto;
    let (owner, release) = (opts.ami_owner.clone(), opts.ami_release.clone());
    let version = opts.version.clone();
    let (want, terraform_tags) = (opts.want(), Arc::new(opts.terraform_tags.clone()));
    let planned =
        bounded(work, opts.concurrency, progress.clone(), "plan", move |(conn, popts, t, kubernetes, ngs)| {
            let (owner, release, version, terraform_tags) =
                (owner.clone(), release.clone(), version.clone(), terraform_tags.clone());
            async move {
                let ami = auto.then_some((owner.as_str(), kubernetes.as_deref(), release.as_deref()));
                let item = plan_one(&conn, &t, &version, &popts, ami, (&ngs, &terraform_tags), want).await;
                (format!("{} {}", t.id, t.name), item)
            }
        })
        .await;
    progress(total, total, "planned");
    report.items = planned
        .into_iter()
        .zip(listed_templates)
        .map(|(item, (account, region, t))| {
            let item = item.unwrap_or_else(|| {
                let mut i = plan::plan_item(&account, &region, &t, &SourceVersion::default(), &PlanOptions::default());
                i.action = Action::Error;
                i.reason = panicked("planning this template").to_string();
                i
            });
            ItemResult { item, outcome: None }
        })
        .collect();
    sort(&mut report.items);

    if opts.apply {
        apply_items(&mut report, opts, &conns, progress).await;
    }
    report
}

/// Applies a saved plan exactly: each template must be as it was when planned, and reached with
/// credentials for the account it was planned in.
pub async fn apply_plan(plan: &PlanFile, opts: &PushOptions, progress: Progress) -> PushReport {
    let mut report = PushReport { applied: true, ..Default::default() };
    let first = plan.items.first().map(|i| i.region.as_str());
    let identities = resolve(&opts.credentials, first, opts.concurrency, &mut report).await;
    let by_account: BTreeMap<&str, &Identity> = identities.iter().map(|i| (i.account.as_str(), i)).collect();
    let mut conns: BTreeMap<Place, Connection> = BTreeMap::new();
    for i in &plan.items {
        let key = (i.account.clone(), i.region.clone());
        if let (false, Some(id)) = (conns.contains_key(&key), by_account.get(i.account.as_str())) {
            conns.insert(key, id.connection(Some(&i.region)));
        }
    }
    report.items = plan.items.iter().cloned().map(|item| ItemResult { item, outcome: None }).collect();
    let reached: Vec<&str> = by_account.keys().copied().collect();
    for r in &mut report.items {
        if !r.item.steps.is_empty() && !by_account.contains_key(r.item.account.as_str()) {
            r.outcome = Some(Outcome {
                error: Some(AwsError::new(
                    "plan",
                    "WrongAccount",
                    format!(
                        "planned in account {}, but the credentials given reach {}: pass the --profile or --assume-role the plan was made with",
                        r.item.account,
                        if reached.is_empty() {
                            "no account".to_string()
                        } else {
                            format!("account {}", reached.join(", "))
                        }
                    ),
                )),
                ..Default::default()
            });
        }
    }
    apply_items(&mut report, opts, &conns, progress).await;
    report
}

/// The `--region`s, each once (a repeated one would plan every template twice); `[None]` for the
/// configured region.
pub(crate) fn distinct_regions(regions: &[String]) -> Vec<Option<String>> {
    let mut out: Vec<Option<String>> = Vec::new();
    for r in regions {
        if !out.iter().any(|o| o.as_deref() == Some(r.as_str())) {
            out.push(Some(r.clone()));
        }
    }
    if out.is_empty() {
        out.push(None);
    }
    out
}

/// Resolves every source of credentials (at most `limit` at once); failures go to the report.
async fn resolve(creds: &[Credentials], region: Option<&str>, limit: usize, report: &mut PushReport) -> Vec<Identity> {
    let region = region.map(str::to_string);
    let quiet: Progress = Arc::new(|_, _, _| {});
    let resolved = bounded(creds.to_vec(), limit, quiet, "credentials", move |c| {
        let region = region.clone();
        async move { (c.to_string(), identity::resolve(&c, region.as_deref()).await) }
    })
    .await;
    let mut out: Vec<Identity> = Vec::new();
    for r in resolved {
        match r.unwrap_or_else(|| Err(panicked("resolving credentials"))) {
            // Two sources that reach one account would plan every template twice.
            Ok(id) if out.iter().any(|o| o.account == id.account) => report.errors.push(AwsError::new(
                "configuration",
                "DuplicateAccount",
                format!(
                    "{} reaches account {}, which another source reaches too: it is used once",
                    id.source, id.account
                ),
            )),
            Ok(id) => out.push(id),
            Err(e) => report.errors.push(e),
        }
    }
    out
}

async fn inventory(
    conn: Connection,
    cluster_source: &ClusterSource,
    selector: &Selector,
    want_ngs: bool,
) -> Result<Inventory, AwsError> {
    let (info, cluster_name) = match cluster_source {
        ClusterSource::None => (ClusterInfo::default(), None),
        ClusterSource::Info(i) => (i.clone(), None),
        ClusterSource::Name(n) => (cluster::describe(&conn, n).await?, Some(n.clone())),
    };
    let templates = select::select(&conn, selector).await?;
    let nodegroups = match (&cluster_name, want_ngs) {
        (Some(c), true) => nodegroups::list(&conn, c).await?,
        _ => Vec::new(),
    };
    Ok(Inventory { conn, info, cluster_name, templates, nodegroups })
}

async fn apply_items(
    report: &mut PushReport,
    opts: &PushOptions,
    conns: &BTreeMap<Place, Connection>,
    progress: Progress,
) {
    let work: Vec<(usize, Connection, Item)> = report
        .items
        .iter()
        .enumerate()
        .filter(|(_, r)| !r.item.steps.is_empty() && r.outcome.is_none())
        .filter_map(|(i, r)| {
            Some((i, conns.get(&(r.item.account.clone(), r.item.region.clone()))?.clone(), r.item.clone()))
        })
        .collect();
    let nonce = run_nonce();
    let done = bounded(work, opts.concurrency, progress.clone(), "apply", move |(i, conn, item)| async move {
        let what = format!("{} {}", item.template_id, item.template_name);
        (what, (i, apply::apply_one(&conn, &item, nonce).await))
    })
    .await;
    for (i, outcome) in done.into_iter().flatten() {
        if let Some(r) = report.items.get_mut(i) {
            r.outcome = Some(outcome);
        }
    }
    for r in &mut report.items {
        if !r.item.steps.is_empty() && r.outcome.is_none() {
            let place = (r.item.account.clone(), r.item.region.clone());
            let error = if conns.contains_key(&place) {
                panicked("taking this template's steps")
            } else {
                AwsError::new(
                    "configuration",
                    "NoConnection",
                    format!("no connection to account {} in {}", r.item.account, r.item.region),
                )
            };
            r.outcome = Some(Outcome { error: Some(error), ..Default::default() });
        }
    }
    report.nodegroups =
        report.items.iter().filter_map(|r| r.outcome.as_ref()).flat_map(|o| o.nodegroups.iter().cloned()).collect();
}

/// This run's nonce for client tokens: different for every run, the same for every retry in it.
fn run_nonce() -> u64 {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    u64::try_from(nanos % u128::from(u64::MAX)).unwrap_or(0) ^ u64::from(std::process::id()).rotate_left(32)
}

/// The error for a task that panicked: a bug, reported against its item instead of dropping it.
fn panicked(what: &str) -> AwsError {
    AwsError::new("internal", "Panic", format!("{what} failed inside eks-userdata (a bug; please report it)"))
}

/// Runs `f` over `work` with at most `limit` in flight, reporting each completion. The results
/// are in `work`'s order; `None` where a task panicked.
pub(crate) async fn bounded<W, T, F, Fut>(
    work: Vec<W>,
    limit: usize,
    progress: Progress,
    phase: &'static str,
    f: F,
) -> Vec<Option<T>>
where
    W: Send + 'static,
    T: Send + 'static,
    F: Fn(W) -> Fut,
    Fut: std::future::Future<Output = (String, T)> + Send + 'static,
{
    let total = work.len();
    let mut slots: Vec<Option<T>> = std::iter::repeat_with(|| None).take(total).collect();
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
    let mut done = 0;
    while let Some(joined) = set.join_next().await {
        done += 1;
        if let Ok((n, (what, t))) = joined {
            progress(done, total, &format!("{phase} {what}"));
            if let Some(slot) = slots.get_mut(n) {
                *slot = Some(t);
            }
        }
    }
    slots
}

fn sort(items: &mut [ItemResult]) {
    items.sort_by(|a, b| {
        let key = |r: &ItemResult| {
            (r.item.account.clone(), r.item.region.clone(), r.item.template_name.clone(), r.item.template_id.clone())
        };
        key(a).cmp(&key(b))
    });
}

async fn plan_one(
    conn: &Connection,
    t: &TemplateRef,
    version: &str,
    popts: &PlanOptions,
    auto_ami: Option<(&str, Option<&str>, Option<&str>)>,
    (nodegroups, terraform_tags): (&[NodegroupRef], &[TagMarker]),
    want: Want,
) -> Item {
    let failed = |e: AwsError, number: i64| {
        let source = SourceVersion { number, ..Default::default() };
        let mut item = plan::plan_item(&conn.account, &conn.region, t, &source, &PlanOptions::default());
        item.action = Action::Error;
        item.reason = e.to_string();
        item
    };
    let read = match read_versions(conn, &t.id, &[version, "$Latest", "$Default"]).await {
        Ok(r) => r,
        Err(e) => return failed(e, 0),
    };
    let chosen = match version {
        "$Default" => read.iter().find(|v| v.default),
        "$Latest" => read.iter().max_by_key(|v| v.number),
        n => read.iter().find(|v| n.parse() == Ok(v.number)),
    };
    let Some(chosen) = chosen.cloned() else {
        return failed(
            AwsError::new(
                "ec2:DescribeLaunchTemplateVersions",
                "InvalidLaunchTemplateVersion.NotFound",
                format!("{} has no version {version}", t.id),
            ),
            0,
        );
    };
    let (latest, default) = (
        read.iter().map(|v| v.number).max().unwrap_or(chosen.number),
        read.iter().find(|v| v.default).map_or(t.default_version, |v| v.number),
    );
    let found = match source_and_candidates(conn, &t.id, chosen, &read, latest).await {
        Ok(f) => f,
        Err(e) => return failed(e, 0),
    };
    let src = &found.source;
    let source = SourceVersion {
        number: src.number,
        user_data: src.data.user_data().map(str::to_string),
        image_id: src.data.image_id().map(str::to_string),
        hop_limit: hop_limit(&src.data),
        digest: digest_of(&src.data),
    };
    let mut popts = popts.clone();
    if let Some((owner, kubernetes, release)) = auto_ami {
        match auto_image(conn, owner, kubernetes, release, source.image_id.as_deref()).await {
            Ok(id) => popts.image_id = Some(id),
            Err(e) => return failed(e, source.number),
        }
    }
    let mut item = plan::plan_item(&conn.account, &conn.region, t, &source, &popts);
    // The template as listed may be older than what was just read.
    item.latest_version = latest;
    item.default_version = default;
    item.owner = t.owner(terraform_tags);
    item.notes.extend(found.notes);
    let earlier: Vec<Existing> = found.newer.iter().filter_map(|v| verify::existing(src, v, &item)).collect();
    let mine: Vec<&NodegroupRef> = nodegroups.iter().filter(|n| n.template_id == t.id).collect();
    let item = converge::converge(item, &earlier, &mine, want);
    if matches!(item.action, Action::Create | Action::Update) {
        // A person's later version is not what the AL2023 version is made from: say so.
        let theirs: Vec<String> =
            found.newer.iter().filter(|v| verify::made_from(v).is_none()).map(|v| v.number.to_string()).collect();
        if !theirs.is_empty() {
            let mut item = item;
            item.notes.push(format!(
                "version {} is newer than version {} and was not made by eks-userdata: the AL2023 version is made from version {} without its changes (--version N converts another version)",
                theirs.join(", "),
                item.source_version,
                item.source_version
            ));
            return item;
        }
    }
    item
}

/// The version to convert and the versions after it that an earlier run may have made.
struct Found {
    source: ReadVersion,
    newer: Vec<ReadVersion>,
    notes: Vec<String>,
}

/// Usually the chosen version is the source. When it is itself a version an earlier run made
/// (after `--set-default`, `$Default` is), it is checked against the version it was made from:
/// if it verifies, it stands; if not, that older version is converted again and the broken one
/// becomes one of the candidates, to be replaced and deleted.
async fn source_and_candidates(
    conn: &Connection,
    id: &str,
    chosen: ReadVersion,
    read: &[ReadVersion],
    latest: i64,
) -> Result<Found, AwsError> {
    let mut notes = Vec::new();
    let mut source = chosen;
    if let Some(origin) = verify::made_from(&source).filter(|n| *n < source.number)
        && let Some(o) = read_versions(conn, id, &[&origin.to_string()]).await?.into_iter().next()
        && !verify::faithful(&o, &source)
    {
        notes.push(format!(
            "version {} was made by eks-userdata from version {origin} but fails verification: version {origin} is converted again",
            source.number
        ));
        source = o;
    }
    // Versions after the source: from what was read, or (more than one) all of them.
    let newer: Vec<ReadVersion> = if latest > source.number + 1 {
        read_from(conn, id, source.number + 1).await?
    } else {
        read.iter().filter(|v| v.number > source.number).take(1).cloned().collect()
    };
    Ok(Found { source, newer, notes })
}

/// `--ami auto`: the AL2023 EKS AMI for the cluster's Kubernetes version and the template's
/// architecture.
async fn auto_image(
    conn: &Connection,
    owner: &str,
    kubernetes: Option<&str>,
    release: Option<&str>,
    image: Option<&str>,
) -> Result<String, AwsError> {
    let Some(kubernetes) = kubernetes else {
        return Err(AwsError::new(
            "ami",
            "NoKubernetesVersion",
            "--ami auto needs the cluster's Kubernetes version: use --cluster NAME, or kubernetesVersion in --cluster-info",
        ));
    };
    let Some(image) = image else {
        return Err(AwsError::new(
            "ami",
            "NoSourceImage",
            "--ami auto: the template names no AMI, so its architecture is unknown; pass --ami ami-…",
        ));
    };
    let arch = ami::architecture(conn, image).await?;
    Ok(ami::find(conn, owner, kubernetes, &arch, release).await?.0)
}
