//! The binary's glue for `cluster-info`, `push`, `rollback` and `preflight` (built with `--features aws`):
//! command line → library options, progress on standard error, report on standard output,
//! exit code (0 done; 1 something failed or was left alone with an error; 2 could not run).

use crate::cli::{AwsArgs, ClusterInfoArgs, PushArgs, PushFormatArg, RollbackArgs, SelectArgs};
use crate::{EXIT_ERROR, EXIT_FINDINGS, target};
use anyhow::Context as _;
use eks_userdata::aws::identity::{self, Credentials};
use eks_userdata::aws::owner::TagMarker;
use eks_userdata::aws::{self, output, plan::PlanFile, push, rollback, select::Selector};
use eks_userdata::progress::Progress;
use eks_userdata::translate::{self, ClusterInfo, emit};
use std::io::{IsTerminal, Write};
use std::path::Path;
use std::sync::Arc;

fn selector(s: &SelectArgs) -> Selector {
    Selector { ids: s.ids.clone(), names: s.names.clone(), tags: s.tags.clone(), all: s.all }
}

fn read_plan(path: &str) -> anyhow::Result<PlanFile> {
    let text = std::fs::read_to_string(path).with_context(|| format!("{path}: cannot read the plan"))?;
    let plan: PlanFile = serde_json::from_str(&text).with_context(|| format!("{path}: not a push plan"))?;
    anyhow::ensure!(
        plan.format == aws::plan::FORMAT,
        "{path}: plan format `{}`, expected `{}`; plan again with this version",
        plan.format,
        aws::plan::FORMAT
    );
    Ok(plan)
}

/// The sources of credentials the flags name; `None` after saying why they cannot be used.
fn credentials(a: &AwsArgs) -> anyhow::Result<Option<Vec<Credentials>>> {
    let mut roles = a.assume_roles.clone();
    let mut problem = None;
    if let Some(bad) = a.assume_roles.iter().find(|r| !identity::is_role_arn(r)) {
        problem = Some(format!("--assume-role `{bad}` is not an IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME)"));
    } else if let Some(path) = &a.assume_role_file {
        let text = std::fs::read_to_string(path).with_context(|| format!("{path}: cannot read the role list"))?;
        match identity::parse_role_file(path, &text) {
            Ok(mut r) => roles.append(&mut r),
            Err(e) => problem = Some(e),
        }
    }
    let sources = match problem {
        Some(p) => Err(p),
        None => identity::sources(&a.profiles, &roles),
    };
    match sources {
        Ok(s) => Ok(Some(s)),
        Err(e) => {
            eprintln!("eks-userdata: error: {e}");
            Ok(None)
        }
    }
}

/// `[push] terraform-tags` from the nearest `.eks-userdata.toml` above the current directory.
fn terraform_tags() -> anyhow::Result<Vec<TagMarker>> {
    let here = std::env::current_dir()?.join("-");
    let config = eks_userdata::config::Discovery::default().for_file(&here)?;
    Ok(config.map(|c| c.terraform_tags.iter().filter_map(|t| TagMarker::parse(t)).collect()).unwrap_or_default())
}

/// Progress on standard error: a bar on a terminal, plain lines otherwise (CI logs, pipes).
fn stderr_progress() -> Arc<Progress<std::io::Stderr>> {
    Arc::new(Progress::new(std::io::stderr(), std::io::stderr().is_terminal()))
}

fn progress() -> push::Progress {
    let p = stderr_progress();
    Arc::new(move |done, total, what| {
        // The plan's own count is the report's first line; a log needs no line for it.
        if done < total || what != "planned" {
            p.bar(done, total, what);
        }
        if done == total {
            p.finish();
        }
    })
}

pub fn cluster_info(args: ClusterInfoArgs) -> anyhow::Result<u8> {
    let region = args.aws.regions.first().cloned();
    let Some(creds) = credentials(&args.aws)? else { return Ok(EXIT_ERROR) };
    let Ok([creds]) = <[Credentials; 1]>::try_from(creds) else {
        eprintln!("eks-userdata: error: cluster-info reads one cluster: give at most one --profile or --assume-role");
        return Ok(EXIT_ERROR);
    };
    let result = aws::block_on(async {
        let id = identity::resolve(&creds, region.as_deref()).await?;
        aws::cluster::describe(&id.connection(region.as_deref()), &args.cluster).await
    })?;
    let info = match result {
        Ok(i) => i,
        Err(e) => {
            eprintln!("eks-userdata: error: {e}");
            return Ok(EXIT_ERROR);
        }
    };
    let text = format!("# eks-userdata cluster-info {} (EKS DescribeCluster)\n{}", args.cluster, info.to_yaml());
    match &args.output {
        Some(p) => {
            emit::write_atomic(Path::new(p), text.as_bytes(), args.force)?;
        }
        None => print!("{text}"),
    }
    Ok(0)
}

