//! The pre-commit hook with the real pre-commit framework: a scratch git repository with a good
//! and a bad user-data file, and `pre-commit try-repo` against this repository (which builds the
//! hook with `cargo install`, as users get it). `.ci/run` installs pre-commit from PyPI; where it
//! is missing the test says it is skipped.

use crate::util::root;
use std::process::Command;

fn run(dir: &std::path::Path, args: &[&str]) -> std::process::Output {
    Command::new(args[0]).args(&args[1..]).current_dir(dir).output().unwrap()
}

#[test]
fn hook_fails_the_bad_file_and_passes_the_good_one() {
    if Command::new("pre-commit").arg("--version").output().map(|o| !o.status.success()).unwrap_or(true) {
        eprintln!("skipped: pre-commit is not installed (pip install pre-commit; .ci/run does)");
        return;
    }
    if !root().join(".git").exists() {
        eprintln!("skipped: pre-commit try-repo needs this repository to be a git checkout");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    assert!(run(d, &["git", "init", "-q"]).status.success());
    std::fs::copy(root().join("fixtures/al2023/bare-nodeconfig.yaml"), d.join("nodeconfig-good.yaml")).unwrap();
    std::fs::copy(root().join("fixtures/invalid/typos.yaml"), d.join("nodeconfig-bad.yaml")).unwrap();
    std::fs::write(d.join("README.md"), "not user data\n").unwrap();
    run(d, &["git", "add", "."]);
    let repo = root().to_str().unwrap();
    // One try-repo run (each builds the hook with cargo install, a few minutes on two cores):
    // the bad file fails the run with its findings; the good file and the README give none.
    let run_hook = run(
        d,
        &[
            "pre-commit",
            "try-repo",
            repo,
            "eks-userdata-lint",
            "--files",
            "nodeconfig-bad.yaml",
            "nodeconfig-good.yaml",
            "README.md",
        ],
    );
    let out = String::from_utf8_lossy(&run_hook.stdout).into_owned() + &String::from_utf8_lossy(&run_hook.stderr);
    assert_eq!(run_hook.status.code(), Some(1), "{out}");
    assert!(out.contains("Failed"), "{out}");
    assert!(out.contains("nodeconfig-bad.yaml:6:5: NC205 [error]"), "{out}");
    assert!(!out.contains("nodeconfig-good.yaml:"), "the good file has no finding: {out}");
    assert!(!out.contains("README.md:"), "files outside the hook's pattern are not linted: {out}");
}
