//! The `eks-userdata` binary: parse the command line, call the library, render, pick the exit
//! code (0 done; 1 findings at or above `--fail-on`; 2 could not run). Nothing else lives here.

// Issue #15: no indexing or slicing that can panic (see lib.rs).
#![deny(clippy::string_slice, clippy::indexing_slicing)]

#[cfg(feature = "aws")]
mod aws_cmd;
mod cli;
mod migrate_code;

use anyhow::Context as _;
use clap::Parser;
use cli::{Cli, Command, ConvertArgs, FormatArg, LintArgs, OutputFormatArg, SeverityArg, TargetArg, TemplateArg};
use eks_userdata::al2::template::Syntax;
use eks_userdata::lint::{self, LintOptions};
use eks_userdata::report::{self, Format};
use eks_userdata::translate::{self, ClusterInfo, emit};
use eks_userdata::userdata::Limits;
use eks_userdata::{Severity, Source, Target, catalogue, config};
use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

/// A conversion makes thousands of small short-lived allocations; mimalloc serves them about a
/// quarter faster than glibc malloc (`cargo bench --bench convert`).
#[cfg(feature = "mimalloc")]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

pub(crate) const EXIT_FINDINGS: u8 = 1;
pub(crate) const EXIT_ERROR: u8 = 2;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { EXIT_ERROR } else { 0 });
        }
    };
    match run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("eks-userdata: error: {e:#}");
            ExitCode::from(EXIT_ERROR)
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<u8> {
    match cli.command {
        Command::Lint(args) => lint_cmd(args),
        Command::Explain(args) => explain(args.rule.as_deref(), args.markdown),
        Command::Convert(args) => convert_cmd(args),
        Command::Render(args) => render_cmd(args),
        #[cfg(feature = "aws")]
        Command::ClusterInfo(args) => aws_cmd::cluster_info(args),
        #[cfg(feature = "aws")]
        Command::Push(args) => aws_cmd::push_cmd(args),
        #[cfg(feature = "aws")]
        Command::Rollback(args) => aws_cmd::rollback_cmd(args),
        #[cfg(feature = "aws")]
        Command::Preflight(args) => aws_cmd::preflight_cmd(args),
        #[cfg(feature = "aws")]
        Command::Nodegroup(cli::NodegroupCommand::Bluegreen(args)) => aws_cmd::bluegreen_cmd(args),
        #[cfg(not(feature = "aws"))]
        Command::ClusterInfo(_)
        | Command::Push(_)
        | Command::Rollback(_)
        | Command::Preflight(_)
        | Command::Nodegroup(_) => without_aws(),
        Command::Karpenter(cli::KarpenterCommand::Nodeclass(args)) => nodeclass_cmd(args),
        Command::Karpenter(cli::KarpenterCommand::Migrate(args)) => migrate_cmd(args),
        Command::Migrate(args) => migrate_code::run(args),
    }
}

/// The default build has no AWS SDK (minutes to compile, not needed to lint or convert).
#[cfg(not(feature = "aws"))]
fn without_aws() -> anyhow::Result<u8> {
    eprintln!(
        "eks-userdata: error: this build has no AWS support; build it with `cargo install --path . --features aws` \
         (or `cargo run --features aws -- ...`)"
    );
    Ok(EXIT_ERROR)
}

pub(crate) fn karpenter_version(v: cli::KarpenterVersionArg) -> eks_userdata::karpenter::KarpenterVersion {
    match v {
        cli::KarpenterVersionArg::V1_14 => eks_userdata::karpenter::KarpenterVersion::V1_14,
        cli::KarpenterVersionArg::Main => eks_userdata::karpenter::KarpenterVersion::Main,
    }
}