pub fn push_cmd(args: PushArgs) -> anyhow::Result<u8> {
    let sel = selector(&args.select);
    if args.plan.is_none() && sel.is_empty() {
        eprintln!(
            "eks-userdata: error: name the launch templates with --id, --name or --tag, or pass --all for every template in the region"
        );
        return Ok(EXIT_ERROR);
    }
    if args.update_nodegroups && args.cluster.is_none() && args.plan.is_none() {
        eprintln!("eks-userdata: error: --update-nodegroups needs --cluster NAME (the node groups are read from it)");
        return Ok(EXIT_ERROR);
    }
    let Some(creds) = credentials(&args.aws)? else { return Ok(EXIT_ERROR) };
    let cluster = match (&args.cluster, &args.cluster_info) {
        (Some(n), _) => push::ClusterSource::Name(n.clone()),
        (None, Some(path)) => {
            let text = std::fs::read_to_string(path).with_context(|| format!("{path}: cannot read"))?;
            push::ClusterSource::Info(
                ClusterInfo::parse(&text).with_context(|| format!("{path}: not a cluster-info file"))?,
            )
        }
        (None, None) => push::ClusterSource::None,
    };
    let ami = match args.ami.as_deref() {
        None => push::AmiChoice::Keep,
        Some("auto") => push::AmiChoice::Auto,
        Some(id) if id.starts_with("ami-") => push::AmiChoice::Id(id.to_string()),
        Some(other) => {
            eprintln!("eks-userdata: error: --ami `{other}`: use `auto` or an AMI id (ami-…)");
            return Ok(EXIT_ERROR);
        }
    };
    let opts = push::PushOptions {
        regions: args.aws.regions.clone(),
        credentials: creds,
        selector: sel,
        version: args.version.clone(),
        convert: translate::Options {
            target: target(args.target),
            keep_map_semantics: args.keep_map_semantics,
            ..Default::default()
        },
        cluster,
        ami,
        ami_release: args.ami_release.clone(),
        ami_owner: args.ami_owner.clone(),
        hop_limit: args.hop_limit,
        concurrency: usize::from(args.concurrency),
        apply: args.apply,
        set_default: args.set_default,
        update_nodegroups: args.update_nodegroups,
        include_owned: args.include_owned,
        terraform_tags: terraform_tags()?,
    };
    let report = match &args.plan {
        Some(path) => {
            let plan = read_plan(path)?;
            aws::block_on(push::apply_plan(&plan, &opts, progress()))?
        }
        None => aws::block_on(push::push(&opts, progress()))?,
    };
    if let Some(path) = &args.plan_out {
        let json = serde_json::to_string_pretty(&report.plan_file())? + "\n";
        emit::write_atomic(Path::new(path), json.as_bytes(), true)?;
    }
    match args.format {
        PushFormatArg::Text => print!("{}", output::push_text(&report)),
        PushFormatArg::Json => println!("{}", serde_json::to_string_pretty(&report)?),
    }
    Ok(if report.failed() { EXIT_FINDINGS } else { 0 })
}

pub fn rollback_cmd(args: RollbackArgs) -> anyhow::Result<u8> {
    let sel = selector(&args.select);
    let plan = args.plan.as_deref().map(read_plan).transpose()?;
    if plan.is_none() && sel.is_empty() {
        eprintln!(
            "eks-userdata: error: name the launch templates with --id, --name or --tag, or --all, or give --plan FILE"
        );
        return Ok(EXIT_ERROR);
    }
    let Some(creds) = credentials(&args.aws)? else { return Ok(EXIT_ERROR) };
    let opts = rollback::RollbackOptions { regions: args.aws.regions.clone(), credentials: creds, selector: sel, plan };
    let (results, errors) = aws::block_on(rollback::rollback(&opts))?;
    match args.format {
        PushFormatArg::Text => print!("{}", output::rollback_text(&results, &errors)),
        PushFormatArg::Json => {
            println!("{}", serde_json::to_string_pretty(&serde_json::json!({ "results": results, "errors": errors }))?)
        }
    }
    let failed = !errors.is_empty() || results.iter().any(|r| r.action == "error");
    Ok(if failed { EXIT_FINDINGS } else { 0 })
}

