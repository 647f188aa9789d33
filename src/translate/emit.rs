//! Writing a plan out: deterministic MIME (`userdata::mime_write`) or a bare NodeConfig, linted
//! before it may be written (docs/architecture.md invariant 2), and written atomically (a
//! temporary file renamed into place), never over a different file without `--force`.

use super::Plan;
use crate::lint::{self, LintOptions};
use crate::report::FileReport;
use crate::source::Source;
use crate::target::Target;
use crate::userdata::NODECONFIG_MEDIA_TYPE;
use crate::userdata::mime_write::{self, WriteOptions};
use std::io::Write;
use std::path::Path;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    #[default]
    Mime,
    NodeConfig,
}

#[derive(Debug, thiserror::Error)]
pub enum EmitError {
    #[error(
        "--format nodeconfig can only carry the NodeConfig, but the output also has {0} other part(s) (kept shell scripts); use --format mime"
    )]
    NotOnlyNodeConfig(usize),
    #[error("there is no NodeConfig to write (nothing to translate and no cluster values for --target {0})")]
    Empty(Target),
}

/// The bytes to write; empty when the plan has no part (nothing to write).
pub fn render(plan: &Plan, format: Format, target: Target) -> Result<Vec<u8>, EmitError> {
    if plan.parts.is_empty() {
        return Ok(Vec::new());
    }
    match format {
        Format::Mime => Ok(mime_write::write(&plan.parts, &WriteOptions::default())),
        Format::NodeConfig => {
            let is_nc = |p: &&mime_write::OutPart| {
                p.headers
                    .iter()
                    .any(|(k, v)| k.eq_ignore_ascii_case("content-type") && v.starts_with(NODECONFIG_MEDIA_TYPE))
            };
            let others = plan.parts.iter().filter(|p| !is_nc(p)).count();
            if others > 0 {
                return Err(EmitError::NotOnlyNodeConfig(others));
            }
            let nc = plan.parts.iter().find(is_nc).ok_or(EmitError::Empty(target))?;
            Ok(nc.body.clone())
        }
    }
}

/// Lints the output as the target will read it; `cluster_supplied`: another part supplies
/// `spec.cluster` (`Options::cluster_from`).
pub fn check(output: &[u8], name: &str, target: Target, cluster_supplied: bool) -> FileReport {
    lint::lint(&Source::new(name, output.to_vec()), &LintOptions { target, cluster_supplied, ..Default::default() })
}

#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("{path} exists and differs from the new output; pass --force to replace it")]
    Exists { path: String },
    #[error("{path}: cannot write: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

/// What happened to the output file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Written {
    Created,
    Replaced,
    Unchanged,
}

/// Writes `bytes` to `path` through a temporary file in the same directory and a rename, so a
/// reader never sees half a file and a failure leaves the old file as it was.
pub fn write_atomic(path: &Path, bytes: &[u8], force: bool) -> Result<Written, WriteError> {
    let shown = path.display().to_string();
    let io = |source| WriteError::Io { path: shown.clone(), source };
    // A replaced file keeps its mode (an executable script stays executable).
    let mode = std::fs::metadata(path).ok().map(|m| m.permissions());
    let existed = match std::fs::read(path) {
        Ok(old) if old == bytes => return Ok(Written::Unchanged),
        Ok(_) if !force => return Err(WriteError::Exists { path: shown }),
        Ok(_) => true,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => false,
        Err(e) => return Err(io(e)),
    };
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "output".into());
    let tmp = dir.join(format!(".{name}.eks-userdata-{}.tmp", std::process::id()));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        if let Some(mode) = mode.filter(|_| existed) {
            std::fs::set_permissions(&tmp, mode)?;
        }
        std::fs::rename(&tmp, path)
    })();
    if let Err(e) = result {
        let _ = std::fs::remove_file(&tmp);
        return Err(io(e));
    }
    Ok(if existed { Written::Replaced } else { Written::Created })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_write_refuses_to_clobber() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("out.txt");
        assert_eq!(write_atomic(&p, b"a", false).unwrap(), Written::Created);
        assert_eq!(write_atomic(&p, b"a", false).unwrap(), Written::Unchanged);
        assert!(matches!(write_atomic(&p, b"b", false), Err(WriteError::Exists { .. })));
        assert_eq!(std::fs::read(&p).unwrap(), b"a");
        assert_eq!(write_atomic(&p, b"b", true).unwrap(), Written::Replaced);
        assert_eq!(std::fs::read(&p).unwrap(), b"b");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1, "no temporary file left");
        assert!(matches!(write_atomic(&dir.path().join("no/such/dir/x"), b"a", false), Err(WriteError::Io { .. })));
    }
}
