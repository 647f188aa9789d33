//! Snapshot testing for users: `render --check FILE.snap` compares a rendering with a stored one
//! and shows a unified diff; `--update` rewrites it (atomically). In directory mode every
//! user-data file in a tree is paired with its `NAME.snap` sibling, so one CI step guards a
//! repository. A missing snapshot is a failure under `--check`, never created silently.

use similar::TextDiff;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Same,
    /// The unified diff, stored → new.
    Differs(String),
    Missing,
    Written,
}

pub fn snapshot_path(input: &Path) -> PathBuf {
    let mut name = input.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    name.push(".snap");
    input.with_file_name(name)
}

pub fn diff(old: &str, new: &str, old_name: &str, new_name: &str) -> String {
    TextDiff::from_lines(old, new).unified_diff().context_radius(3).header(old_name, new_name).to_string()
}

/// Compares `rendered` with the snapshot at `snap`, or rewrites it when `update`.
pub fn check(snap: &Path, rendered: &str, update: bool) -> std::io::Result<Outcome> {
    let old = match std::fs::read_to_string(snap) {
        Ok(s) => Some(s),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(e),
    };
    if old.as_deref() == Some(rendered) {
        return Ok(Outcome::Same);
    }
    if update {
        crate::translate::emit::write_atomic(snap, rendered.as_bytes(), true)
            .map_err(|e| std::io::Error::other(e.to_string()))?;
        return Ok(Outcome::Written);
    }
    Ok(match old {
        None => Outcome::Missing,
        Some(o) => Outcome::Differs(diff(&o, rendered, &format!("{} (stored)", snap.display()), "rendered now")),
    })
}

/// User-data files under `root` (hidden entries and `.snap` files skipped), sorted.
pub fn user_data_files(root: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir)? {
            let entry = entry?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') {
                continue;
            }
            let ft = entry.file_type()?;
            if ft.is_dir() {
                stack.push(entry.path());
            } else if ft.is_file() && !name.ends_with(".snap") {
                out.push(entry.path());
            }
        }
    }
    out.sort();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_update_and_diff() {
        let dir = tempfile::tempdir().unwrap();
        let snap = dir.path().join("u.txt.snap");
        assert_eq!(check(&snap, "a\nb\n", false).unwrap(), Outcome::Missing);
        assert!(!snap.exists(), "--check never creates a snapshot");
        assert_eq!(check(&snap, "a\nb\n", true).unwrap(), Outcome::Written);
        assert_eq!(check(&snap, "a\nb\n", false).unwrap(), Outcome::Same);
        let Outcome::Differs(d) = check(&snap, "a\nc\n", false).unwrap() else { panic!() };
        assert!(d.contains("-b\n+c\n"), "{d}");
        assert_eq!(snapshot_path(Path::new("x/y.yaml")), Path::new("x/y.yaml.snap"));
    }
}
