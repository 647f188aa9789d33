//! `lint --fix`: applies the rewrites rules attach to findings (`Diagnostic::fix`), like ruff's
//! safe fixes. A fix lands only where the user's file holds the bytes it is about: the span must
//! map to the input itself (not into base64 or gzip), those bytes must still read the expected
//! text, and fixes never overlap (the first by position wins; a second pass is not needed
//! because no fix creates another).

use crate::diagnostic::Fix;
use crate::lint::{LintOptions, lint_with_envelope};
use crate::source::Source;

#[derive(Debug, PartialEq, Eq)]
pub struct Fixed {
    pub bytes: Vec<u8>,
    /// Codes of the findings fixed, in file order.
    pub applied: Vec<&'static str>,
}

/// The fixed bytes, or `None` when no fix applies.
pub fn fix(source: &Source, opts: &LintOptions) -> Option<Fixed> {
    // Terraform and CloudFormation hosts are reported, not rewritten: their pieces are dedented
    // copies, so a span in a piece is not a span in the file.
    if std::str::from_utf8(&source.bytes).is_ok_and(|t| crate::userdata::embedded::extract(&source.name, t).is_some()) {
        return None;
    }
    let (env, report) = lint_with_envelope(source, opts);
    if !env.encoding.is_identity() {
        return None;
    }
    let mut edits: Vec<(usize, usize, &Fix, &'static str)> = report
        .findings
        .iter()
        .filter_map(|f| {
            let fix = f.diagnostic.fix.as_ref()?;
            let span = env.to_payload_span(fix.span)?;
            (source.bytes.get(span.start..span.end)? == fix.expect.as_bytes()).then_some((
                span.start,
                span.end,
                fix,
                f.diagnostic.code,
            ))
        })
        .collect();
    edits.sort_by_key(|e| (e.0, e.1));
    let mut kept: Vec<(usize, usize, &Fix, &'static str)> = Vec::with_capacity(edits.len());
    for e in edits {
        if kept.last().is_none_or(|k| k.1 <= e.0) {
            kept.push(e);
        }
    }
    if kept.is_empty() {
        return None;
    }
    let mut bytes = source.bytes.clone();
    for (start, end, fix, _) in kept.iter().rev() {
        bytes.splice(*start..*end, fix.replacement.bytes());
    }
    Some(Fixed { bytes, applied: kept.iter().map(|k| k.3).collect() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixes_booleans_and_api_version_and_is_idempotent() {
        let text = "apiVersion: node.eks.aws/v1alpha\nkind: NodeConfig\nspec:\n  kubelet:\n    config:\n      serializeImagePulls: off\n      featureGates: {A: Yes, B: true}\n";
        let opts = LintOptions { target: crate::Target::Mng, ..Default::default() };
        let fixed = fix(&Source::new("a", text), &opts).unwrap();
        assert_eq!(fixed.applied, ["NC203", "NC218", "NC218"]);
        let out = String::from_utf8(fixed.bytes).unwrap();
        assert_eq!(out, text.replace("v1alpha\n", "v1alpha1\n").replace("off", "false").replace("Yes", "true"));
        assert_eq!(fix(&Source::new("a", out), &opts), None);
    }

    #[test]
    fn mime_repair_keeps_crlf_line_endings() {
        let text = "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"//\"\r\n\r\n--//\r\nContent-Type: text/x-shellscript\r\n#!/bin/bash\r\necho hi\r\n";
        let opts = LintOptions { target: crate::Target::Mng, ..Default::default() };
        let fixed = fix(&Source::new("a", text), &opts).unwrap();
        assert_eq!(fixed.applied, ["UD102", "UD104"]);
        let out = String::from_utf8(fixed.bytes).unwrap();
        assert_eq!(out, text.replace("shellscript\r\n#!", "shellscript\r\n\r\n#!") + "--//--\r\n");
        assert!(!out.replace("\r\n", "").contains('\n'), "no bare LF introduced");
    }

    #[test]
    fn never_edits_inside_encoded_user_data() {
        use base64::Engine as _;
        let text = "apiVersion: node.eks.aws/v1alpha1\nkind: NodeConfig\nspec:\n  featureGates: {A: on}\n";
        let b64 = base64::engine::general_purpose::STANDARD.encode(text);
        let opts = LintOptions { target: crate::Target::Mng, ..Default::default() };
        assert_eq!(fix(&Source::new("a", b64), &opts), None);
    }
}
