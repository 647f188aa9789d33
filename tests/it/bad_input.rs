//! Hostile and broken input: each gets a clear message and exit 1 (a finding) or 2 (refused),
//! never a panic, never unbounded memory.

use crate::util::bin;
use predicates::prelude::*;
use std::io::Write;

fn temp(name: &str, bytes: &[u8]) -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::write(&path, bytes).unwrap();
    (dir, path.to_string_lossy().into_owned())
}

fn no_panic(out: &std::process::Output) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(out.status.code().is_some_and(|c| c == 1 || c == 2), "{:?}", out.status);
}

/// xorshift: deterministic "random" bytes without a dependency.
fn noise(n: usize, mut seed: u64) -> Vec<u8> {
    (0..n)
        .map(|_| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed as u8
        })
        .collect()
}

#[test]
fn random_bytes_are_a_finding() {
    for seed in 1..20u64 {
        let (_d, p) = temp("noise.bin", &noise(3000, seed));
        let out = bin().args(["lint", &p]).output().unwrap();
        no_panic(&out);
        assert_eq!(out.status.code(), Some(1));
    }
}

#[test]
fn invalid_utf8_is_reported_with_position() {
    let (_d, p) =
        temp("latin1.yaml", b"apiVersion: node.eks.aws/v1alpha1\nkind: NodeConfig\nspec: {cluster: {name: caf\xe9}}\n");
    bin()
        .args(["lint", &p])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("UD111").and(predicate::str::contains(":3:")));
}

#[test]
fn a_50_mb_file_is_refused_with_the_cap_named() {
    let (_d, p) = temp("big.bin", &vec![b'a'; 50 * 1024 * 1024]);
    bin()
        .args(["lint", &p])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("larger than the 1048576 byte cap (1 MiB)"));
    bin()
        .args(["lint", "--max-input-bytes", "100"])
        .write_stdin(vec![b'#'; 101])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("100 byte cap"));
}

#[test]
fn a_gzip_bomb_stops_at_the_cap() {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    for _ in 0..256 {
        e.write_all(&[0u8; 1024 * 1024]).unwrap();
    }
    let bomb = e.finish().unwrap();
    assert!(bomb.len() < 1024 * 1024, "the bomb itself fits the input cap");
    let (_d, p) = temp("bomb.gz", &bomb);
    let out = bin().args(["lint", &p]).output().unwrap();
    no_panic(&out);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("UD109") && stdout.contains("more than the 1 MiB cap"), "{stdout}");
    // The same bomb as a MIME part.
    use base64::Engine as _;
    let part = format!(
        "MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"//\"\n\n--//\nContent-Type: application/node.eks.aws\nContent-Transfer-Encoding: base64\n\n{}\n--//--\n",
        base64::engine::general_purpose::STANDARD.encode(&bomb)
    );
    bin()
        .args(["lint", "--target", "mng"])
        .write_stdin(part)
        .assert()
        .code(1)
        .stdout(predicate::str::contains("part 1 starts with the gzip magic bytes"));
}

#[test]
fn a_yaml_alias_bomb_is_refused() {
    let mut doc = String::from(
        "apiVersion: node.eks.aws/v1alpha1\nkind: NodeConfig\nspec:\n  kubelet:\n    config:\n      a: &a [x, x, x, x, x, x, x, x, x, x]\n",
    );
    for i in 0..8 {
        let prev = if i == 0 { "a".to_string() } else { format!("b{}", i - 1) };
        doc.push_str(&format!("      b{i}: &b{i} [{}]\n", vec![format!("*{prev}"); 10].join(", ")));
    }
    bin().args(["lint", "-"]).write_stdin(doc).assert().code(1).stdout(predicate::str::contains("alias bomb"));
}

#[test]
fn ten_thousand_levels_of_nesting_are_refused() {
    let flow = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    bin()
        .args(["lint", "-"])
        .write_stdin(flow)
        .assert()
        .code(1)
        .stdout(predicate::str::contains("deeper than 64 levels"));
    let flow_map = format!("{}{}", "{a: ".repeat(10_000), "}".repeat(10_000));
    let out = bin().args(["lint", "-"]).write_stdin(flow_map).output().unwrap();
    no_panic(&out);
    let mime = format!(
        "MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"//\"\n\n--//\nContent-Type: application/node.eks.aws\n\n{}\n--//--\n",
        "- ".repeat(10_000)
    );
    let out = bin().args(["lint", "-"]).write_stdin(mime).output().unwrap();
    no_panic(&out);
}

#[test]
fn an_empty_file_is_a_finding() {
    let (_d, p) = temp("empty", b"");
    bin().args(["lint", &p]).assert().code(1).stdout(predicate::str::contains("empty"));
    bin()
        .args(["lint", "--target", "karpenter", "-"])
        .write_stdin("")
        .assert()
        .code(1)
        .stdout(predicate::str::contains("NC202"));
}

#[test]
fn binary_snippets_do_not_reach_the_terminal() {
    let (_d, p) = temp("esc.yaml", b"apiVersion: x\x1b[31m\x07\nkind: NodeConfig\n");
    let out = bin().args(["lint", &p]).output().unwrap();
    no_panic(&out);
    assert!(!out.stdout.contains(&0x1b), "escape sequences are replaced in snippets");
}

/// Issue #15's eight-line NodeConfig: a folded block scalar item in `kubelet.flags` once made
/// the flag-move fix slice past its line (exit 101). It lints, and `--fix` leaves it parseable.
#[test]
fn folded_flag_item_does_not_crash_lint_or_fix() {
    let text = "apiVersion: node.eks.aws/v1alpha1\nkind: NodeConfig\nspec:\n  kubelet:\n    flags:\n      - >-\n        --max-pods=20\n      - --v=2\n";
    let out = crate::util::bin().args(["lint", "--target", "mng", "-"]).write_stdin(text).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stdout));
    assert!(String::from_utf8_lossy(&out.stdout).contains("NC210"));
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("nodeconfig.yaml");
    std::fs::write(&f, text).unwrap();
    let out = crate::util::bin().args(["lint", "--target", "mng", "--fix"]).arg(&f).output().unwrap();
    assert!(matches!(out.status.code(), Some(0 | 1)), "{}", String::from_utf8_lossy(&out.stderr));
    let fixed = std::fs::read_to_string(&f).unwrap();
    assert!(fixed.contains("--max-pods=20") || fixed.contains("maxPods: 20"), "{fixed}");
}
