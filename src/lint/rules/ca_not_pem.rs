//! NC219: nodeadm base64-decodes `cluster.certificateAuthority` and writes the bytes to
//! `/etc/kubernetes/pki/ca.crt` unchanged (docs §1.2); the kubelet reads that file as a PEM
//! bundle. Anything else decodes fine and then fails TLS to the API server at boot.

use crate::diagnostic::RuleMeta;
use crate::diagnostic::{Diagnostic, Severity};
use crate::lint::Context;
use crate::nodeconfig::pointer::Pointer as _;
use base64::Engine as _;

pub const META: RuleMeta = RuleMeta {
    code: "NC219",
    name: "ca-not-pem-certificate",
    severity: Severity::Error,
    summary: "`certificateAuthority` is base64, but not of a PEM certificate",
    explanation: "nodeadm decodes `spec.cluster.certificateAuthority` once and writes the result \
to `/etc/kubernetes/pki/ca.crt` (docs §1.2); the kubelet reads it as PEM. The usual mistakes \
decode without error and fail only at boot, when the node cannot verify the API server: the \
value base64-encoded twice (piping `certificateAuthority.data`, already base64, through \
`base64` again), a DER certificate, or the wrong PEM block (a key).\n\nFix: use \
`aws eks describe-cluster --query cluster.certificateAuthority.data --output text` as it is.",
};

fn b64(s: &[u8]) -> Option<Vec<u8>> {
    let clean: Vec<u8> = s.iter().copied().filter(|b| !b.is_ascii_whitespace()).collect();
    base64::engine::general_purpose::STANDARD.decode(clean).ok()
}

/// Why the decoded bytes are not a PEM certificate bundle, if they are not.
fn problem(decoded: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(decoded);
    let text = text.trim_start();
    if text.starts_with("-----BEGIN CERTIFICATE-----") {
        for block in text.split("-----BEGIN CERTIFICATE-----").skip(1) {
            let Some((body, _)) = block.split_once("-----END CERTIFICATE-----") else {
                return Some("a PEM certificate block has no `-----END CERTIFICATE-----`".into());
            };
            if b64(body.as_bytes()).is_none_or(|der| der.first() != Some(&0x30)) {
                return Some("a PEM certificate block does not hold a DER certificate".into());
            }
        }
        return None;
    }
    if let Some(kind) = text.strip_prefix("-----BEGIN ").and_then(|r| r.split_once("-----")).map(|(k, _)| k) {
        return Some(format!("it holds a PEM `{kind}` block, not a certificate"));
    }
    if b64(decoded).is_some_and(|twice| String::from_utf8_lossy(&twice).trim_start().starts_with("-----BEGIN")) {
        return Some("it is base64-encoded twice: decoded once it is still base64".into());
    }
    if decoded.first() == Some(&0x30) {
        return Some("it is a DER (binary) certificate; the kubelet reads PEM".into());
    }
    Some("decoded, it is not a PEM certificate".into())
}

pub fn check(cx: &Context, out: &mut Vec<Diagnostic>) {
    for doc in &cx.docs {
        let Some(ca) = doc.value().and_then(|v| v.at("/spec/cluster/certificateAuthority")).and_then(|v| v.as_str())
        else {
            continue;
        };
        // Template text is checked once rendered; a placeholder has NC217; bad base64 has NC206.
        if crate::al2::template::has_placeholder(ca) || crate::al2::template::literal_placeholder(ca).is_some() {
            continue;
        }
        let Some(decoded) = b64(ca.as_bytes()) else { continue };
        let Some(why) = problem(&decoded) else { continue };
        let pointer = "/spec/cluster/certificateAuthority";
        out.push(
            Diagnostic::new(&META, format!("`certificateAuthority` is not base64 of a PEM certificate: {why}"))
                .with_help(
                    "use `aws eks describe-cluster --query cluster.certificateAuthority.data --output text` as it is",
                )
                .with_span(doc.span_or_start(pointer, false))
                .with_part(cx.part_index(doc.part))
                .with_pointer(pointer),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enc(b: &[u8]) -> String {
        base64::engine::general_purpose::STANDARD.encode(b)
    }

    #[test]
    fn recognises_the_usual_mistakes() {
        let pem = b"-----BEGIN CERTIFICATE-----\nMAoGCCsGAQUFBwMB\n-----END CERTIFICATE-----\n";
        assert_eq!(problem(pem), None);
        assert_eq!(problem(&[pem.as_slice(), pem].concat()), None, "a bundle");
        assert!(problem(enc(pem).as_bytes()).unwrap().contains("twice"));
        assert!(
            problem(b"-----BEGIN PRIVATE KEY-----\nAA==\n-----END PRIVATE KEY-----\n")
                .unwrap()
                .contains("`PRIVATE KEY`")
        );
        assert!(problem(&[0x30, 0x82, 0x01]).unwrap().contains("DER"));
        assert!(problem(b"-----BEGIN CERTIFICATE-----\nAAAA\n").unwrap().contains("no `-----END"));
        assert!(problem(b"fixture").unwrap().contains("not a PEM"));
    }
}