/// `preflight`: reads what it can (the Kubernetes API unless `--no-kubernetes`; EKS and EC2 with
/// `--cluster`), runs every check, prints the report; exit 1 on an error finding, 2 when nothing
/// could be read.
pub fn preflight_cmd(args: crate::cli::PreflightArgs) -> anyhow::Result<u8> {
    use eks_userdata::preflight::{self, inventory::Inventory, output};
    let result = aws::block_on(async {
        let mut inv = Inventory::default();
        let mut problems = Vec::new();
        if !args.no_kubernetes {
            let kubeconfig = args.access.kube.kubeconfig.as_deref().map(Path::new);
            match preflight::kube::client(kubeconfig, args.access.kube.context.as_deref(), true).await {
                Ok(client) => match preflight::kube::read(&client).await {
                    Ok(k) => inv.kubernetes = Some(k),
                    Err(e) => problems.push(e.to_string()),
                },
                // No kubeconfig at all is a normal AWS-only run; a broken one is said.
                Err(e) if args.access.kube.kubeconfig.is_some() || args.access.kube.context.is_some() => {
                    problems.push(e.to_string())
                }
                Err(e) => eprintln!("eks-userdata: note: no Kubernetes checks ({e})"),
            }
        }
        if let Some(cluster) = &args.cluster {
            match aws::connect(args.access.region.as_deref(), args.access.profile.as_deref()).await {
                Ok(conn) => match preflight::eks::read(&conn, cluster).await {
                    Ok(a) => inv.aws = Some(a),
                    Err(e) => problems.push(e.to_string()),
                },
                Err(e) => problems.push(e.to_string()),
            }
        }
        (inv, problems)
    })?;
    let (inv, problems) = result;
    for p in &problems {
        eprintln!("eks-userdata: error: {p}");
    }
    if inv.kubernetes.is_none() && inv.aws.is_none() {
        eprintln!(
            "eks-userdata: error: nothing to check: give a kubeconfig (--kubeconfig, --context) and/or --cluster with AWS credentials"
        );
        return Ok(EXIT_ERROR);
    }
    let report = preflight::run(&inv);
    let text = match args.format {
        crate::cli::PreflightFormatArg::Text => output::text::render(&report),
        crate::cli::PreflightFormatArg::Json => format!("{:#}\n", output::json::value(&report)),
        crate::cli::PreflightFormatArg::Sarif => format!("{:#}\n", output::sarif::value(&report)),
    };
    std::io::stdout().write_all(text.as_bytes())?;
    Ok(if report.errors() > 0 || !problems.is_empty() { EXIT_FINDINGS } else { 0 })
}

