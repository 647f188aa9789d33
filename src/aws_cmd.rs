//! The binary's glue for `cluster-info`, `push`, `rollback` and `preflight` (built with `--features aws`):
//! command line → library options, progress on standard error, report on standard output,
//! exit code (0 done; 1 something failed or was left alone with an error; 2 could not run).

use crate::cli::{AwsArgs, ClusterInfoArgs, PushArgs, PushFormatArg, RollbackArgs, SelectArgs};
use crate::{EXIT_ERROR, EXIT_FINDINGS, target};
use anyhow::Context as _;
use eks_userdata::aws::identity::{self, Credentials};
use eks_userdata::aws::owner::TagMarker;
use eks_userdata::aws::{self, output, plan::PlanFile, push, rollback, select::Selector};
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

/// A bar redrawn in place on a terminal; plain lines otherwise (CI logs, pipes).
fn progress() -> push::Progress {
    let tty = std::io::stderr().is_terminal();
    Arc::new(move |done, total, what| {
        let mut err = std::io::stderr().lock();
        if tty {
            let width = 30;
            let filled = (done * width).checked_div(total).unwrap_or(width);
            let _ = write!(err, "\r\x1b[K[{}{}] {done}/{total} {what}", "#".repeat(filled), " ".repeat(width - filled));
            if done == total {
                let _ = writeln!(err);
            }
        } else if done < total || what != "planned" {
            let _ = writeln!(err, "[{done}/{total}] {what}");
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
            let kubeconfig = args.access.kubeconfig.as_deref().map(Path::new);
            match preflight::kube::client(kubeconfig, args.access.context.as_deref(), true).await {
                Ok(client) => match preflight::kube::read(&client).await {
                    Ok(k) => inv.kubernetes = Some(k),
                    Err(e) => problems.push(e.to_string()),
                },
                // No kubeconfig at all is a normal AWS-only run; a broken one is said.
                Err(e) if args.access.kubeconfig.is_some() || args.access.context.is_some() => {
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
    let result = aws::block_on(async {
        let conn = aws::connect(args.access.region.as_deref(), args.access.profile.as_deref())
            .await
            .map_err(|e| e.to_string())?;
        let kubeconfig = args.access.kubeconfig.as_deref().map(Path::new);
        let kube = eks_userdata::preflight::kube::client(kubeconfig, args.access.context.as_deref(), false)
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
            };
            let say = |m: &str| eprintln!("eks-userdata: {m}");
            // Ctrl-C drops the run wherever it is: every step was recorded before it was taken,
            // so the plan file is already true, and a re-run goes on from it.
            tokio::select! {
                r = run::apply(&mut plan, &conn, &kube, &opts, &save, &say) => r.map_err(|e| e.to_string()),
                _ = tokio::signal::ctrl_c() => Err(
                    "interrupted: the plan file records every step taken (a node it lists as cordoned is cordoned or about to be); run again with --plan to go on".to_string()
                ),
            }
        } else {
            Ok(())
        };
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