fn migrate_cmd(args: cli::MigrateArgs) -> anyhow::Result<u8> {
    if let Some(cluster) = args.cluster.clone() {
        #[cfg(feature = "aws")]
        return aws_cmd::karpenter_live_cmd(args, &cluster);
        #[cfg(not(feature = "aws"))]
        {
            let _ = cluster;
            return without_aws();
        }
    }
    // clap's `requires` does not hold for these (they have defaults), so they are checked here.
    let live_only = args.kube.kubeconfig.is_some()
        || args.kube.context.is_some()
        || args.apply
        || args.backup.is_some()
        || args.force_conflicts
        || args.no_follow
        || args.timeout != cli::DEFAULT_FOLLOW_TIMEOUT
        || args.format != cli::PushFormatArg::Text;
    if live_only {
        eprintln!(
            "eks-userdata: error: --kubeconfig, --context, --apply, --backup, --force-conflicts, --no-follow, --timeout and --format are for the classes in a cluster: add --cluster NAME"
        );
        return Ok(EXIT_ERROR);
    }
    let mut reports = Vec::new();
    let mut failed = false;
    for path in &args.files {
        let source = match Source::read(path, 4 * 1024 * 1024) {
            Ok(s) => s,
            Err(e) => {
                eprintln!("eks-userdata: error: {e}");
                failed = true;
                continue;
            }
        };
        let Ok(text) = std::str::from_utf8(&source.bytes) else {
            eprintln!("eks-userdata: error: {path}: not UTF-8 text");
            failed = true;
            continue;
        };
        let m = eks_userdata::karpenter::migrate::migrate(path, text, karpenter_version(args.karpenter_version));
        let env = eks_userdata::userdata::Envelope::parse(&[], &Limits::default());
        let report = lint::resolve(&source, &env, m.entries);
        match (&m.text, args.in_place) {
            (Some(t), true) => {
                emit::write_atomic(Path::new(path), t.as_bytes(), true)?;
            }
            (Some(t), false) => emit_bytes(t.as_bytes())?,
            (None, false) => emit_bytes(&source.bytes)?,
            (None, true) => {}
        }
        reports.push(report);
    }
    eprint!("{}", report::render(&reports, report_format(args.report_format)));
    let errors = reports.iter().any(|r| r.max_severity() == Some(Severity::Error));
    Ok(if failed {
        EXIT_ERROR
    } else if errors {
        EXIT_FINDINGS
    } else {
        0
    })
}

fn nodeclass_cmd(args: Box<cli::NodeclassArgs>) -> anyhow::Result<u8> {
    use eks_userdata::karpenter::nodeclass;
    let path = args.input.clone().unwrap_or_else(|| "-".into());
    let source = match Source::read(&path, 1024 * 1024) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("eks-userdata: error: {e}");
            return Ok(EXIT_ERROR);
        }
    };
    let opts = nodeclass::NodeClassOptions {
        name: args.name.clone(),
        ami_version: args.ami_version.clone(),
        role: args.role.clone(),
        instance_profile: args.instance_profile.clone(),
        cluster: args.cluster.clone(),
        subnet_tags: args.subnet_tags.clone(),
        security_group_tags: args.security_group_tags.clone(),
        hop_limit: args.hop_limit,
        data_volume_size: args.data_volume_size.clone(),
        version: karpenter_version(args.karpenter_version),
    };
    let out = nodeclass::nodeclass(&source, &opts);
    let report = lint::resolve(
        &source,
        &eks_userdata::userdata::Envelope::parse(&source.bytes, &Limits::default()),
        out.entries.clone(),
    );
    eprint!("{}", report::render(std::slice::from_ref(&report), report_format(args.report_format)));
    let yaml = out.to_yaml();
    match &args.output {
        Some(p) => {
            emit::write_atomic(Path::new(p), yaml.as_bytes(), args.force)?;
        }
        None => emit_bytes(yaml.as_bytes())?,
    }
    Ok(if report.max_severity() == Some(Severity::Error) { EXIT_FINDINGS } else { 0 })
}

pub(crate) fn target(t: TargetArg) -> Target {
    match t {
        TargetArg::SelfManaged => Target::SelfManaged,
        TargetArg::Mng => Target::Mng,
        TargetArg::MngCustomAmi => Target::MngCustomAmi,
        TargetArg::Karpenter => Target::Karpenter,
    }
}