/// `nodegroup bluegreen`: plan (shown, and written with --plan-out), then with --apply carry it
/// out, recording progress in the plan file; exit 1 when a step stops (timeout, Pending pods),
/// 2 when it cannot run.
pub fn bluegreen_cmd(args: crate::cli::BluegreenArgs) -> anyhow::Result<u8> {
    use eks_userdata::bluegreen::{self, Plan, run};
    let file = args.plan.clone().or_else(|| args.plan_out.clone());
    if args.apply && file.is_none() {
        eprintln!(
            "eks-userdata: error: --apply records its progress in a plan file: give --plan-out FILE (or --plan FILE to go on with one)"
        );
        return Ok(EXIT_ERROR);
    }
    let json = matches!(args.format, crate::cli::PreflightFormatArg::Json);
    let kubeconfig = args.access.kube.kubeconfig.as_deref().map(Path::new);
    if let Err(e) = eks_userdata::preflight::kube::check_cluster(
        kubeconfig,
        args.access.kube.context.as_deref(),
        &args.cluster,
        args.access.region.as_deref(),
    ) {
        eprintln!("eks-userdata: error: {e}");
        return Ok(EXIT_ERROR);
    }
    let p = stderr_progress();
    let result = aws::block_on(async {
        let conn = aws::connect(args.access.region.as_deref(), args.access.profile.as_deref())
            .await
            .map_err(|e| e.to_string())?;
        let kube = eks_userdata::preflight::kube::client(kubeconfig, args.access.kube.context.as_deref(), false)
            .await
            .map_err(|e| e.to_string())?;
        let mut plan = match &args.plan {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|e| format!("{path}: cannot read the plan: {e}"))?;
                let plan: Plan =
                    serde_json::from_str(&text).map_err(|e| format!("{path}: not a blue/green plan: {e}"))?;
                if plan.format != bluegreen::FORMAT || plan.cluster != args.cluster {
                    return Err(format!(
                        "{path}: a plan for cluster {} in format {}, not for {} in {}",
                        plan.cluster,
                        plan.format,
                        args.cluster,
                        bluegreen::FORMAT
                    ));
                }
                plan
            }
            None => {
                let Some(old) = &args.old else {
                    return Err("name the node group to replace (OLD), or give --plan FILE".into());
                };
                run::plan(
                    &conn,
                    &kube,
                    &args.cluster,
                    old,
                    args.new.as_deref(),
                    args.launch_template_version.as_deref(),
                )
                .await
                .map_err(|e| e.to_string())?
            }
        };
        let save = |p: &Plan| -> Result<(), String> {
            let Some(path) = &file else { return Ok(()) };
            let text = serde_json::to_string_pretty(p).map_err(|e| e.to_string())? + "\n";
            emit::write_atomic(Path::new(path), text.as_bytes(), true).map(|_| ()).map_err(|e| format!("{path}: {e}"))
        };
        save(&plan)?;
        if !json {
            print!("{}", plan.describe());
        }
        let outcome = if args.apply {
            let opts = run::Options {
                delete_old: args.delete_old,
                twin_timeout: std::time::Duration::from_secs(args.twin_timeout),
                drain_timeout: std::time::Duration::from_secs(args.drain_timeout),
                poll: std::time::Duration::from_secs(2),
                max_unavailable: usize::from(args.max_unavailable),
            };
            let say = |m: &str| p.say(&format!("eks-userdata: {m}"));
            let bar = |done: usize, total: usize, what: &str| p.bar(done, total, what);
            // Ctrl-C drops the run wherever it is: every step was recorded before it was taken,
            // so the plan file is already true, and a re-run goes on from it.
            tokio::select! {
                r = run::apply(&mut plan, &conn, &kube, &opts, &save, &say, &bar) => r.map_err(|e| e.to_string()),
                _ = tokio::signal::ctrl_c() => Err(
                    "interrupted: the plan file records every step taken (a node it lists as cordoned is cordoned or about to be); run again with --plan to go on".to_string()
                ),
            }
        } else {
            Ok(())
        };
        p.finish();
        Ok::<_, String>((plan, outcome))
    })?;
    let (plan, outcome) = match result {
        Ok(r) => r,
        Err(e) => {
            eprintln!("eks-userdata: error: {e}");
            return Ok(EXIT_ERROR);
        }
    };
    if json {
        println!("{}", serde_json::to_string_pretty(&plan)?);
    }
    match outcome {
        Ok(()) => {
            if args.apply {
                eprintln!(
                    "eks-userdata: node group {} is replaced by {}{}",
                    plan.old,
                    plan.twin.name,
                    if plan.progress.old_deleted { ", and deleted" } else { "; delete it with --delete-old" }
                );
            }
            Ok(0)
        }
        Err(e) => {
            eprintln!("eks-userdata: stopped: {e}");
            Ok(EXIT_FINDINGS)
        }
    }
}

