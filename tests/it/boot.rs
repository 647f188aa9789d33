//! `eks-userdata-boot` against a test IMDS on loopback (token flow, facts, and the faults a node
//! meets: slow answers, an expired token, missing facts, nothing listening), writing into a
//! temporary root, and the drop-in checked through `render --drop-ins` of the same tree.

use crate::util::{bin, root};
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

#[derive(Clone, Copy, PartialEq)]
enum Fault {
    None,
    /// Every answer waits this long.
    Slow(u64),
    /// The first GET says 401, as for an expired token.
    ExpireOnce,
}

/// A fake IMDSv2: serves until the test ends (the thread is detached; the port dies with it).
fn imds(instance_type: &'static str, lifecycle: &'static str, fault: Fault) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let gets = Arc::new(AtomicUsize::new(0));
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut s) = stream else { continue };
            let mut reader = BufReader::new(s.try_clone().unwrap());
            let mut first = String::new();
            let _ = reader.read_line(&mut first);
            let mut token = None;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if let Some(v) = line.strip_prefix("X-aws-ec2-metadata-token: ") {
                    token = Some(v.trim().to_string());
                }
            }
            if let Fault::Slow(ms) = fault {
                std::thread::sleep(Duration::from_millis(ms));
            }
            let mut parts = first.split_whitespace();
            let (method, path) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
            let (status, body) = if method == "PUT" && path == "/latest/api/token" {
                (200, "token-1".to_string())
            } else if token.as_deref() != Some("token-1")
                || (fault == Fault::ExpireOnce && gets.fetch_add(1, Ordering::SeqCst) == 0)
            {
                // No or a wrong token; or the first GET of an "expired" one.
                (401, String::new())
            } else {
                match path.trim_start_matches("/latest/meta-data/") {
                    "instance-type" => (200, instance_type.to_string()),
                    "instance-life-cycle" => (200, lifecycle.to_string()),
                    "placement/availability-zone" => (200, "eu-west-1b".to_string()),
                    "placement/region" => (200, "eu-west-1".to_string()),
                    _ => (404, "Not Found".to_string()),
                }
            };
            let _ =
                write!(s, "HTTP/1.1 {status} X\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len());
        }
    });
    url
}

fn boot() -> assert_cmd::Command {
    let mut cmd = assert_cmd::cargo::cargo_bin_cmd!("eks-userdata-boot");
    cmd.current_dir(root());
    cmd
}

const PD: &str = "apiVersion: eks-userdata/v1alpha1\nkind: BootSpec\nmaxPods: {formula: prefix-delegation}\nkubeReserved: recompute\nlabels:\n  - {key: node.example.com/lifecycle, from: lifecycle}\n  - {key: node.example.com/partition, from: partition}\ntaints:\n  - {key: spot, value: \"true\", effect: NoSchedule, when: {lifecycle: spot}}\n";

struct Run {
    dir: tempfile::TempDir,
    code: i32,
    stderr: String,
}

impl Run {
    fn dropin(&self) -> Option<String> {
        std::fs::read_to_string(self.dir.path().join("root/etc/eks/nodeadm.d/50-eks-userdata.yaml")).ok()
    }
}

fn run(spec: &str, url: &str, extra: &[&str]) -> Run {
    let dir = tempfile::tempdir().unwrap();
    let spec_path = dir.path().join("boot.yaml");
    std::fs::write(&spec_path, spec).unwrap();
    let root_dir = dir.path().join("root");
    let out = boot()
        .args([
            "--spec",
            spec_path.to_str().unwrap(),
            "--root",
            root_dir.to_str().unwrap(),
            "--imds",
            url,
            "--vcpus",
            "2",
        ])
        .args(extra)
        .output()
        .unwrap();
    Run { code: out.status.code().unwrap_or(-1), stderr: String::from_utf8_lossy(&out.stderr).into_owned(), dir }
}