/// The options for one file: command-line flags, then the file's `.eks-userdata.toml`
/// settings, then the defaults.
fn options(args: &LintArgs, settings: Option<config::Settings>) -> LintOptions {
    let settings = settings.unwrap_or_default();
    LintOptions {
        target: args.target.map(target).or(settings.target).unwrap_or_default(),
        target_given: args.target.is_some() || settings.target.is_some(),
        limits: Limits { max_decoded: args.max_decoded_bytes },
        rules: settings.rules,
        ami_release: args.ami_release.or(settings.ami_release),
        kubernetes_version: args.kubernetes_version.or(settings.kubernetes_version),
        template_vars: Default::default(),
        cluster_supplied: false,
    }
}

/// With `--var`/`--var-file`, the input template rendered with them (named so that report
/// positions are not taken for the template's), or why it cannot be.
fn rendered_with_values(args: &ConvertArgs, source: Source) -> anyhow::Result<Result<Source, String>> {
    if args.vars.is_empty() && args.var_files.is_empty() {
        return Ok(Ok(source));
    }
    let vars = template_vars(&args.vars, &args.var_files)?;
    let text = String::from_utf8_lossy(&source.bytes).into_owned();
    let rendered = match eks_userdata::template::render::single_rendering(&text, &vars) {
        Ok(None) => eks_userdata::template::cloudformation::single_rendering(&text, &vars).map(|r| r.map(|s| s.text)),
        other => other.map(|r| r.map(|r| r.text)),
    };
    Ok(match rendered {
        Ok(Some(text)) => {
            Ok(Source::new(format!("{} (rendered with the given values)", source.name), text.into_bytes()))
        }
        Ok(None) => Err(format!(
            "{}: --var and --var-file apply to a Terraform template or a CloudFormation template's UserData, and this is neither",
            source.name
        )),
        Err(open) => Err(format!(
            "{}: the given values leave {} undecided; give their variables too (convert writes one way through a template)",
            source.name,
            open.join(", ")
        )),
    })
}

/// `--var-file` files in order, then `--var` values: later ones win, as in terraform.
fn template_vars(vars: &[String], files: &[String]) -> anyhow::Result<eks_userdata::template::vars::Vars> {
    use eks_userdata::template::vars;
    let mut out = vars::Vars::new();
    for f in files {
        let text = std::fs::read_to_string(f).with_context(|| format!("{f}: cannot read the variables file"))?;
        out.extend(
            vars::parse_file(&text)
                .with_context(|| format!("{f}: not a .tfvars, .tfvars.json or CloudFormation parameters file"))?,
        );
    }
    for v in vars {
        let (name, value) = vars::parse_var(v).with_context(|| format!("--var {v}"))?;
        out.insert(name, value);
    }
    Ok(out)
}

fn report_format(f: FormatArg) -> Format {
    match f {
        FormatArg::Text => Format::Text,
        FormatArg::Concise => Format::Concise,
        FormatArg::Json => Format::Json,
        FormatArg::Sarif => Format::Sarif,
        FormatArg::Github => Format::Github,
    }
}

fn cluster_info(args: &ConvertArgs) -> anyhow::Result<ClusterInfo> {
    let mut info = match &args.cluster_info {
        Some(path) => {
            let src = Source::read(path, 64 * 1024)?;
            let text = String::from_utf8(src.bytes).with_context(|| format!("{path}: not UTF-8"))?;
            ClusterInfo::parse(&text).with_context(|| {
                format!("{path}: not a cluster-info YAML (keys: name, apiServerEndpoint, certificateAuthority, cidr, ipFamily, kubernetesVersion)")
            })?
        }
        None => ClusterInfo::default(),
    };
    // Flags win over the file.
    for (slot, flag) in [
        (&mut info.name, &args.cluster_name),
        (&mut info.api_server_endpoint, &args.api_server_endpoint),
        (&mut info.certificate_authority, &args.certificate_authority),
        (&mut info.cidr, &args.service_cidr),
    ] {
        if flag.is_some() {
            slot.clone_from(flag);
        }
    }
    Ok(info)
}

