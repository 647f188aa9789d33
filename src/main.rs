//! The `eks-userdata` binary: parse the command line, call the library, render, pick the exit
//! code (0 done; 1 findings at or above `--fail-on`; 2 could not run). Nothing else lives here.

mod cli;

use clap::Parser;
use cli::{Cli, Command, FormatArg, LintArgs, SeverityArg, TargetArg};
use eks_userdata::lint::{self, LintOptions, RULES};
use eks_userdata::report::{self, Format};
use eks_userdata::userdata::Limits;
use eks_userdata::{Severity, Source, Target};
use std::io::Write;
use std::process::ExitCode;

const EXIT_FINDINGS: u8 = 1;
const EXIT_ERROR: u8 = 2;

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
        Command::Explain(args) => explain(args.rule.as_deref()),
        Command::Convert(_) => pending("convert", 3, "translates AL2 bootstrap.sh user data"),
        Command::Render(_) => pending("render", 5, "shows the effective nodeadm configuration"),
        Command::Push(_) => {
            pending("push", 7, "creates launch-template versions (it needs a build with `--features aws`)")
        }
        Command::Karpenter(_) => pending("karpenter", 8, "writes EC2NodeClass manifests"),
    }
}

fn pending(cmd: &str, issue: u32, what: &str) -> anyhow::Result<u8> {
    eprintln!(
        "eks-userdata: `{cmd}` is not available in this version yet: it {what} and arrives with issue #{issue}. \
         `eks-userdata lint` works today."
    );
    Ok(EXIT_ERROR)
}

fn options(args: &LintArgs) -> LintOptions {
    LintOptions {
        target: match args.target {
            TargetArg::SelfManaged => Target::SelfManaged,
            TargetArg::Mng => Target::Mng,
            TargetArg::MngCustomAmi => Target::MngCustomAmi,
            TargetArg::Karpenter => Target::Karpenter,
        },
        limits: Limits { max_decoded: args.max_decoded_bytes },
    }
}

fn lint_cmd(args: LintArgs) -> anyhow::Result<u8> {
    let opts = options(&args);
    let paths = if args.paths.is_empty() { vec!["-".to_string()] } else { args.paths.clone() };
    let mut reports = Vec::new();
    let mut unreadable = false;
    for path in &paths {
        match Source::read(path, args.max_input_bytes) {
            Ok(source) => reports.push(lint::lint(&source, &opts)),
            Err(e) => {
                eprintln!("eks-userdata: error: {e}");
                unreadable = true;
            }
        }
    }
    let format = match args.format {
        FormatArg::Text => Format::Text,
        FormatArg::Json => Format::Json,
    };
    if !reports.is_empty() || format == Format::Json {
        emit(&report::render(&reports, format))?;
    }
    let threshold = match args.fail_on {
        SeverityArg::Error => Severity::Error,
        SeverityArg::Warning => Severity::Warning,
        SeverityArg::Info => Severity::Info,
    };
    Ok(if unreadable {
        EXIT_ERROR
    } else if reports.iter().any(|r| r.max_severity().is_some_and(|s| s >= threshold)) {
        EXIT_FINDINGS
    } else {
        0
    })
}

fn explain(rule: Option<&str>) -> anyhow::Result<u8> {
    let Some(key) = rule else {
        let mut out = String::new();
        for r in RULES {
            out.push_str(&format!("{}  {:<32} {:<8} {}\n", r.meta.code, r.meta.name, r.meta.severity, r.meta.summary));
        }
        emit(&out)?;
        return Ok(0);
    };
    match lint::find_rule(key) {
        Some(r) => {
            let m = r.meta;
            emit(&format!("{} {} ({})\n{}\n\n{}\n", m.code, m.name, m.severity, m.summary, m.explanation))?;
            Ok(0)
        }
        None => {
            let codes: Vec<&str> = RULES.iter().map(|r| r.meta.code).collect();
            let hint = eks_userdata::suggest::did_you_mean(key, RULES.iter().flat_map(|r| [r.meta.code, r.meta.name]))
                .map(|s| format!(" (did you mean `{s}`?)"))
                .unwrap_or_default();
            eprintln!("eks-userdata: error: no rule `{key}`{hint}; rules are {}", codes.join(", "));
            Ok(EXIT_ERROR)
        }
    }
}

/// Writes to stdout; a closed pipe (`| head`) is not an error.
fn emit(text: &str) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        r => Ok(r?),
    }
}
