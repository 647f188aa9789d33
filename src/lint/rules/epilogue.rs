use crate::diagnostic::RuleMeta;
use crate::diagnostic::{Diagnostic, Severity};
use crate::lint::Context;
use crate::userdata::Defect;

pub const META: RuleMeta = RuleMeta {
    code: "UD105",
    name: "content-after-close-delimiter",
    severity: Severity::Warning,
    summary: "content after the closing delimiter is ignored",
    explanation: "Everything after `--BOUNDARY--` is the MIME epilogue (RFC 2046 §5.1.1): \
nodeadm and cloud-init both skip it. A script or NodeConfig appended there (often by string \
concatenation in a template) never runs.\n\nFix: move the content into its own part before the \
closing delimiter, or delete it.",
};

pub fn check(cx: &Context, out: &mut Vec<Diagnostic>) {
    for d in &cx.env.defects {
        if let Defect::Epilogue { span } = d {
            out.push(
                Diagnostic::new(
                    &META,
                    format!(
                        "{} bytes after the closing delimiter are ignored by nodeadm and cloud-init",
                        span.end - span.start
                    ),
                )
                .with_help("move this content into a part before the closing delimiter, or delete it")
                .with_span(crate::diagnostic::Span::payload(span.start, span.start)),
            );
        }
    }
}
