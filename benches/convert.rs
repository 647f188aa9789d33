//! `convert` throughput (issue #3 goal: ≥ 2,000 files/s on one core). Run with
//! `cargo bench --bench convert`. No timing assertions: this reports numbers.
//!
//! 1,000 varied AL2 inputs are generated deterministically (plain scripts, MIME with shell
//! parts, Terraform templates, spot/on-demand branches, cloud-config runcmd, base64+gzip, 0–12
//! kubelet flags) and converted in-process on one thread for `--target self-managed` with
//! cluster values, as the CLI does: plan, MIME output, the lint of the output, and the
//! equivalence check (the AL2 node model against `render` of the output; issue #13).

#![allow(clippy::expect_used, clippy::unwrap_used)] // a benchmark harness: failing loudly is right
mod common;

use eks_userdata::translate::{self, ClusterInfo, Options, emit};
use eks_userdata::{Source, Target};
use std::io::Write;
use std::time::Instant;

const FILES: usize = 1000;

struct Rng(u64);
impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

const KUBELET: &[&str] = &[
    "--node-labels=team=t{i},tier=backend",
    "--max-pods=58",
    "--register-with-taints=dedicated=t{i}:NoSchedule",
    "--kube-reserved=cpu=250m,memory=1Gi",
    "--eviction-hard=memory.available<500Mi,nodefs.available<10%",
    "--image-gc-high-threshold=80",
    "--pod-max-pids=4096",
    "--cpu-manager-policy=static",
    "--reserved-cpus=0-1",
    "--feature-gates=RotateKubeletServerCertificate=true",
    "--node-ip=10.0.0.1",
    "--container-log-max-size=50Mi",
];

fn generate(rng: &mut Rng, i: usize) -> Vec<u8> {
    let n = rng.below(KUBELET.len() as u64 + 1) as usize;
    let start = rng.below(KUBELET.len() as u64) as usize;
    let args: Vec<String> =
        (0..n).map(|j| KUBELET[(start + j) % KUBELET.len()].replace("{i}", &i.to_string())).collect();
    let call = format!(
        "/etc/eks/bootstrap.sh cluster-{i} --b64-cluster-ca LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1Bb0dDQ3NHQVFVRkJ3TUIKLS0tLS1FTkQgQ0VSVElGSUNBVEUtLS0tLQo= --apiserver-endpoint https://{i:08x}.eks.amazonaws.com --service-ipv4-cidr 172.20.0.0/16 --kubelet-extra-args '{}'",
        args.join(" ")
    );
    let script = format!(
        "#!/bin/bash\nset -ex\nyum install -y jq\nCA=LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1Bb0dDQ3NHQVFVRkJ3TUIKLS0tLS1FTkQgQ0VSVElGSUNBVEUtLS0tLQo=\n{call} || exit 1\necho done {i}\n"
    );
    match i % 6 {
        0 | 1 => script.into_bytes(),
        2 => format!(
            "MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"==B==\"\n\n--==B==\nContent-Type: text/x-shellscript; charset=\"us-ascii\"\n\n#!/bin/bash\necho pre\n\n--==B==\nContent-Type: text/x-shellscript; charset=\"us-ascii\"\n\n{script}\n--==B==--\n"
        )
        .into_bytes(),
        3 => format!("#!/bin/bash\n%{{ if spot ~}}\necho spot\n%{{ endif ~}}\n/etc/eks/bootstrap.sh ${{cluster_name}} --b64-cluster-ca '${{ca}}' --kubelet-extra-args '--max-pods=${{max_pods}} {}'\necho $${{HOME}}\n", args.join(" ")).into_bytes(),
        4 => format!("#!/bin/bash\nif [ \"$SPOT\" = 1 ]; then\n  {call} --local-disks raid0\nelse\n  {call}\nfi\n").into_bytes(),
        _ => {
            use base64::Engine as _;
            let cc = format!("#cloud-config\npackages: [jq]\nruncmd:\n  - [ sysctl, -w, vm.max_map_count=262144 ]\n  - \"{}\"\n", call.replace('\'', "\\'").replace('"', "\\\""));
            let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
            e.write_all(if i % 12 == 5 { cc.as_bytes() } else { script.as_bytes() }).unwrap();
            base64::engine::general_purpose::STANDARD.encode(e.finish().unwrap()).into_bytes()
        }
    }
}

fn main() {
    let mut rng = Rng(0xC0FFEE);
    let files: Vec<Vec<u8>> = (0..FILES).map(|i| generate(&mut rng, i)).collect();
    let bytes: usize = files.iter().map(Vec::len).sum();
    let opts = Options {
        target: Target::SelfManaged,
        cluster: ClusterInfo {
            name: None,
            api_server_endpoint: Some("https://x.eks.amazonaws.com".into()),
            certificate_authority: Some(
                "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1Bb0dDQ3NHQVFVRkJ3TUIKLS0tLS1FTkQgQ0VSVElGSUNBVEUtLS0tLQo="
                    .into(),
            ),
            cidr: Some("172.20.0.0/16".into()),
            ..Default::default()
        },
        ..Default::default()
    };
    let run = |f: &[u8]| {
        let conv = translate::convert(&Source::new("in", f.to_vec()), &opts, emit::Format::Mime, "out").unwrap();
        assert!(conv.equivalence.is_some(), "the equivalence check ran");
        let entries: usize = conv.reports.iter().map(|r| r.findings.len()).sum();
        (entries, conv.unexplained, conv.output.map_or(0, |o| o.len()))
    };
    let _ = run(&files[0]); // warm-up: compile the schema once, as any real run does
    // Three passes: this VM's speed drifts by a quarter within minutes, so each pass is printed
    // and the latencies are over all of them (`valgrind --tool=cachegrind` gives a stable
    // instruction count when two builds must be compared).
    // `CONVERT_BENCH_PASSES=1` for an instruction count under valgrind.
    let passes: usize = std::env::var("CONVERT_BENCH_PASSES").ok().and_then(|p| p.parse().ok()).unwrap_or(3);
    let mut lat = Vec::with_capacity(FILES * passes);
    let (mut entries, mut out_bytes) = (0, 0);
    let start = Instant::now();
    for pass in 1..=passes {
        let t0 = Instant::now();
        for f in &files {
            let t = Instant::now();
            let (e, _, o) = run(f);
            lat.push(t.elapsed());
            entries += e;
            out_bytes += o;
        }
        let took = t0.elapsed();
        println!("  pass {pass}: {:.0} files/s", FILES as f64 / took.as_secs_f64());
    }
    let total = start.elapsed();
    println!(
        "convert, in-process, 1 thread: {passes} × {FILES} files ({bytes} bytes in, {} bytes out, {} report entries per pass) in {:.1} ms",
        out_bytes / passes,
        entries / passes,
        total.as_secs_f64() * 1e3
    );
    common::print_latency("file", &mut lat, total);
}
