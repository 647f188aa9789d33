use crate::diagnostic::RuleMeta;
use crate::diagnostic::{Diagnostic, Severity, Span};
use crate::lint::Context;
use crate::userdata::EC2_USER_DATA_LIMIT;

pub const META: RuleMeta = RuleMeta {
    code: "UD112",
    name: "user-data-too-large",
    severity: Severity::Error,
    summary: "user data is over EC2's 16 KiB limit",
    explanation: "EC2 accepts at most 16 KiB (16384 bytes) of user data, counted before base64 \
encoding. A larger launch template or EC2NodeClass is rejected when it is created (Karpenter \
reports `UserDataSizeLimitExceeded` only then).\n\nFix: gzip the whole user data (nodeadm and \
cloud-init both gunzip it), or move large files to S3 and fetch them from a script.",
};

pub fn check(cx: &Context, out: &mut Vec<Diagnostic>) {
    if cx.env.raw_size > EC2_USER_DATA_LIMIT {
        out.push(
            Diagnostic::new(
                &META,
                format!(
                    "the user data is {} bytes; EC2 accepts at most {EC2_USER_DATA_LIMIT} (16 KiB) before base64",
                    cx.env.raw_size
                ),
            )
            .with_help("gzip the whole user data (nodeadm and cloud-init gunzip it), or move large files to S3")
            .with_span(Span::payload(0, 0)),
        );
    }
}
