//! Lint throughput and start-up time (issue #2 goal: ≥ 5,000 files/s on one core, < 5 ms
//! start-up; issue #6 goal: a pre-commit run over 200 files under 200 ms, and files/s for
//! 10,000 files). Run with `cargo bench --bench lint` (`LINT_BENCH_TEMPLATES=0`: without the
//! one file in ten that is a template). No timing assertions: this reports numbers.
//!
//! 1,000 varied user-data files are generated deterministically (multipart with shell and
//! NodeConfig parts, bare NodeConfig, typos, broken MIME, base64+gzip, AL2 leftovers, 1–11
//! kubelet keys), then linted (a) in-process on one thread, per-file latency recorded, and
//! (b) by the release binary in one process over the same files on disk. Start-up is the mean
//! wall time of `eks-userdata --version` over 200 runs.

#![allow(clippy::expect_used, clippy::unwrap_used)] // a benchmark harness: failing loudly is right
mod common;
use common::percentile;
use eks_userdata::lint::{LintOptions, lint, lint_file};
use eks_userdata::{Source, Target};
use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const FILES: usize = 1000;

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

const KUBELET_KEYS: &[(&str, &str)] = &[
    ("maxPods", "58"),
    ("podPidsLimit", "4096"),
    ("serializeImagePulls", "false"),
    ("registryPullQPS", "10"),
    ("imageGCHighThresholdPercent", "85"),
    ("imageGCLowThresholdPercent", "70"),
    ("containerLogMaxSize", "50Mi"),
    ("cpuManagerPolicy", "static"),
    ("shutdownGracePeriod", "45s"),
    ("evictionHard", "{memory.available: 200Mi, nodefs.available: 10%}"),
    ("kubeReserved", "{cpu: 250m, memory: 1Gi}"),
];

fn nodeconfig(rng: &mut Rng, i: usize) -> String {
    let mut s = format!(
        "apiVersion: node.eks.aws/v1alpha{}\nkind: NodeConfig\nspec:\n  cluster:\n    name: cluster-{i}\n    apiServerEndpoint: https://{i:032X}.gr7.eu-west-1.eks.amazonaws.com\n    certificateAuthority: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1Bb0dDQ3NHQVFVRkJ3TUIKLS0tLS1FTkQgQ0VSVElGSUNBVEUtLS0tLQo=\n    cidr: 10.{}.0.0/16\n  kubelet:\n    config:\n",
        if rng.below(10) == 0 { "" } else { "1" },
        rng.below(250)
    );
    // Distinct keys (YAML forbids duplicates); one in ten documents misspells one.
    let n = 1 + rng.below(KUBELET_KEYS.len() as u64) as usize;
    let first = rng.below(KUBELET_KEYS.len() as u64) as usize;
    for j in 0..n {
        let (k, v) = KUBELET_KEYS[(first + j) % KUBELET_KEYS.len()];
        s.push_str(&format!("      {k}: {v}\n"));
    }
    s.push_str(&format!("    flags:\n      - --node-labels=team=t{i},tier=backend\n"));
    if rng.below(3) == 0 {
        s.push_str("  instance:\n    localStorage:\n      strategy: RAID0\n");
    }
    s
}

