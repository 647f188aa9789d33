//! Deterministic MIME multipart output (docs/rust-stack.md §1.3): the same parts always give the
//! same bytes, so snapshots mean something and a re-run creates no new launch-template version.
//! `MIME-Version: 1.0`, one `Content-Type` per part, parts in order, LF line endings (cloud-init
//! and Go's multipart reader accept LF; Karpenter and CDK emit LF), a fixed boundary (`//`, as
//! Karpenter) that is checked against every body line (RFC 2046 §5.1.1) and replaced by a
//! deterministic one on collision. Bodies are copied verbatim apart from line endings.

use super::{Envelope, Header};

pub const DEFAULT_BOUNDARY: &str = "//";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutPart {
    /// Headers in order; the writer adds nothing, and keeps only the first `Content-Type`.
    pub headers: Vec<(String, String)>,
    /// The body as it should appear on the wire (still transfer-encoded if a header says so).
    pub body: Vec<u8>,
}

impl OutPart {
    pub fn new(content_type: &str, body: impl Into<Vec<u8>>) -> Self {
        OutPart { headers: vec![("Content-Type".into(), content_type.into())], body: body.into() }
    }

    /// A text part with `charset="us-ascii"` when the body is ASCII, else `"utf-8"`.
    pub fn text(media: &str, body: impl Into<Vec<u8>>) -> Self {
        let body = body.into();
        let charset = if body.is_ascii() { "us-ascii" } else { "utf-8" };
        OutPart::new(&format!("{media}; charset=\"{charset}\""), body)
    }
}

#[derive(Debug, Clone)]
pub struct WriteOptions {
    pub boundary: String,
}

impl Default for WriteOptions {
    fn default() -> Self {
        WriteOptions { boundary: DEFAULT_BOUNDARY.into() }
    }
}

/// The parts of a parsed envelope, every header kept (duplicate `Content-Type`s dropped, as
/// consumers only read the first) and raw bodies copied.
pub fn parts_of(env: &Envelope) -> Vec<OutPart> {
    env.parts
        .iter()
        .map(|p| {
            let mut seen_ct = false;
            let headers = p
                .headers
                .iter()
                .filter(|h: &&Header| !(h.is("content-type") && std::mem::replace(&mut seen_ct, true)))
                .map(|h| (h.name.clone(), h.value.clone()))
                .collect();
            OutPart { headers, body: p.raw_body(&env.payload).to_vec() }
        })
        .collect()
}

fn lf(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len() + 1);
    // Copied between carriage returns; one is dropped only before a line feed.
    let mut rest = body;
    while let Some((head, tail)) = memchr::memchr(b'\r', rest).and_then(|i| rest.split_at_checked(i)) {
        out.extend_from_slice(head);
        if tail.get(1) != Some(&b'\n') {
            out.push(b'\r');
        }
        rest = tail.get(1..).unwrap_or_default();
    }
    out.extend_from_slice(rest);
    // A final line ending in a backslash stays without a newline: one would join the
    // delimiter's blank line to it and change the command bash reads.
    if !out.ends_with(b"\n") && !out.ends_with(b"\\") {
        out.push(b'\n');
    }
    out
}

fn collides(boundary: &str, bodies: &[Vec<u8>]) -> bool {
    let delim = format!("--{boundary}");
    bodies.iter().any(|b| b.split(|c| *c == b'\n').any(|line| line.starts_with(delim.as_bytes())))
}

/// FNV-1a: tiny, stable across platforms and releases (unlike `DefaultHasher`).
fn fnv1a(data: impl Iterator<Item = u8>) -> u64 {
    data.fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3))
}

/// The boundary actually used: the requested one, or `==<hash>==` derived from the bodies.
pub fn choose_boundary(requested: &str, bodies: &[Vec<u8>]) -> String {
    if !collides(requested, bodies) {
        return requested.to_string();
    }
    let mut seed = fnv1a(bodies.iter().flat_map(|b| b.iter().copied()));
    loop {
        let candidate = format!("=={seed:016x}==");
        if !collides(&candidate, bodies) {
            return candidate;
        }
        seed = fnv1a(seed.to_le_bytes().into_iter());
    }
}