#[test]
fn prefix_delegation_on_m5_large_matches_render() {
    let r = run(PD, &imds("m5.large", "spot", Fault::None), &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let text = r.dropin().expect("drop-in written");
    assert!(text.contains("maxPods: 110") && text.contains("memory: 1465Mi"), "{text}");
    assert!(text.contains("--node-labels=node.example.com/lifecycle=spot"), "{text}");
    assert!(r.stderr.contains("label node.example.com/partition left out"), "a 404 fact is left out: {}", r.stderr);
    // What nodeadm builds from user data plus this drop-in: the hook's values win.
    let user_data = root().join("fixtures/al2023/bare-nodeconfig.yaml");
    let dropins = r.dir.path().join("root/etc/eks/nodeadm.d");
    let out = bin()
        .args([
            "render",
            user_data.to_str().unwrap(),
            "--drop-ins",
            dropins.to_str().unwrap(),
            "--instance-type",
            "m5.large",
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    let rendered: serde_json::Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|_| panic!("{}", String::from_utf8_lossy(&out.stderr)));
    let text = rendered.to_string();
    assert!(text.contains("\"maxPods\":110") && text.contains("\"memory\":\"1465Mi\""), "{text}");
    assert!(text.contains("\"key\":\"spot\""), "the taint: {text}");
}

#[test]
fn faults_are_waited_for_retried_or_failed_soft() {
    // Slow IMDS: waited for within the budget.
    let r = run(PD, &imds("m5.large", "on-demand", Fault::Slow(300)), &["--timeout-ms", "5000"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let text = r.dropin().unwrap();
    assert!(!text.contains("spot"), "on-demand: no spot taint: {text}");
    // An expired token: a new one is fetched once.
    let r = run(PD, &imds("m5.large", "spot", Fault::ExpireOnce), &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.dropin().is_some());
    // Nothing listening: nothing written, exit 0, the reason logged.
    let closed = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let r = run(PD, &format!("http://{closed}"), &["--timeout-ms", "300"]);
    assert_eq!(r.code, 0);
    assert!(r.dropin().is_none());
    assert!(r.stderr.contains("no drop-in written") && r.stderr.contains("did not answer"), "{}", r.stderr);
    // ... unless the spec says maxPods is required.
    let required = PD.replace("{formula: prefix-delegation}", "{formula: prefix-delegation, required: true}");
    assert_eq!(run(&required, &format!("http://{closed}"), &["--timeout-ms", "300"]).code, 1);
    // An instance type nodeadm does not know: left to nodeadm, exit 0.
    let r = run(PD, &imds("x9.mega", "spot", Fault::None), &[]);
    assert_eq!(r.code, 0);
    assert!(r.stderr.contains("not in nodeadm's instance table"), "{}", r.stderr);
    // A broken spec: nothing written, exit 0, said why.
    let r = run(
        "apiVersion: eks-userdata/v1alpha1\nkind: BootSpec\nmaxpods: 3\n",
        &imds("m5.large", "spot", Fault::None),
        &[],
    );
    assert_eq!(r.code, 0);
    assert!(r.dropin().is_none() && r.stderr.contains("maxpods"), "{}", r.stderr);
}

#[test]
fn data_volume_is_formatted_once_filled_and_mounted_by_uuid() {
    use crate::datavol::{Loop, can_run, in_namespace};
    if let Err(why) = can_run() {
        eprintln!("boot hook data-volume test skipped: {why}");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let dev = Loop::new(dir.path(), "disk.img", "320M");
    let root_dir = dir.path().join("root");
    let target = root_dir.join("var/lib/containerd");
    std::fs::create_dir_all(&target).unwrap();
    std::fs::write(target.join("pause.marker"), "cached pause image").unwrap();
    let spec = dir.path().join("boot.yaml");
    std::fs::write(&spec, format!("apiVersion: eks-userdata/v1alpha1\nkind: BootSpec\ndataVolumes:\n  - {{device: {}, target: /var/lib/containerd, waitSeconds: 2}}\n", dev.0)).unwrap();
    let hook = assert_cmd::cargo::cargo_bin!("eks-userdata-boot");
    let run = format!(
        "{} --spec {} --root {} --imds http://127.0.0.1:1 --timeout-ms 100",
        hook.display(),
        spec.display(),
        root_dir.display()
    );
    // Twice in one private mount namespace: the second run finds it mounted and changes nothing.
    let (code, out, err) = in_namespace(&format!(
        "set -e; {run}; findmnt -rn -o SOURCE --target {t}; cat {t}/pause.marker; echo; {run}; grep -c '^UUID=' {fstab}",
        t = target.display(),
        fstab = root_dir.join("etc/fstab").display()
    ));
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("formatted it, copied the directory's contents onto it"), "{err}");
    assert!(err.contains("is already mounted"), "second run: {err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines, [dev.0.as_str(), "cached pause image", "1"], "{out}");
    // Outside the namespace nothing is mounted; the device now has a filesystem, so a new run
    // in a fresh namespace mounts it without formatting.
    let (code, _, err) = in_namespace(&format!("set -e; {run}"));
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("mounted") && !err.contains("formatted"), "{err}");
}

#[test]
fn convert_boot_hook_computes_the_spot_branch_at_boot() {
    use eks_userdata::boot::{compute, imds::Facts, spec};
    let out = bin()
        .args([
            "convert",
            "--cluster-info",
            "fixtures/cluster-info.yaml",
            "fixtures/al2/spot-branches.sh",
            "--boot-hook",
            "--boot-hook-url",
            "https://example.com/eks-userdata-boot",
            "--boot-hook-sha256",
            &"ab".repeat(32),
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "no CV409 error with the hook: {}", String::from_utf8_lossy(&out.stderr));
    let mime = String::from_utf8(out.stdout).unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("CV431"));
    assert!(mime.contains("sha256sum -c -") && mime.contains("https://example.com/eks-userdata-boot"), "{mime}");
    insta::assert_snapshot!("convert_boot_hook_spot_branches", mime);
    // The spec in the heredoc is one the hook accepts, and gives each branch's values.
    let body = mime.split("<<'EKS_USERDATA_BOOT'\n").nth(1).unwrap().split("EKS_USERDATA_BOOT\n").next().unwrap();
    let s = spec::parse(body).unwrap();
    for (lifecycle, pods, memory) in [("spot", 110, "1465Mi"), ("on-demand", 58, "893Mi")] {
        let facts =
            Facts { instance_type: Some("m5.large".into()), lifecycle: Some(lifecycle.into()), ..Default::default() };
        let c = compute::compute(&s, &facts, 2).unwrap();
        assert_eq!((c.max_pods, c.kube_reserved_memory.as_deref()), (Some(pods), Some(memory)), "{lifecycle}");
        assert_eq!(c.labels, [("lifecycle".to_string(), lifecycle.to_string())]);
    }
    // The static NodeConfig keeps neither branch's values.
    let nodeconfig = mime.rsplit("Content-Type: application/node.eks.aws").next().unwrap();
    assert!(!nodeconfig.contains("maxPods") && !nodeconfig.contains("lifecycle"), "{nodeconfig}");
    // Bad usage: a URL without a checksum, or a checksum that is not one.
    bin()
        .args(["convert", "fixtures/al2/spot-branches.sh", "--boot-hook", "--boot-hook-url", "https://x"])
        .assert()
        .code(2);
    bin()
        .args([
            "convert",
            "fixtures/al2/spot-branches.sh",
            "--boot-hook",
            "--boot-hook-url",
            "https://x",
            "--boot-hook-sha256",
            "abc",
        ])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("not 64 hex digits"));
}

#[test]
fn convert_boot_hook_reads_imds_labels_at_boot() {
    use eks_userdata::boot::{compute, imds::Facts, spec};
    let without = bin()
        .args(["convert", "--cluster-info", "fixtures/cluster-info.yaml", "fixtures/al2/imds-labels.sh"])
        .output()
        .unwrap();
    assert_eq!(without.status.code(), Some(1), "without the hook the labels need review (CV406)");
    let out = bin()
        .args([
            "convert",
            "--cluster-info",
            "fixtures/cluster-info.yaml",
            "fixtures/al2/imds-labels.sh",
            "--boot-hook",
            "--boot-hook-path",
            "/opt/bin/eks-userdata-boot",
        ])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(err.contains("CV431") && !err.contains("CV406"), "{err}");
    let mime = String::from_utf8(out.stdout).unwrap();
    assert!(mime.contains("HOOK='/opt/bin/eks-userdata-boot'"), "{mime}");
    assert!(
        mime.contains("- --node-labels=team=search\n") && !mime.contains("$ZONE"),
        "static labels stay, IMDS ones go: {mime}"
    );
    let body = mime.split("<<'EKS_USERDATA_BOOT'\n").nth(1).unwrap().split("EKS_USERDATA_BOOT\n").next().unwrap();
    let s = spec::parse(body).unwrap();
    let facts = Facts { zone: Some("eu-west-1c".into()), partition: Some("3".into()), ..Default::default() };
    let c = compute::compute(&s, &facts, 2).unwrap();
    assert_eq!(
        c.labels,
        [
            ("topology.example.com/zone".to_string(), "eu-west-1c".to_string()),
            ("topology.example.com/partition".to_string(), "3".to_string())
        ]
    );
}
