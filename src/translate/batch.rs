//! `convert DIR... --out-dir DIR`: every file under the inputs is converted to the same relative
//! path under the output directory, on all cores. Results come back in input order, so the
//! report is the same however the work was scheduled. Directory symlinks are not followed
//! (no loops), hidden directories (`.git`) are skipped, and each output is written atomically
//! with the same no-clobber rule as a single file.

use super::{Conversion, Options, convert, emit};
use crate::source::Source;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

#[derive(Debug)]
pub struct Item {
    pub input: PathBuf,
    pub output: PathBuf,
    pub result: Result<(Conversion, Option<emit::Written>), String>,
}

/// Every regular file under `roots`, with the path it gets under the output directory.
pub fn discover(roots: &[PathBuf]) -> Result<Vec<(PathBuf, PathBuf)>, String> {
    let mut out = Vec::new();
    for root in roots {
        let meta = std::fs::symlink_metadata(root).map_err(|e| format!("{}: {e}", root.display()))?;
        if meta.is_file() || (meta.file_type().is_symlink() && root.is_file()) {
            let name = root.file_name().map(PathBuf::from).unwrap_or_else(|| root.clone());
            out.push((root.clone(), name));
            continue;
        }
        let mut stack = vec![root.clone()];
        let mut files = Vec::new();
        while let Some(dir) = stack.pop() {
            let entries = std::fs::read_dir(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
            for entry in entries {
                let entry = entry.map_err(|e| format!("{}: {e}", dir.display()))?;
                let path = entry.path();
                let ft = entry.file_type().map_err(|e| format!("{}: {e}", path.display()))?;
                let hidden = entry.file_name().to_string_lossy().starts_with('.');
                if ft.is_dir() && !hidden {
                    stack.push(path);
                } else if ft.is_file() && !hidden {
                    files.push(path);
                }
            }
        }
        files.sort();
        for f in files {
            let rel = f.strip_prefix(root).map(Path::to_path_buf).unwrap_or_else(|_| f.clone());
            out.push((f, rel));
        }
    }
    Ok(out)
}

pub struct BatchOptions<'a> {
    pub opts: &'a Options,
    pub format: emit::Format,
    pub out_dir: &'a Path,
    pub force: bool,
    pub max_input: usize,
    pub jobs: usize,
}

fn one(input: &Path, output: &Path, b: &BatchOptions) -> Result<(Conversion, Option<emit::Written>), String> {
    let source = Source::read(&input.to_string_lossy(), b.max_input).map_err(|e| e.to_string())?;
    let conv = convert(&source, b.opts, b.format, &output.to_string_lossy())
        .map_err(|e| format!("{}: {e}", input.display()))?;
    let written = match &conv.output {
        Some(bytes) => {
            if let Some(parent) = output.parent() {
                std::fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
            }
            Some(emit::write_atomic(output, bytes, b.force).map_err(|e| e.to_string())?)
        }
        None => None,
    };
    Ok((conv, written))
}

/// Converts every file in `files` (from [`discover`]) on `jobs` threads.
pub fn run(files: &[(PathBuf, PathBuf)], b: &BatchOptions) -> Vec<Item> {
    let next = AtomicUsize::new(0);
    let mut slots: Vec<Option<Item>> = (0..files.len()).map(|_| None).collect();
    let results = std::sync::Mutex::new(&mut slots);
    std::thread::scope(|s| {
        for _ in 0..b.jobs.max(1).min(files.len().max(1)) {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some((input, rel)) = files.get(i) else { break };
                    let output = b.out_dir.join(rel);
                    let result = one(input, &output, b);
                    if let Ok(mut r) = results.lock()
                        && let Some(slot) = r.get_mut(i)
                    {
                        *slot = Some(Item { input: input.clone(), output, result });
                    }
                }
            });
        }
    });
    slots.into_iter().flatten().collect()
}