pub fn write(parts: &[OutPart], opts: &WriteOptions) -> Vec<u8> {
    let bodies: Vec<Vec<u8>> = parts.iter().map(|p| lf(&p.body)).collect();
    let boundary = choose_boundary(&opts.boundary, &bodies);
    let mut out = Vec::new();
    out.extend_from_slice(b"MIME-Version: 1.0\n");
    out.extend_from_slice(format!("Content-Type: multipart/mixed; boundary=\"{boundary}\"\n\n").as_bytes());
    for (part, body) in parts.iter().zip(&bodies) {
        out.extend_from_slice(format!("--{boundary}\n").as_bytes());
        let mut seen_ct = false;
        for (name, value) in &part.headers {
            if name.eq_ignore_ascii_case("content-type") && std::mem::replace(&mut seen_ct, true) {
                continue;
            }
            out.extend_from_slice(format!("{name}: {value}\n").as_bytes());
        }
        out.push(b'\n');
        out.extend_from_slice(body);
        // The line break before a delimiter belongs to the delimiter (RFC 2046 §5.1.1): an extra
        // one keeps the body's own final newline.
        out.push(b'\n');
    }
    out.extend_from_slice(format!("--{boundary}--\n").as_bytes());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn carriage_returns_go_only_before_line_feeds() {
        // The byte-at-a-time reading `lf` replaced.
        let reference = |body: &[u8]| {
            let mut out: Vec<u8> = Vec::new();
            for (i, &b) in body.iter().enumerate() {
                if !(b == b'\r' && body.get(i + 1) == Some(&b'\n')) {
                    out.push(b);
                }
            }
            if !out.ends_with(b"\n") && !out.ends_with(b"\\") {
                out.push(b'\n');
            }
            out
        };
        for text in crate::testing::mixed_texts(&["\r", "\n", "a", "\\", "\r\n", "\r\r"], 7, 8, 5_000) {
            assert_eq!(lf(text.as_bytes()), reference(text.as_bytes()), "{text:?}");
        }
    }
    use crate::userdata::{Envelope, Limits, PartKind};

    fn sample() -> Vec<OutPart> {
        vec![
            OutPart::text("text/x-shellscript", "#!/bin/bash\r\necho hi"),
            OutPart::new("application/node.eks.aws", "apiVersion: node.eks.aws/v1alpha1\nkind: NodeConfig\n"),
        ]
    }

    #[test]
    fn output_is_byte_stable() {
        let a = write(&sample(), &WriteOptions::default());
        assert_eq!(a, write(&sample(), &WriteOptions::default()));
        insta::assert_snapshot!(String::from_utf8(a).unwrap());
    }

    #[test]
    fn parse_write_parse_keeps_parts_and_headers() {
        let mut parts = sample();
        parts[0].headers.push(("Content-Disposition".into(), "attachment; filename=\"a.sh\"".into()));
        parts[1].headers.push(("Merge-Type".into(), "list(append)+dict(recurse_array)".into()));
        let first = write(&parts, &WriteOptions::default());
        let env = Envelope::parse(&first, &Limits::default());
        assert!(env.defects.is_empty(), "{:?}", env.defects);
        assert_eq!(env.parts.len(), 2);
        assert_eq!(env.parts[0].kind, PartKind::ShellScript);
        assert_eq!(env.parts[0].header("content-disposition").unwrap().value, "attachment; filename=\"a.sh\"");
        assert_eq!(env.parts[1].header("merge-type").unwrap().value, "list(append)+dict(recurse_array)");
        let second = write(&parts_of(&env), &WriteOptions::default());
        assert_eq!(first, second, "write ∘ parse is the identity on our own output");
    }

    #[test]
    fn boundary_collision_is_resolved_deterministically() {
        let parts = vec![OutPart::new("text/x-shellscript", "#!/bin/sh\n--//\n")];
        let out = String::from_utf8(write(&parts, &WriteOptions::default())).unwrap();
        let b = choose_boundary("//", &[b"#!/bin/sh\n--//\n".to_vec()]);
        assert!(b.starts_with("==") && b != "//");
        assert!(out.contains(&format!("boundary=\"{b}\"")));
        let env = Envelope::parse(out.as_bytes(), &Limits::default());
        assert_eq!(env.parts.len(), 1);
        assert_eq!(env.parts[0].body, b"#!/bin/sh\n--//\n");
    }
}
