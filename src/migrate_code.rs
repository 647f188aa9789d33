//! The binary's glue for `migrate`: paths → library, report (text or JSON) and diffs on standard
//! output, files written with `--in-place`, exit code (0 done; 1 with `--check` when something is
//! left to migrate; 2 could not run).

use crate::cli::{CodeMigrateArgs, PushFormatArg};
use crate::{EXIT_FINDINGS, target};
use anyhow::Context as _;
use eks_userdata::migrate::{self, ChangeKind, FileMigration};
use eks_userdata::translate::{self, ClusterInfo, emit};
use std::fmt::Write as _;
use std::path::PathBuf;

pub fn run(args: CodeMigrateArgs) -> anyhow::Result<u8> {
    let mut cluster = match &args.cluster_info {
        Some(p) => ClusterInfo::parse(&std::fs::read_to_string(p).with_context(|| format!("{p}: cannot read"))?)
            .with_context(|| format!("{p}: not a cluster-info file"))?,
        None => ClusterInfo::default(),
    };
    if let Some(c) = &args.service_cidr {
        cluster.cidr = Some(c.clone());
    }
    let opts =
        migrate::Options { convert: translate::Options { target: target(args.target), cluster, ..Default::default() } };
    let paths: Vec<PathBuf> = args.paths.iter().map(PathBuf::from).collect();
    let files = migrate::migrate(&paths, &opts)?;
    let mut out = String::new();
    match args.format {
        PushFormatArg::Text => out.push_str(&text(&files)),
        PushFormatArg::Json => out.push_str(&(serde_json::to_string_pretty(&files)? + "\n")),
    }
    if args.diff {
        for f in files.iter().filter(|f| f.changed()) {
            let name = f.path.display().to_string();
            let d = similar::TextDiff::from_lines(&f.original, &f.migrated);
            let _ = write!(out, "{}", d.unified_diff().header(&name, &name));
        }
    }
    let mut written = 0;
    if args.in_place {
        for f in files.iter().filter(|f| f.changed()) {
            emit::write_atomic(&f.path, f.migrated.as_bytes(), true)?;
            written += 1;
        }
        if args.format == PushFormatArg::Text {
            let _ = writeln!(out, "wrote {written} file{}", if written == 1 { "" } else { "s" });
        }
    }
    print!("{out}");
    Ok(if args.check && migrate::left_to_do(&files) { EXIT_FINDINGS } else { 0 })
}

fn text(files: &[FileMigration]) -> String {
    let mut out = String::new();
    for f in files {
        for c in &f.changes {
            let kind = match c.kind {
                ChangeKind::Migrated => "migrated",
                ChangeKind::Followed => "followed",
                ChangeKind::Unchanged => "unchanged",
                ChangeKind::Manual => "MANUAL",
            };
            let _ = writeln!(out, "{}:{}: {}: {kind}: {}", c.file, c.line, c.what, c.detail);
            for n in c.notes.iter().chain(&c.findings) {
                let _ = writeln!(out, "    {n}");
            }
        }
    }
    let changing = files.iter().filter(|f| f.changed()).count();
    let count = |k: ChangeKind| files.iter().flat_map(|f| &f.changes).filter(|c| c.kind == k).count();
    let _ = writeln!(
        out,
        "{} file{} read, {changing} to change: {} migrated, {} unchanged, {} left for a person",
        files.len(),
        if files.len() == 1 { "" } else { "s" },
        count(ChangeKind::Migrated),
        count(ChangeKind::Unchanged),
        count(ChangeKind::Manual)
    );
    out
}