fn generate(rng: &mut Rng, i: usize) -> Vec<u8> {
    let nc = nodeconfig(rng, i);
    let shell = format!(
        "#!/bin/bash\nset -euo pipefail\necho node {i}\n{}",
        if rng.below(5) == 0 { "/etc/eks/bootstrap.sh c\n" } else { "" }
    );
    let mime = |parts: &[(&str, &str)], blank: bool, close: bool| {
        let mut m = String::from("MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"//\"\n\n");
        for (ct, body) in parts {
            m.push_str(&format!("--//\nContent-Type: {ct}\n{}{body}\n", if blank { "\n" } else { "" }));
        }
        if close {
            m.push_str("--//--\n");
        }
        m
    };
    if i % 50 == 49 {
        // Worst case: forty misspelt kubelet keys, each needing a did-you-mean search.
        let mut s = nc.clone();
        for j in 0..40 {
            s.push_str(&format!("  x{j}:\n    maxpod{j}: 1\n"));
        }
        return s.into_bytes();
    }
    // One file in ten is a template, linted over its renderings: a Terraform template with a
    // branch and strip markers, or a CloudFormation template whose `UserData` has an `Fn::If`.
    // `LINT_BENCH_TEMPLATES=0` leaves them out, to see what templates cost on the same machine.
    let templates = std::env::var("LINT_BENCH_TEMPLATES").map_or(true, |v| v != "0");
    if templates && i % 20 == 3 {
        return format!(
            "MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"//\"\n\n--//\nContent-Type: application/node.eks.aws\n\napiVersion: node.eks.aws/v1alpha1\nkind: NodeConfig\nspec:\n  cluster:\n    name: ${{cluster_name}}\n    apiServerEndpoint: ${{endpoint}}\n    certificateAuthority: ${{ca}}\n%{{ if service_cidr != \"\" ~}}\n    cidr: ${{service_cidr}}\n%{{ endif ~}}\n  kubelet:\n    config:\n      maxPods: {}\n    flags:\n%{{ for l in labels ~}}\n      - --node-labels=${{l}}\n%{{ endfor ~}}\n\n--//--\n",
            20 + i % 90
        )
        .into_bytes();
    }
    if templates && i % 20 == 13 {
        return format!(
            "AWSTemplateFormatVersion: \"2010-09-09\"\nConditions:\n  IsSpot: !Equals [!Ref Capacity, spot]\nResources:\n  LT:\n    Type: AWS::EC2::LaunchTemplate\n    Properties:\n      LaunchTemplateData:\n        UserData:\n          Fn::Base64: !Sub\n            - |\n              apiVersion: node.eks.aws/v1alpha1\n              kind: NodeConfig\n              spec:\n                cluster:\n                  name: ${{ClusterName}}\n                  apiServerEndpoint: ${{Endpoint}}\n                  certificateAuthority: ${{Ca}}\n                  cidr: 10.100.0.0/16\n                kubelet:\n                  flags:\n                    - --node-labels=${{Labels}}\n            - Labels: !If [IsSpot, capacity=spot, capacity=on-demand{i}]\n"
        )
        .into_bytes();
    }
    match i % 6 {
        0 => mime(&[("text/x-shellscript", &shell), ("application/node.eks.aws", &nc)], true, true).into_bytes(),
        1 => nc.into_bytes(),
        2 => mime(
            &[("text/cloud-config", "#cloud-config\nruncmd: [echo hi]\n"), ("application/node.eks.aws", &nc)],
            rng.below(4) != 0,
            rng.below(4) != 0,
        )
        .into_bytes(),
        3 => {
            use base64::Engine as _;
            let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
            let _ = e.write_all(mime(&[("application/node.eks.aws", &nc)], true, true).as_bytes());
            base64::engine::general_purpose::STANDARD.encode(e.finish().unwrap_or_default()).into_bytes()
        }
        4 => mime(&[("text/x-shellscript", &shell)], true, true).into_bytes(),
        _ => nc.replace("apiServerEndpoint", "apiserverEndpoint").replace("RAID0", "raid0").into_bytes(),
    }
}

fn main() {
    let mut rng = Rng(0x5eed);
    let files: Vec<Vec<u8>> = (0..FILES).map(|i| generate(&mut rng, i)).collect();
    let bytes: usize = files.iter().map(Vec::len).sum();
    let opts = LintOptions { target: Target::SelfManaged, ..Default::default() };

    // Warm-up: compile the schema once, as any real run does.
    let _ = lint(&Source::new("warm", files[0].clone()), &opts);

    let mut lat = Vec::with_capacity(FILES);
    let mut findings = 0;
    let start = Instant::now();
    for (i, f) in files.iter().enumerate() {
        let t = Instant::now();
        let r = lint_file(&Source::new(format!("f{i}.yaml"), f.clone()), &opts);
        lat.push(t.elapsed());
        findings += r.findings.len();
    }
    let total = start.elapsed();
    println!(
        "in-process, 1 thread: {FILES} files ({bytes} bytes, {findings} findings) in {:.1} ms",
        total.as_secs_f64() * 1e3
    );
    common::print_latency("file", &mut lat, total);

    // Where the time goes: each rule's check over the same files (context built once per file).
    let mut per_rule = vec![Duration::ZERO; eks_userdata::lint::RULES.len()];
    let mut context = Duration::ZERO;
    for (i, f) in files.iter().enumerate() {
        let source = Source::new(format!("f{i}"), f.clone());
        let t = Instant::now();
        let env = eks_userdata::userdata::Envelope::parse(&source.bytes, &opts.limits);
        let cx = eks_userdata::lint::Context::new(&source, &env, &opts);
        context += t.elapsed();
        for (r, rule) in eks_userdata::lint::RULES.iter().enumerate() {
            let mut out = Vec::new();
            let t = Instant::now();
            (rule.check)(&cx, &mut out);
            per_rule[r] += t.elapsed();
        }
    }
    let mut ranked: Vec<(Duration, &str)> =
        per_rule.iter().zip(eks_userdata::lint::RULES).map(|(d, r)| (*d, r.meta.code)).collect();
    ranked.sort_by_key(|r| std::cmp::Reverse(r.0));
    let top: Vec<String> = ranked.iter().take(5).map(|(d, c)| format!("{c} {:.1} ms", d.as_secs_f64() * 1e3)).collect();
    println!("  parse + context: {:.1} ms; slowest rules: {}", context.as_secs_f64() * 1e3, top.join(", "));

    // `LINT_BENCH_IN_PROCESS=1` stops here: the in-process part alone, for a profiler
    // (`valgrind --tool=cachegrind` counts instructions, a measure this VM's load does not move).
    if std::env::var_os("LINT_BENCH_IN_PROCESS").is_some() {
        return;
    }
    let bin = env!("CARGO_BIN_EXE_eks-userdata");
    let dir = tempfile::tempdir().expect("temp dir");
    let paths: Vec<String> = files
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let p = dir.path().join(format!("userdata-{i:04}.txt"));
            std::fs::write(&p, f).expect("write");
            p.to_string_lossy().into_owned()
        })
        .collect();
    let start = Instant::now();
    let status = Command::new(bin)
        .arg("lint")
        .arg("--format")
        .arg("json")
        .args(&paths)
        .stdout(Stdio::null())
        .status()
        .expect("run");
    let total = start.elapsed();
    println!(
        "binary, one process: {FILES} files in {:.1} ms = {:.0} files/s (exit {})",
        total.as_secs_f64() * 1e3,
        FILES as f64 / total.as_secs_f64(),
        status.code().unwrap_or(-1)
    );

    // Issue #6: the pre-commit hook's own run (`lint --format concise`, the hook's entry) over
    // 200 staged files, 20 runs. pre-commit's own Python start-up is outside our control and
    // not included.
    let mut hook = Vec::with_capacity(20);
    for _ in 0..20 {
        let t = Instant::now();
        let _ =
            Command::new(bin).args(["lint", "--format", "concise"]).args(&paths[..200]).stdout(Stdio::null()).status();
        hook.push(t.elapsed());
    }
    hook.sort();
    println!(
        "pre-commit shape (200 files, --format concise, 20 runs): p50 {:.1} ms, max {:.1} ms (goal < 200 ms)",
        percentile(&hook, 0.5).as_secs_f64() * 1e3,
        hook[hook.len() - 1].as_secs_f64() * 1e3
    );

    // 10,000 files: the generator continued past the first thousand, written to disk, linted by
    // one process.
    let big: Vec<String> = (FILES..10_000)
        .map(|i| {
            let p = dir.path().join(format!("userdata-{i:05}.txt"));
            std::fs::write(&p, generate(&mut rng, i)).expect("write");
            p.to_string_lossy().into_owned()
        })
        .collect();
    let all: Vec<&String> = paths.iter().chain(&big).collect();
    let start = Instant::now();
    let _ = Command::new(bin).args(["lint", "--format", "concise"]).args(&all).stdout(Stdio::null()).status();
    let total = start.elapsed();
    println!(
        "binary, one process: {} files in {:.0} ms = {:.0} files/s",
        all.len(),
        total.as_secs_f64() * 1e3,
        all.len() as f64 / total.as_secs_f64()
    );

    let runs = 200;
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs {
        let t = Instant::now();
        let _ = Command::new(bin).arg("--version").stdout(Stdio::null()).status();
        times.push(t.elapsed());
    }
    times.sort();
    let mean = times.iter().sum::<Duration>() / runs as u32;
    println!(
        "start-up (`--version`, {runs} runs): mean {:.2} ms, p50 {:.2} ms, p99 {:.2} ms",
        mean.as_secs_f64() * 1e3,
        percentile(&times, 0.5).as_secs_f64() * 1e3,
        percentile(&times, 0.99).as_secs_f64() * 1e3
    );
    let mut one = Vec::with_capacity(50);
    for _ in 0..50 {
        let t = Instant::now();
        let _ = Command::new(bin).arg("lint").arg(&paths[0]).stdout(Stdio::null()).status();
        one.push(t.elapsed());
    }
    one.sort();
    println!("one-file lint, whole process (50 runs): p50 {:.2} ms", percentile(&one, 0.5).as_secs_f64() * 1e3);
}
