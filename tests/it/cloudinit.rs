//! Part typing against cloud-init's own `UserDataProcessor` (issue #15): `tests/cloudinit/
//! part_types.py` (the project's driver; it only calls Debian's cloud-init package) reports the
//! content type cloud-init dispatches each part under, and the envelope reader's `PartKind`
//! must name the same handler, over every fixture, every corpus file, every `convert` output
//! of the AL2 fixtures and generated parts (first lines with whitespace, case and every prefix,
//! under every content type that is typed by content). Where the two envelopes disagree on the
//! parts themselves (cloud-init's Python `email` parser and the nodeadm-shaped reader differ on
//! broken MIME), typing cannot be compared; those inputs are counted and their kinds listed in
//! docs/architecture.md.

use crate::util::{files_under, root};
use eks_userdata::userdata::{Envelope, Limits, PartKind};
use std::path::PathBuf;
use std::process::Command;

const PYTHON: &str = "/usr/bin/python3";

fn cloud_init_available() -> bool {
    Command::new(PYTHON).args(["-c", "import cloudinit.user_data"]).output().is_ok_and(|o| o.status.success())
}

/// The handler cloud-init dispatches a content type to, as a `PartKind`.
fn kind_of(ctype: &str) -> PartKind {
    match ctype {
        "text/x-shellscript"
        | "text/x-shellscript-per-boot"
        | "text/x-shellscript-per-instance"
        | "text/x-shellscript-per-once" => PartKind::ShellScript,
        "text/cloud-config" | "text/cloud-config-jsonp" | "text/cloud-config-archive" => PartKind::CloudConfig,
        "text/cloud-boothook" => PartKind::Boothook,
        "text/x-include-url" | "text/x-include-once-url" => PartKind::Include,
        "text/part-handler" => PartKind::PartHandler,
        "text/jinja2" => PartKind::JinjaTemplate,
        "application/node.eks.aws" => PartKind::NodeConfig,
        _ => PartKind::Other,
    }
}

/// What the comparison found for one input.
#[derive(Debug, PartialEq, Eq)]
enum Outcome {
    Agree,
    /// cloud-init reads MIME where the reader reads one document, or the other way round
    /// (cloud-init looks for `mime-version:` anywhere in the first 4096 bytes, and Python's
    /// `email` takes headers only from the first byte: a comment or template directive before
    /// them makes the whole input one `text/plain` body).
    EnvelopeMode,
    /// Both read MIME but see different parts (broken MIME, nested multiparts).
    PartCount,
    /// cloud-init itself raised (a MIME document that is not UTF-8, say).
    CloudInitError,
    Differ(String),
}

fn compare(env: &Envelope, reading: &serde_json::Value) -> Outcome {
    if reading.get("error").is_some() {
        return Outcome::CloudInitError;
    }
    let types: Vec<&str> = reading["types"].as_array().unwrap().iter().map(|t| t.as_str().unwrap()).collect();
    if reading["multipart"].as_bool() != Some(env.is_multipart()) {
        return Outcome::EnvelopeMode;
    }
    let ours: Vec<PartKind> = env.parts.iter().map(|p| p.kind).filter(|k| *k != PartKind::Multipart).collect();
    if ours.len() != types.len() || env.parts.iter().any(|p| p.kind == PartKind::Multipart) {
        return Outcome::PartCount;
    }
    for (k, (ours, theirs)) in ours.iter().zip(&types).enumerate() {
        let expected = kind_of(theirs);
        // One document that is no script or cloud-config: nodeadm reads it as a NodeConfig,
        // cloud-init leaves it (`text/x-not-multipart` has no handler).
        let same =
            *ours == expected || (!env.is_multipart() && *ours == PartKind::NodeConfig && expected == PartKind::Other);
        if !same {
            return Outcome::Differ(format!("part {}: ours {ours:?}, cloud-init {theirs}", k + 1));
        }
    }
    Outcome::Agree
}

