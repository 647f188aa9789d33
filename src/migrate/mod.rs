//! `migrate`: the infrastructure code that owns node templates, moved to AL2023 in place (issue
//! #17). Each format has its reader (`terraform.rs`, `cloudformation.rs`, `eksctl.rs`) that
//! finds the constructs to change and returns byte-range edits on the original text
//! (`edit.rs`), so everything else in the file stays as the user wrote it. User data is converted
//! by `convert`'s translator (`userdata.rs`); AMI selectors are mapped by `ami.rs`.

pub mod ami;
pub mod cloudformation;
pub mod cloudinit;
pub mod edit;
pub mod eks_module;
pub mod eksctl;
pub mod locals;
mod module_groups;
pub mod terraform;
pub mod tf_format;
pub mod userdata;

use crate::al2::template::Syntax;
use crate::translate;
use serde::Serialize;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ChangeKind {
    /// Rewritten for AL2023.
    Migrated,
    /// The user data is in another file, migrated on its own.
    Followed,
    /// Nothing to do (already AL2023, or nothing AL2-specific).
    Unchanged,
    /// Left for a person, with the reason.
    Manual,
}

/// One construct found and what was done with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    pub file: String,
    pub line: usize,
    /// `aws_launch_template.web.user_data`, `module.eks.ami_type`, …
    pub what: String,
    pub kind: ChangeKind,
    pub detail: String,
    /// Caveats a reviewer should read.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// What `convert` reported at warning or error severity, `severity CODE: message`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub findings: Vec<String>,
}

impl Change {
    pub fn new(file: &Path, line: usize, what: &str, kind: ChangeKind, detail: String) -> Change {
        Change {
            file: file.display().to_string(),
            line,
            what: what.to_string(),
            kind,
            detail,
            notes: Vec::new(),
            findings: Vec::new(),
        }
    }
}

/// What a reader found in one file: the edits to make and the changes to report.
#[derive(Debug, Default)]
pub struct Found {
    pub edits: Vec<edit::Edit>,
    pub changes: Vec<Change>,
}

/// One file: its text before and after, and what changed in it.
#[derive(Debug, Clone, Serialize)]
pub struct FileMigration {
    pub path: PathBuf,
    #[serde(skip)]
    pub original: String,
    #[serde(skip)]
    pub migrated: String,
    pub changes: Vec<Change>,
}

impl FileMigration {
    pub fn changed(&self) -> bool {
        self.original != self.migrated
    }
}

#[derive(Debug, thiserror::Error)]
pub enum MigrateError {
    #[error("{path}: cannot read: {source}")]
    Read { path: String, source: std::io::Error },
    #[error("{path}: not UTF-8 text")]
    NotText { path: String },
    #[error("{path}: {what}")]
    Internal { path: String, what: String },
}

#[derive(Debug, Clone, Default)]
pub struct Options {
    pub convert: translate::Options,
}

/// The files `migrate` reads under `paths`: `.tf` files and CloudFormation templates
/// (`.yaml`, `.yml`, `.json`, `.template` that look like one) in directories, recursively,
/// skipping `.terraform` and hidden directories; and any file named directly. Sorted, each once.
pub fn discover(paths: &[PathBuf]) -> Result<Vec<PathBuf>, MigrateError> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            walk(p, &mut out)?;
        } else {
            out.push(p.clone());
        }
    }
    out.sort();
    out.dedup();
    Ok(out)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), MigrateError> {
    let read =
        std::fs::read_dir(dir).map_err(|source| MigrateError::Read { path: dir.display().to_string(), source })?;
    let mut entries: Vec<PathBuf> = read.filter_map(|e| e.ok().map(|e| e.path())).collect();
    entries.sort();
    for p in entries {
        let name = p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        if p.is_dir() {
            if !name.starts_with('.') {
                walk(&p, out)?;
            }
        } else if name.ends_with(".tf")
            || (is_template_file(&name)
                && std::fs::read_to_string(&p).is_ok_and(|t| cloudformation::looks_like(&t) || eksctl::looks_like(&t)))
        {
            out.push(p);
        }
    }
    Ok(())
}

/// A name CloudFormation templates go by.
fn is_template_file(name: &str) -> bool {
    [".yaml", ".yml", ".json", ".template"].iter().any(|e| name.ends_with(e))
}

fn read(path: &Path) -> Result<String, MigrateError> {
    let bytes =
        std::fs::read(path).map_err(|source| MigrateError::Read { path: path.display().to_string(), source })?;
    String::from_utf8(bytes).map_err(|_| MigrateError::NotText { path: path.display().to_string() })
}