fn convert_options(args: &ConvertArgs) -> anyhow::Result<translate::Options> {
    Ok(translate::Options {
        target: target(args.target),
        cluster: cluster_info(args)?,
        keep_map_semantics: args.keep_map_semantics,
        keep_post_bootstrap_inline: args.keep_post_bootstrap_inline,
        data_volume: match args.data_volume {
            cli::DataVolumeArg::Script => translate::DataVolumeStyle::Script,
            cli::DataVolumeArg::CloudConfig => translate::DataVolumeStyle::CloudConfig,
        },
        boot_hook: match (&args.boot_hook_url, &args.boot_hook_sha256) {
            _ if !args.boot_hook => None,
            (Some(url), Some(sha256)) => {
                anyhow::ensure!(
                    sha256.len() == 64 && sha256.bytes().all(|b| b.is_ascii_hexdigit()),
                    "--boot-hook-sha256 `{sha256}` is not 64 hex digits"
                );
                Some(translate::boothook::HookSource::Url { url: url.clone(), sha256: sha256.to_ascii_lowercase() })
            }
            _ => Some(translate::boothook::HookSource::Path(
                args.boot_hook_path.clone().unwrap_or_else(|| "/usr/local/bin/eks-userdata-boot".into()),
            )),
        },
        instance_type: args.instance_type.clone(),
        cluster_from: None,
        template: match args.template {
            TemplateArg::Auto => None,
            TemplateArg::None => Some(Syntax::None),
            TemplateArg::Terraform => Some(Syntax::Terraform),
            TemplateArg::Cloudformation => Some(Syntax::CloudFormation),
        },
    })
}

fn write_report(args: &ConvertArgs, reports: &[report::FileReport]) -> anyhow::Result<()> {
    let text = report::render(reports, report_format(args.report_format));
    match &args.report {
        Some(p) => {
            emit::write_atomic(std::path::Path::new(p), text.as_bytes(), true)?;
        }
        None => eprint!("{text}"),
    }
    Ok(())
}

fn convert_cmd(args: ConvertArgs) -> anyhow::Result<u8> {
    let opts = convert_options(&args)?;
    let format = match args.format {
        OutputFormatArg::Mime => emit::Format::Mime,
        OutputFormatArg::Nodeconfig => emit::Format::NodeConfig,
    };
    if let Some(out_dir) = &args.out_dir {
        if !args.vars.is_empty() || !args.var_files.is_empty() {
            anyhow::bail!("--var and --var-file render one template: convert it without --out-dir");
        }
        return convert_tree(&args, &opts, format, out_dir);
    }
    let path = match args.inputs.as_slice() {
        [] => "-".to_string(),
        [one] => one.clone(),
        _ => {
            eprintln!("eks-userdata: error: several inputs need --out-dir DIR");
            return Ok(EXIT_ERROR);
        }
    };
    if path != "-" && std::path::Path::new(&path).is_dir() {
        eprintln!("eks-userdata: error: {path} is a directory; convert directories with --out-dir DIR");
        return Ok(EXIT_ERROR);
    }
    let source = match Source::read(&path, args.max_input_bytes) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("eks-userdata: error: {e}");
            return Ok(EXIT_ERROR);
        }
    };
    let source = match rendered_with_values(&args, source)? {
        Ok(s) => s,
        Err(why) => {
            eprintln!("eks-userdata: error: {why}");
            return Ok(EXIT_ERROR);
        }
    };
    if let (Some(out), false) = (&args.output, path == "-")
        && std::fs::canonicalize(out).ok().is_some_and(|o| std::fs::canonicalize(&path).ok() == Some(o))
    {
        eprintln!("eks-userdata: error: the output {out} is the input; write the AL2023 user data to another file");
        return Ok(EXIT_ERROR);
    }
    let name = args.output.clone().unwrap_or_else(|| "<output>".into());
    let conv = match translate::convert(&source, &opts, format, &name) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("eks-userdata: error: {e}");
            return Ok(EXIT_ERROR);
        }
    };
    write_report(&args, &conv.reports)?;
    if conv.refused {
        eprintln!("eks-userdata: the output has errors (listed above) and was not written");
        return Ok(EXIT_FINDINGS);
    }
    if let Some(bytes) = &conv.output {
        match &args.output {
            Some(p) => {
                if let Err(e) = emit::write_atomic(std::path::Path::new(p), bytes, args.force) {
                    eprintln!("eks-userdata: error: {e}");
                    return Ok(EXIT_ERROR);
                }
            }
            None => emit_bytes(bytes)?,
        }
    }
    Ok(if conv.needs_review || (args.verify && conv.unexplained) { EXIT_FINDINGS } else { 0 })
}