/// Single parts whose type cloud-init settles by content: every prefix, with leading
/// whitespace and changed case, under every content type that is typed by content (and a few
/// that are not), in MIME and alone.
fn generated() -> Vec<(String, Vec<u8>)> {
    let firsts = [
        "#!/bin/bash",
        "#!",
        "#cloud-config",
        "#CLOUD-CONFIG",
        "#cloud-config-archive",
        "#cloud-config-jsonp",
        "#cloud-boothook",
        "#include",
        "#include-once",
        "#part-handler",
        "## template: jinja",
        "## Template: Jinja",
        "#  cloud-config",
        "# cloud-config",
        "apiVersion: node.eks.aws/v1alpha1",
        "echo hello",
        "",
        "text/x-shellscript-per-boot",
        "#!/bin/bash\r",
    ];
    let leads = ["", " ", "\t", "\n", "\r\n", "\u{0b}", "\u{1c}", "\u{a0}", "\u{2028}", "\u{feff}", "x"];
    let types = [
        None,
        Some("text/plain"),
        Some("text/x-shellscript"),
        Some("text/x-shellscript-per-boot"),
        Some("text/cloud-config"),
        Some("application/node.eks.aws"),
        Some("text/x-not-multipart"),
        Some("TEXT/X-SHELLSCRIPT"),
        Some("text/plain; charset=\"us-ascii\""),
    ];
    let mut out = Vec::new();
    for (f, first) in firsts.iter().enumerate() {
        for (l, lead) in leads.iter().enumerate() {
            let body = format!("{lead}{first}\nrest of the body\n");
            out.push((format!("alone-{f}-{l}"), body.clone().into_bytes()));
            for (t, ct) in types.iter().enumerate() {
                let header = ct.map(|c| format!("Content-Type: {c}\n")).unwrap_or_default();
                let mime = format!(
                    "MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"//\"\n\n--//\n{header}\n{body}--//--\n"
                );
                out.push((format!("mime-{f}-{l}-{t}"), mime.into_bytes()));
            }
        }
    }
    out
}

#[test]
fn cloud_init_types_every_part_as_the_envelope_reader_does() {
    if !cloud_init_available() {
        eprintln!(
            "cloud-init is not on this machine (.ci/run installs Debian's cloud-init package): the part-typing differential is skipped"
        );
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    // (name, what the node receives): files, convert outputs, generated parts.
    let mut inputs: Vec<(String, Vec<u8>)> = Vec::new();
    let mut files = Vec::new();
    files_under(&root().join("fixtures"), &mut files);
    files_under(&root().join("../shared/corpus"), &mut files);
    files.sort();
    for f in &files {
        inputs.push((f.display().to_string(), std::fs::read(f).unwrap()));
    }
    for f in crate::util::fixtures("al2") {
        let source = eks_userdata::Source::new(f.as_str(), std::fs::read(root().join(&f)).unwrap());
        let opts = eks_userdata::translate::Options::default();
        let format = eks_userdata::translate::emit::Format::Mime;
        if let Ok(Some(out)) = eks_userdata::translate::convert(&source, &opts, format, "out").map(|c| c.output) {
            inputs.push((format!("convert of {f}"), out));
        }
    }
    inputs.extend(generated());
    // cloud-init reads what the node receives: EC2 has already undone the launch template's
    // base64, so it gets the reader's payload.
    let envs: Vec<Envelope> = inputs.iter().map(|(_, b)| Envelope::parse(b, &Limits::default())).collect();
    let paths: Vec<PathBuf> = envs
        .iter()
        .enumerate()
        .map(|(i, env)| {
            let p = dir.path().join(format!("{i:05}"));
            std::fs::write(&p, &env.payload).unwrap();
            p
        })
        .collect();
    let run = Command::new(PYTHON).arg(root().join("tests/cloudinit/part_types.py")).args(&paths).output().unwrap();
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let readings: Vec<serde_json::Value> =
        String::from_utf8(run.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(readings.len(), inputs.len());
    let (mut agree, mut mode, mut count, mut error, mut differ) = (0, 0, 0, 0, Vec::new());
    for (((name, _), env), reading) in inputs.iter().zip(&envs).zip(&readings) {
        match compare(env, reading) {
            Outcome::Agree => agree += 1,
            Outcome::EnvelopeMode => {
                mode += 1;
                println!("  not comparable (MIME or not): {name}");
            }
            Outcome::PartCount => {
                count += 1;
                println!("  not comparable (parts differ): {name}");
            }
            Outcome::CloudInitError => error += 1,
            Outcome::Differ(d) => differ.push(format!("{name}: {d}")),
        }
    }
    println!(
        "cloud-init part typing: {} inputs, {agree} typed alike, {} differ; not comparable: {mode} MIME or not, {count} parts differ, {error} cloud-init errors",
        inputs.len(),
        differ.len()
    );
    assert!(differ.is_empty(), "{}", differ.join("\n"));
    assert!(agree > 1500, "too few comparable inputs: {agree}");
}
