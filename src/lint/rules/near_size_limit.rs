//! UD116: EC2 rejects user data over 16 KiB, counted after base64 and before gunzip
//! (EC2 API reference, `UserData`); a file near the limit fails at the next added line.

use crate::diagnostic::RuleMeta;
use crate::diagnostic::{Diagnostic, Severity, Span};
use crate::lint::Context;
use crate::userdata::EC2_USER_DATA_LIMIT;
use flate2::{Compression, write::GzEncoder};
use std::io::Write;

pub const META: RuleMeta = RuleMeta {
    code: "UD116",
    name: "user-data-near-size-limit",
    severity: Severity::Warning,
    summary: "user data is within 10% of EC2's 16 KiB limit",
    explanation: "EC2 accepts at most 16 KiB (16384 bytes) of user data before base64 encoding. \
Over 90% of that, the next added script line or label makes the launch template (or Karpenter's \
launch) fail with `UserDataSizeLimitExceeded`. The finding says how large the gzipped user data \
would be: nodeadm and cloud-init both gunzip a gzip payload.\n\nFix: gzip the user data (Terraform \
`base64gzip()`, `cloudinit_config` with `gzip = true`), or move large files to S3.",
};

/// Above this share of the limit the rule fires; at or over the limit UD112 does instead.
const THRESHOLD: usize = EC2_USER_DATA_LIMIT * 9 / 10;

fn gzipped_len(bytes: &[u8]) -> Option<usize> {
    let mut gz = GzEncoder::new(Vec::new(), Compression::best());
    gz.write_all(bytes).ok()?;
    gz.finish().ok().map(|v| v.len())
}

pub fn check(cx: &Context, out: &mut Vec<Diagnostic>) {
    let size = cx.env.raw_size;
    if size <= THRESHOLD || size > EC2_USER_DATA_LIMIT {
        return;
    }
    let help = if cx.env.encoding.gzip {
        "it is already gzipped: move large files to S3 and fetch them from a script".to_owned()
    } else {
        match gzipped_len(&cx.env.payload) {
            Some(gz) => format!(
                "gzipped it would be {gz} bytes ({}% of the limit); nodeadm and cloud-init gunzip it",
                gz * 100 / EC2_USER_DATA_LIMIT
            ),
            None => "gzip it; nodeadm and cloud-init gunzip it".to_owned(),
        }
    };
    out.push(
        Diagnostic::new(
            &META,
            format!(
                "the user data is {size} bytes, {}% of EC2's {EC2_USER_DATA_LIMIT}-byte limit",
                size * 100 / EC2_USER_DATA_LIMIT
            ),
        )
        .with_help(help)
        .with_span(Span::payload(0, 0)),
    );
}
