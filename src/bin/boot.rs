//! `eks-userdata-boot`: run from a user-data shell part before `nodeadm-run`, it reads the boot
//! spec, asks IMDS for the instance's facts, and writes one nodeadm drop-in. Failing soft is the
//! point: if IMDS does not answer or the spec cannot be applied, it writes nothing, says why on
//! standard error (the journal, under cloud-init), and exits 0 so the node joins with its
//! static configuration, unless the spec marks the value `required` (then exit 1).
//!
//! Data volumes in the spec are set up first, each on its own: a failure is logged and the rest
//! goes on.
//!
//! usage: eks-userdata-boot [--spec FILE] [--root DIR] [--imds URL] [--timeout-ms N] [--vcpus N]

// Issue #15: no indexing or slicing that can panic (see lib.rs).
#![deny(clippy::string_slice, clippy::indexing_slicing)]

use eks_userdata::boot::{compute, dropin, imds, spec, volume};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

struct Args {
    spec: PathBuf,
    root: PathBuf,
    imds: String,
    timeout: Duration,
    vcpus: Option<u32>,
}

const USAGE: &str = "usage: eks-userdata-boot [--spec FILE] [--root DIR] [--imds URL] [--timeout-ms N] [--vcpus N]";

fn args() -> Result<Args, String> {
    let mut a = Args {
        spec: PathBuf::from("/etc/eks-userdata/boot.yaml"),
        root: PathBuf::from("/"),
        imds: "http://169.254.169.254".into(),
        timeout: Duration::from_secs(10),
        vcpus: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{flag} needs a value\n{USAGE}"));
        match flag.as_str() {
            "--spec" => a.spec = value()?.into(),
            "--root" => a.root = value()?.into(),
            "--imds" => a.imds = value()?,
            "--timeout-ms" => {
                a.timeout =
                    Duration::from_millis(value()?.parse().map_err(|_| format!("--timeout-ms: a number\n{USAGE}"))?)
            }
            "--vcpus" => a.vcpus = Some(value()?.parse().map_err(|_| format!("--vcpus: a number\n{USAGE}"))?),
            "--version" => return Err(format!("eks-userdata-boot {}", env!("CARGO_PKG_VERSION"))),
            "-h" | "--help" => return Err(USAGE.into()),
            other => return Err(format!("unknown argument `{other}`\n{USAGE}")),
        }
    }
    Ok(a)
}

fn log(msg: &str) {
    eprintln!("eks-userdata-boot: {msg}");
}

fn main() -> ExitCode {
    let started = Instant::now();
    let a = match args() {
        Ok(a) => a,
        Err(msg) => {
            eprintln!("{msg}");
            return ExitCode::from(if msg.starts_with("usage") || msg.starts_with("eks-userdata-boot ") {
                0
            } else {
                2
            });
        }
    };
    let text = match std::fs::read_to_string(&a.spec) {
        Ok(t) => t,
        Err(e) => {
            log(&format!("no drop-in written: cannot read the spec {}: {e}", a.spec.display()));
            return ExitCode::SUCCESS;
        }
    };
    let spec = match spec::parse(&text) {
        Ok(s) => s,
        Err(e) => {
            log(&format!("no drop-in written: {}: {e}", a.spec.display()));
            return ExitCode::SUCCESS;
        }
    };
    // Volumes first: containerd must find its data volume when nodeadm-run starts it.
    for v in &spec.data_volumes {
        // --root moves the target and fstab (tests); devices are the machine's.
        let target = a.root.join(v.target.trim_start_matches('/')).to_string_lossy().into_owned();
        let v = &volume::Volume { target, ..v.clone() };
        match volume::setup(v, &a.root.join("etc/fstab"), std::path::Path::new("/dev/disk/by-id")) {
            Ok(volume::Done::AlreadyMounted) => log(&format!("{} is already mounted from {}", v.target, v.device)),
            Ok(volume::Done::Mounted { formatted, copied }) => log(&format!(
                "mounted {} on {}{}{}",
                v.device,
                v.target,
                if formatted { ", formatted it" } else { "" },
                if copied { ", copied the directory's contents onto it" } else { "" }
            )),
            Err(e) => log(&format!("data volume {} for {} not set up: {e}", v.device, v.target)),
        }
    }
    let required = spec.max_pods.as_ref().is_some_and(|m| m.required);
    let fail = |why: String| {
        log(&format!("no drop-in written: {why}"));
        if required { ExitCode::from(1) } else { ExitCode::SUCCESS }
    };
    let facts = match imds::Client::new(&a.imds, a.timeout).and_then(|mut c| c.facts()) {
        Ok(f) => f,
        Err(e) => return fail(e.to_string()),
    };
    let vcpus = a.vcpus.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get() as u32));
    let computed = match compute::compute(&spec, &facts, vcpus) {
        Ok(c) => c,
        Err(e) => return fail(e.to_string()),
    };
    for n in &computed.notes {
        log(n);
    }
    let Some(text) = dropin::render(&computed) else {
        log("nothing to write: the spec computed no value for this instance");
        return ExitCode::SUCCESS;
    };
    let path = dropin::path(&a.root, spec.priority);
    if let Err(e) = dropin::write(&path, &text) {
        return fail(format!("cannot write {}: {e}", path.display()));
    }
    log(&format!(
        "wrote {} for {} in {} ms",
        path.display(),
        facts.instance_type.as_deref().unwrap_or("an unknown instance type"),
        started.elapsed().as_millis()
    ));
    ExitCode::SUCCESS
}