/// Migrates every file under `paths`, and the user data files they read. Nothing is written.
pub fn migrate(paths: &[PathBuf], opts: &Options) -> Result<Vec<FileMigration>, MigrateError> {
    let files = discover(paths)?;
    let mut texts: Vec<(PathBuf, String)> = Vec::with_capacity(files.len());
    for path in &files {
        texts.push((path.clone(), read(path)?));
    }
    // A module's `locals` heredocs, which any of its `.tf` files may name.
    let mut locals = terraform::Locals::default();
    for (path, text) in texts.iter().filter(|(p, _)| p.extension().is_some_and(|e| e == "tf")) {
        locals.add(path, text);
    }
    // Each file's edits, applied once every file has been read (a `.tf` file may edit a
    // `locals` heredoc in another).
    let mut pending: Vec<(PathBuf, String, Vec<edit::Edit>, Vec<Change>)> = Vec::new();
    let mut out: Vec<FileMigration> = Vec::new();
    let mut read_by: Vec<FileMigration> = Vec::new();
    let mut remote: Vec<(PathBuf, edit::Edit)> = Vec::new();
    let mut held: Vec<(PathBuf, std::ops::Range<usize>)> = Vec::new();
    for (path, text) in texts {
        let is_tf = path.extension().is_some_and(|e| e == "tf");
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        if !is_tf && is_template_file(&name) && eksctl::looks_like(&text) {
            let m = eksctl::migrate(&path, &text, &opts.convert);
            pending.push((path, text, m.edits, m.changes));
        } else if !is_tf && is_template_file(&name) && cloudformation::looks_like(&text) {
            let m = cloudformation::migrate(&path, &text, &opts.convert);
            pending.push((path, text, m.edits, m.changes));
        } else if is_tf {
            let m = terraform::migrate_with(&path, &text, &opts.convert, &locals);
            read_by.extend(m.files);
            remote.extend(m.remote);
            held.extend(m.held);
            pending.push((path, text, m.edits, m.changes));
        } else {
            let syntax = if crate::template::terraform::is_template(&path.display().to_string(), &text) {
                Syntax::Terraform
            } else {
                Syntax::None
            };
            // A Terraform expression for the CIDR means nothing in a file named on its own.
            let mut convert = opts.convert.clone();
            if convert.cluster.cidr.as_deref().is_some_and(|c| c.contains("${")) {
                convert.cluster.cidr = None;
            }
            out.push(whole_file(&path, text, syntax, "named on the command line", &convert));
        }
    }
    // A node group left for a person, written as a local in another file, keeps its AL2
    // ami_type there: that file's own edit of it (and its report line) is withdrawn.
    for (target, range) in held {
        if let Some((_, text, edits, changes)) = pending.iter_mut().find(|(p, ..)| same_file(p, &target)) {
            let line = edit::line_of(text, range.start);
            let before = edits.len();
            edits.retain(|e| e.range.end <= range.start || e.range.start >= range.end);
            if edits.len() != before {
                changes.retain(|c| !(c.line == line && c.kind == ChangeKind::Migrated && c.what.ends_with("ami_type")));
            }
        }
    }
    for (target, e) in remote {
        if let Some((_, _, edits, _)) = pending.iter_mut().find(|(p, ..)| same_file(p, &target)) {
            // Two resources naming one local make the same edit: it is made once.
            if !edits.contains(&e) {
                edits.push(e);
            }
        }
    }
    for (path, text, edits, changes) in pending {
        let (mut migrated, placed) = edit::apply_tracked(&text, &edits)
            .map_err(|e| MigrateError::Internal { path: path.display().to_string(), what: e.to_string() })?;
        if path.extension().is_some_and(|e| e == "tf") && !placed.is_empty() {
            migrated = tf_format::realign(&migrated, &placed);
        }
        out.push(FileMigration { path, original: text, migrated, changes });
    }
    // A template read by two resources, or also named on the command line, is migrated once.
    for f in read_by {
        if !out.iter().any(|o| same_file(&o.path, &f.path)) {
            out.push(f);
        }
    }
    out.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(out)
}

fn same_file(a: &Path, b: &Path) -> bool {
    let canon = |p: &Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
    canon(a) == canon(b)
}

/// A user data file (a template or a script) converted as a whole.
pub(crate) fn whole_file(
    path: &Path,
    text: String,
    syntax: Syntax,
    by: &str,
    opts: &translate::Options,
) -> FileMigration {
    let name = path.display().to_string();
    let (migrated, change) = match userdata::convert(&name, &text, syntax, opts) {
        userdata::Converted::Done { text: new, findings } => {
            let mut c = Change::new(
                path,
                1,
                "user data",
                ChangeKind::Migrated,
                format!("converted to AL2023 user data ({by})"),
            );
            c.findings = findings;
            (new, c)
        }
        userdata::Converted::Unchanged(reason) => {
            (text.clone(), Change::new(path, 1, "user data", ChangeKind::Unchanged, format!("{reason} ({by})")))
        }
        userdata::Converted::Empty { findings } => {
            let reason = userdata::Converted::empty_reason();
            let mut c = Change::new(path, 1, "user data", ChangeKind::Manual, format!("{reason} ({by})"));
            c.findings = findings;
            (text.clone(), c)
        }
        userdata::Converted::Refused { reason, findings } => {
            let mut c = Change::new(path, 1, "user data", ChangeKind::Manual, format!("{reason} ({by})"));
            c.findings = findings;
            (text.clone(), c)
        }
    };
    FileMigration { path: path.to_path_buf(), original: text, migrated, changes: vec![change] }
}

/// Anything left to migrate: a file that would change, or a construct left for a person.
pub fn left_to_do(files: &[FileMigration]) -> bool {
    files.iter().any(|f| f.changed() || f.changes.iter().any(|c| c.kind == ChangeKind::Manual))
}