/// `karpenter migrate --cluster`: reads the classes, shows the plan; with `--apply` saves the
/// classes to `--backup`, applies the change and follows the NodeClaims until every one runs
/// AL2023 or `--timeout`. Exit 0 when done (or only planned), 1 when it stopped short (a
/// conflict, a timeout), 2 when it could not run.
pub fn karpenter_live_cmd(args: crate::cli::MigrateArgs, cluster: &str) -> anyhow::Result<u8> {
    use eks_userdata::karpenter::live::{self, output, run};
    if !args.apply && (args.force_conflicts || args.no_follow || args.backup.is_some()) {
        eprintln!("eks-userdata: error: --backup, --force-conflicts and --no-follow go with --apply");
        return Ok(EXIT_ERROR);
    }
    let version = crate::karpenter_version(args.karpenter_version);
    let json = matches!(args.format, PushFormatArg::Json);
    let kubeconfig = args.kube.kubeconfig.as_deref().map(Path::new);
    if let Err(e) =
        eks_userdata::preflight::kube::check_cluster(kubeconfig, args.kube.context.as_deref(), cluster, None)
    {
        eprintln!("eks-userdata: error: {e}");
        return Ok(EXIT_ERROR);
    }
    let p = stderr_progress();
    let result = aws::block_on(async {
        let kube = eks_userdata::preflight::kube::client(kubeconfig, args.kube.context.as_deref(), true)
            .await
            .map_err(|e| e.to_string())?;
        let snapshot = run::read(&kube).await.map_err(|e| e.to_string())?;
        let plan = live::plan(&snapshot, version);
        if !json {
            print!("{}", output::plan_text(&plan, cluster));
        }
        let mut summary = output::Summary {
            format: live::FORMAT,
            cluster: cluster.to_string(),
            plan: plan.clone(),
            backup: None,
            applied: Vec::new(),
            followed: false,
            done: false,
            tally: live::Tally::of(&plan.claims),
        };
        if !args.apply {
            summary.done = plan.changes.is_empty() && summary.tally.done();
            return Ok((summary, Ok(())));
        }
        if !plan.changes.is_empty() {
            let Some(path) = &args.backup else {
                return Err("--apply saves the classes first: give --backup FILE".to_string());
            };
            let names: Vec<String> = plan.changes.iter().map(|c| c.name.clone()).collect();
            let text = live::backup(&snapshot, &names, cluster);
            emit::write_atomic(Path::new(path), text.as_bytes(), false).map_err(|e| {
                format!("{e}: the backup is never overwritten with other content; give another --backup FILE")
            })?;
            summary.backup = Some(path.clone());
        }
        let say = |m: &str| p.say(&format!("eks-userdata: {m}"));
        let outcome = async {
            run::apply(&kube, &plan, args.force_conflicts, version, &say, &mut summary.applied)
                .await
                .map_err(|e| e.to_string())?;
            if plan.followed.is_empty() {
                summary.done = true;
                return Ok(());
            }
            if args.no_follow {
                return Ok(());
            }
            summary.followed = true;
            let bar = |t: &live::Tally| {
                p.bar(
                    t.replaced,
                    t.total,
                    &format!("on AL2023; {} on AL2 ({} drifted), {} launching", t.al2, t.drifted, t.launching),
                )
            };
            let (last, done) = run::follow(
                &kube,
                &plan.followed,
                std::time::Duration::from_secs(args.timeout),
                std::time::Duration::from_secs(5),
                &bar,
                &say,
            )
            .await
            .map_err(|e| e.to_string())?;
            p.finish();
            summary.tally = live::Tally::of(&last.claims);
            summary.plan.claims = last.claims;
            summary.plan.pools = last.pools;
            summary.plan.findings = last.findings;
            summary.done = done;
            if done {
                Ok(())
            } else {
                Err(format!(
                    "after {}s, {}; Karpenter goes on replacing them (run this again to follow, or look at the NodePools' budgets and the claims' events)",
                    args.timeout,
                    summary.tally.line()
                ))
            }
        };
        // Ctrl-C while following changes nothing: the classes are applied and Karpenter goes on.
        let outcome = tokio::select! {
            r = outcome => r,
            _ = tokio::signal::ctrl_c() => Err(
                "interrupted: what was applied stays applied and Karpenter goes on replacing the nodes; run this again to follow them".to_string()
            ),
        };
        Ok::<_, String>((summary, outcome))
    })?;
    p.finish();
    let (summary, outcome) = match result {
        Ok(r) => r,
        Err(e) => {
            eprintln!("eks-userdata: error: {e}");
            return Ok(EXIT_ERROR);
        }
    };
    if json {
        println!("{}", serde_json::to_string_pretty(&summary)?);
    } else {
        print!("{}", output::summary_text(&summary));
    }
    match outcome {
        Ok(()) => Ok(0),
        Err(e) => {
            eprintln!("eks-userdata: stopped: {e}");
            Ok(EXIT_FINDINGS)
        }
    }
}