fn convert_tree(
    args: &ConvertArgs,
    opts: &translate::Options,
    format: emit::Format,
    out_dir: &str,
) -> anyhow::Result<u8> {
    use translate::batch;
    if args.inputs.is_empty() || args.inputs.iter().any(|i| i == "-") {
        eprintln!("eks-userdata: error: --out-dir needs files or directories as inputs, not standard input");
        return Ok(EXIT_ERROR);
    }
    let roots: Vec<std::path::PathBuf> = args.inputs.iter().map(std::path::PathBuf::from).collect();
    let out = std::path::Path::new(out_dir);
    if roots.iter().any(|r| {
        out.starts_with(r)
            || std::fs::canonicalize(out).ok().zip(std::fs::canonicalize(r).ok()).is_some_and(|(o, r)| o.starts_with(r))
    }) {
        eprintln!("eks-userdata: error: --out-dir {out_dir} is inside an input; choose a directory outside the inputs");
        return Ok(EXIT_ERROR);
    }
    let files = match batch::discover(&roots) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("eks-userdata: error: {e}");
            return Ok(EXIT_ERROR);
        }
    };
    let jobs = args.jobs.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let b =
        batch::BatchOptions { opts, format, out_dir: out, force: args.force, max_input: args.max_input_bytes, jobs };
    let items = batch::run(&files, &b);
    let mut reports = Vec::new();
    let (mut errors, mut review, mut written) = (0, 0, 0);
    for item in &items {
        match &item.result {
            Ok((conv, w)) => {
                reports.extend(conv.reports.iter().cloned());
                review += usize::from(conv.needs_review || conv.refused);
                written += usize::from(w.is_some());
            }
            Err(e) => {
                eprintln!("eks-userdata: error: {e}");
                errors += 1;
            }
        }
    }
    write_report(args, &reports)?;
    eprintln!("eks-userdata: {} files: {written} written, {review} need review, {errors} failed", items.len());
    Ok(if errors > 0 {
        EXIT_ERROR
    } else if review > 0 {
        EXIT_FINDINGS
    } else {
        0
    })
}

fn render_options(args: &cli::RenderArgs) -> anyhow::Result<eks_userdata::render::Options> {
    let mut drop_ins = Vec::new();
    if let Some(dir) = &args.drop_ins {
        for entry in std::fs::read_dir(dir).with_context(|| format!("{dir}: cannot read the drop-in directory"))? {
            let entry = entry?;
            if entry.file_type()?.is_file() {
                let name = entry.file_name().to_string_lossy().into_owned();
                let src = Source::read(&entry.path().to_string_lossy(), 1024 * 1024)?;
                drop_ins.push((name, src.bytes));
            }
        }
    }
    Ok(eks_userdata::render::Options {
        drop_ins,
        appended_by: args.appended_by.map(|a| match a {
            cli::AppendedByArg::Mng => Target::Mng,
            cli::AppendedByArg::Karpenter => Target::Karpenter,
        }),
        cluster_from: None,
        instance_type: args.instance_type.clone(),
        vcpus: args.vcpus,
        ami_release: args.ami_release.clone(),
        kubernetes_version: Some(args.kubernetes_version.clone()),
        explain: args.explain,
    })
}

