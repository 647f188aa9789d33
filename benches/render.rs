//! `render` throughput (issue #5 goal: ≥ 2,000 renders/s on one core). Run with
//! `cargo bench --bench render`. 1,000 generated multi-part user-data files (two or three
//! NodeConfig parts, a shell part, gzip+base64 on some), each rendered with two drop-ins, an
//! instance type, `--explain`, and serialised to YAML, as the CLI does.

#![allow(clippy::expect_used, clippy::unwrap_used)] // a benchmark harness: failing loudly is right
mod common;

use eks_userdata::render::{Options, render};
use eks_userdata::userdata::mime_write::{OutPart, WriteOptions, write};
use eks_userdata::userdata::{Envelope, Limits};
use std::io::Write;
use std::time::Instant;

const FILES: usize = 1000;
const TYPES: &[&str] = &["m5.large", "m4.xlarge", "c6i.2xlarge", "r6g.4xlarge", "t3.medium", "zz9.unknown"];

fn nc(spec: &str) -> String {
    format!("apiVersion: node.eks.aws/v1alpha1\nkind: NodeConfig\nspec:\n{spec}")
}

fn generate(i: usize) -> Vec<u8> {
    let cluster = format!(
        "  cluster:\n    name: c{i}\n    apiServerEndpoint: https://{i:08x}.eks.amazonaws.com\n    certificateAuthority: Y2E=\n    cidr: 10.{}.0.0/16\n",
        i % 250
    );
    let mut parts = vec![
        OutPart::new("text/x-shellscript", format!("#!/bin/bash\necho node {i}\n")),
        OutPart::new(
            "application/node.eks.aws",
            nc(&format!(
                "{cluster}  kubelet:\n    config:\n      maxPods: {}\n      evictionHard: {{memory.available: 200Mi}}\n    flags: [--node-labels=n={i}]\n",
                20 + i % 90
            )),
        ),
        OutPart::new(
            "application/node.eks.aws",
            nc(&format!(
                "  kubelet:\n    flags: [--node-labels=team=t{}]\n    maxPodsExpression: ((default_enis - 1) * (ips_per_eni - 1)) + 2\n  featureGates: {{FastImagePull: {}}}\n",
                i % 7,
                i.is_multiple_of(2)
            )),
        ),
    ];
    if i.is_multiple_of(3) {
        use base64::Engine as _;
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(nc("  containerd:\n    config: |\n      [plugins.a]\n      x = 1\n  instance:\n    localStorage: {strategy: RAID0}\n").as_bytes()).unwrap();
        parts.push(OutPart::new(
            "application/node.eks.aws",
            base64::engine::general_purpose::STANDARD.encode(e.finish().unwrap()),
        ));
    }
    write(&parts, &WriteOptions::default())
}

fn main() {
    let files: Vec<Vec<u8>> = (0..FILES).map(generate).collect();
    let drop_ins = vec![
        ("10-labels.yaml".to_string(), nc("  kubelet:\n    flags: [--node-labels=dropin=1]\n").into_bytes()),
        ("20-pods.json".to_string(), br#"{"apiVersion":"node.eks.aws/v1alpha1","kind":"NodeConfig","spec":{"kubelet":{"config":{"maxPods":64}}}}"#.to_vec()),
    ];
    let mut lat = Vec::with_capacity(FILES);
    let mut bytes_out = 0;
    let start = Instant::now();
    for (i, f) in files.iter().enumerate() {
        let t = Instant::now();
        let opts = Options {
            drop_ins: drop_ins.clone(),
            instance_type: Some(TYPES[i % TYPES.len()].into()),
            vcpus: Some(4),
            explain: true,
            ..Default::default()
        };
        let r = render(&Envelope::parse(f, &Limits::default()), &opts);
        bytes_out += r.yaml().len();
        lat.push(t.elapsed());
    }
    let total = start.elapsed();
    println!(
        "render, in-process, 1 thread: {FILES} files with 2 drop-ins each, {bytes_out} bytes of YAML out, in {:.1} ms",
        total.as_secs_f64() * 1e3
    );
    common::print_latency("render", &mut lat, total);
}