fn render_text(source: &Source, args: &cli::RenderArgs, opts: &eks_userdata::render::Options) -> (String, bool) {
    let env = eks_userdata::userdata::Envelope::parse(&source.bytes, &Limits::default());
    let r = eks_userdata::render::render(&env, opts);
    let text = match args.format {
        cli::RenderFormatArg::Yaml => r.yaml(),
        cli::RenderFormatArg::Json => r.json(),
    };
    (text, r.has_errors())
}

fn render_cmd(args: cli::RenderArgs) -> anyhow::Result<u8> {
    use eks_userdata::render::snapshot::{self, Outcome};
    let opts = render_options(&args)?;
    let input = args.input.clone().unwrap_or_else(|| "-".into());
    let is_dir = input != "-" && std::path::Path::new(&input).is_dir();
    if is_dir && args.check.is_none() && !args.update {
        eprintln!("eks-userdata: error: {input} is a directory; render a tree with --check or --update");
        return Ok(EXIT_ERROR);
    }
    let files: Vec<(String, std::path::PathBuf)> = if is_dir {
        snapshot::user_data_files(std::path::Path::new(&input))?
            .into_iter()
            .map(|f| (f.to_string_lossy().into_owned(), snapshot::snapshot_path(&f)))
            .collect()
    } else {
        let snap = match args.check.as_deref() {
            Some(s) if !s.is_empty() => std::path::PathBuf::from(s),
            _ => snapshot::snapshot_path(std::path::Path::new(&input)),
        };
        vec![(input.clone(), snap)]
    };
    let mut code = 0;
    for (path, snap) in &files {
        let source = match Source::read(path, 1024 * 1024) {
            Ok(s) => s,
            Err(e) => {
                eprintln!("eks-userdata: error: {e}");
                code = EXIT_ERROR;
                continue;
            }
        };
        let (text, errors) = render_text(&source, &args, &opts);
        if errors && code == 0 {
            code = EXIT_FINDINGS;
        }
        if args.check.is_none() && !args.update {
            emit(&text)?;
            continue;
        }
        if path == "-" && (args.check.as_deref().is_none_or(str::is_empty)) {
            eprintln!("eks-userdata: error: standard input has no snapshot path; pass --check FILE");
            return Ok(EXIT_ERROR);
        }
        match snapshot::check(snap, &text, args.update)? {
            Outcome::Same => eprintln!("ok       {path}"),
            Outcome::Written => eprintln!("updated  {}", snap.display()),
            Outcome::Missing => {
                eprintln!("missing  {} (run with --update to create it)", snap.display());
                code = code.max(EXIT_FINDINGS);
            }
            Outcome::Differs(diff) => {
                eprintln!("differs  {path}");
                emit(&diff)?;
                code = code.max(EXIT_FINDINGS);
            }
        }
    }
    Ok(code)
}

fn lint_cmd(args: LintArgs) -> anyhow::Result<u8> {
    let paths =
        if args.paths.is_empty() { vec!["-".to_string()] } else { expand_dirs(&args.paths, args.only_user_data)? };
    if args.fix && paths.iter().any(|p| p == "-") {
        anyhow::bail!("--fix rewrites files in place; it cannot fix standard input (name the files)");
    }
    let explicit = match &args.config {
        Some(p) => Some(config::Config::load(Path::new(p))?),
        None => None,
    };
    let vars = template_vars(&args.vars, &args.var_files)?;
    let mut discovery = config::Discovery::default();
    let mut reports = Vec::new();
    let mut unreadable = false;
    for path in &paths {
        // Standard input takes the settings of the current directory.
        let file = Path::new(if path == "-" { "./-" } else { path });
        let settings = if args.no_config {
            None
        } else if let Some(c) = &explicit {
            Some(c.settings_for(file))
        } else {
            discovery.for_file(file)?.map(|c| c.settings_for(file))
        };
        let opts = LintOptions { template_vars: vars.clone(), ..options(&args, settings) };
        match Source::read(path, args.max_input_bytes) {
            Ok(source) => {
                let source = if args.fix { fix_file(path, source, &opts)? } else { source };
                reports.push(lint::lint_file(&source, &opts));
            }
            Err(e) => {
                eprintln!("eks-userdata: error: {e}");
                unreadable = true;
            }
        }
    }
    let format = report_format(args.format);
    if !reports.is_empty() || matches!(format, Format::Json | Format::Sarif) {
        emit(&report::render(&reports, format))?;
    }
    let threshold = match args.fail_on {
        SeverityArg::Error => Severity::Error,
        SeverityArg::Warning => Severity::Warning,
        SeverityArg::Info => Severity::Info,
    };
    Ok(if unreadable {
        EXIT_ERROR
    } else if !args.exit_zero && reports.iter().any(|r| r.max_severity().is_some_and(|s| s >= threshold)) {
        EXIT_FINDINGS
    } else {
        0
    })
}

/// Directories become the files under them that hold user data (`embedded::worth_linting`),
/// sorted, hidden entries skipped; named files stay as they are.
fn expand_dirs(paths: &[String], only_user_data: bool) -> anyhow::Result<Vec<String>> {
    // The first 64 KiB decide; an unreadable file is kept so that reading it reports the error.
    let sniff = |file: &Path| -> bool {
        let mut head = Vec::with_capacity(64 * 1024);
        let read = std::fs::File::open(file)
            .and_then(|f| std::io::Read::read_to_end(&mut std::io::Read::take(f, 64 * 1024), &mut head));
        read.is_err() || eks_userdata::userdata::embedded::worth_linting(&file.to_string_lossy(), &head)
    };
    let mut out = Vec::new();
    for p in paths {
        if p == "-" || !Path::new(p).is_dir() {
            if !only_user_data || p == "-" || sniff(Path::new(p)) {
                out.push(p.clone());
            }
            continue;
        }
        let files = translate::batch::discover(&[p.into()]).map_err(|e| anyhow::anyhow!(e))?;
        let before = out.len();
        for (file, _) in files {
            if sniff(&file) {
                out.push(file.to_string_lossy().into_owned());
            }
        }
        if out.len() == before {
            eprintln!("eks-userdata: warning: {p}: no user-data files found (name them, or see `lint --help`)");
        }
    }
    Ok(out)
}

/// Applies the safe fixes to one file (atomically) and returns what is now on disk.
fn fix_file(path: &str, source: Source, opts: &LintOptions) -> anyhow::Result<Source> {
    let Some(fixed) = lint::fix::fix(&source, opts) else { return Ok(source) };
    emit::write_atomic(Path::new(path), &fixed.bytes, true)?;
    eprintln!("eks-userdata: fixed {} finding(s) in {path} ({})", fixed.applied.len(), fixed.applied.join(", "));
    Ok(Source::new(source.name, fixed.bytes))
}

fn explain(rule: Option<&str>, markdown: bool) -> anyhow::Result<u8> {
    if markdown {
        emit(&catalogue::markdown())?;
        return Ok(0);
    }
    let all = catalogue::all();
    let Some(key) = rule else {
        let mut out = String::new();
        for m in &all {
            out.push_str(&format!("{}  {:<32} {:<8} {}\n", m.code, m.name, m.severity, m.summary));
        }
        emit(&out)?;
        return Ok(0);
    };
    match catalogue::find(key) {
        Some(m) => {
            emit(&format!("{} {} ({})\n{}\n\n{}\n", m.code, m.name, m.severity, m.summary, m.explanation))?;
            Ok(0)
        }
        None => {
            let codes: Vec<&str> = all.iter().map(|m| m.code).collect();
            let hint = eks_userdata::suggest::did_you_mean(key, all.iter().flat_map(|m| [m.code, m.name]))
                .map(|s| format!(" (did you mean `{s}`?)"))
                .unwrap_or_default();
            eprintln!("eks-userdata: error: no rule `{key}`{hint}; rules are {}", codes.join(", "));
            Ok(EXIT_ERROR)
        }
    }
}

fn emit(text: &str) -> anyhow::Result<()> {
    emit_bytes(text.as_bytes())
}

/// Writes to stdout; a closed pipe (`| head`) is not an error.
fn emit_bytes(bytes: &[u8]) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(bytes).and_then(|()| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        r => Ok(r?),
    }
}
