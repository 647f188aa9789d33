//! `lint --fix`: applies the rewrites rules attach to findings (`Diagnostic::fix`), like ruff's
//! safe fixes. A fix lands only where the user's file holds the bytes it is about: the span must
//! map to the input itself (not into base64 or gzip), those bytes must still read the expected
//! text, and fixes never overlap (the first by position wins). A fix can make another possible
//! (the blank line UD102 adds turns header lines back into a NodeConfig body, whose
//! `apiVersion` NC203 then fixes; a fix that lost an overlap gets its turn), so passes repeat
//! until nothing changes, as ruff does, up to a bound: re-running `--fix` changes nothing.

use crate::lint::{LintOptions, lint_with_envelope};
use crate::source::Source;

/// An edit placed in the input: start, end, replacement.
type Placed<'a> = (usize, usize, &'a str);

#[derive(Debug, PartialEq, Eq)]
pub struct Fixed {
    pub bytes: Vec<u8>,
    /// Codes of the findings fixed, in file order.
    pub applied: Vec<&'static str>,
}

/// Passes at most: each fixes every finding it can, so a chain longer than this is not expected.
const MAX_PASSES: usize = 8;

/// The fixed bytes, or `None` when no fix applies.
pub fn fix(source: &Source, opts: &LintOptions) -> Option<Fixed> {
    // Terraform and CloudFormation hosts are reported, not rewritten: their pieces are dedented
    // copies, so a span in a piece is not a span in the file.
    if std::str::from_utf8(&source.bytes).is_ok_and(|t| crate::userdata::embedded::extract(&source.name, t).is_some()) {
        return None;
    }
    let mut done: Option<Fixed> = None;
    for _ in 0..MAX_PASSES {
        let current = done.as_ref().map_or_else(|| source.clone(), |d| Source::new(&source.name, d.bytes.clone()));
        let Some(pass) = fix_once(&current, opts) else { break };
        // A pass that gives back the bytes it was given is no progress (edits that cancel out).
        if pass.bytes == current.bytes {
            break;
        }
        done = Some(match done {
            Some(mut d) => {
                d.applied.extend(pass.applied);
                Fixed { bytes: pass.bytes, applied: d.applied }
            }
            None => pass,
        });
    }
    done
}

/// One pass: every fix that lands on the input's own bytes and overlaps no earlier one.
fn fix_once(source: &Source, opts: &LintOptions) -> Option<Fixed> {
    let (env, report) = lint_with_envelope(source, opts);
    if !env.encoding.is_identity() {
        return None;
    }
    // In a Terraform template with `%{ }` directives the MIME structure differs between
    // renderings (a delimiter inside `%{ if }`), so a structural fix right for the text as
    // written can break a rendering (found by the `fix` fuzz target: a close delimiter added
    // where one branch has no part left). Such fixes are left to the user; the rest apply.
    let structural_unsafe = std::str::from_utf8(&source.bytes)
        .is_ok_and(|t| t.contains("%{") && crate::template::terraform::is_template(&source.name, t));
    // Each fix's edits, mapped to the input and checked against it; a fix with one edit that
    // does not land is dropped whole.
    let mut fixes: Vec<(Vec<Placed>, &'static str)> = report
        .findings
        .iter()
        .filter(|f| !(structural_unsafe && f.diagnostic.code.starts_with("UD")))
        .filter_map(|f| {
            let fix = f.diagnostic.fix.as_ref()?;
            let edits = fix
                .edits
                .iter()
                .map(|e| {
                    let span = env.to_payload_span(e.span)?;
                    (source.bytes.get(span.start..span.end)? == e.expect.as_bytes()).then_some((
                        span.start,
                        span.end,
                        e.replacement.as_str(),
                    ))
                })
                .collect::<Option<Vec<_>>>()?;
            Some((edits, f.diagnostic.code))
        })
        .collect();
    fixes.sort_by_key(|(edits, _)| edits.iter().map(|e| (e.0, e.1)).min());
    let mut kept: Vec<Placed> = Vec::new();
    let mut applied = Vec::new();
    for (edits, code) in fixes {
        // Touching is fine (an insert at the start of a deleted range); overlapping is not.
        let clash = |a: &Placed, b: &Placed| a.0 < b.1 && b.0 < a.1;
        if edits.iter().all(|e| kept.iter().all(|k| !clash(e, k))) {
            kept.extend(edits);
            applied.push(code);
        }
    }
    if kept.is_empty() {
        return None;
    }
    // From the end backwards, and at one offset the deletion before the insert, so every
    // offset still points into the original bytes.
    kept.sort_by_key(|e| (e.0, e.0 != e.1, e.1));
    let mut bytes = source.bytes.clone();
    for (start, end, replacement) in kept.iter().rev() {
        bytes.splice(*start..*end, replacement.bytes());
    }
    Some(Fixed { bytes, applied })
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
    fn a_fix_that_reveals_another_is_followed_through() {
        // Found by the `fix` fuzz target: the blank line UD102 adds makes the NodeConfig a body,
        // whose misspelt apiVersion NC203 fixes only on the next pass; one `--fix` does both.
        let text = "MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"//\"\n\n--//\nContent-Type: application/node.eks.aws\napiVersion: node.eks.aws/v2alpha1\nkind: NodeConfig\nspec:\n  cluster:\n    name: c\n\n--//--\n";
        let opts = LintOptions { target: crate::Target::Mng, ..Default::default() };
        let fixed = fix(&Source::new("a", text), &opts).unwrap();
        assert_eq!(fixed.applied, ["UD102", "NC203"]);
        let out = String::from_utf8(fixed.bytes).unwrap();
        assert_eq!(out, text.replace("node.eks.aws\napi", "node.eks.aws\n\napi").replace("v2alpha1", "v1alpha1"));
        assert_eq!(fix(&Source::new("a", out), &opts), None);
    }

    #[test]
    fn a_template_with_directives_gets_no_structural_fix() {
        // Found by the `fix` fuzz target: the only delimiter sits inside `%{ if }`, so adding
        // a close delimiter would leave one rendering with nothing but `--//--`.
        let text = "MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"//\"\n\n%{ if on ~}\n--//\nContent-Type: text/x-shellscript\n\n#!/bin/bash\n%{ endif ~}\nkind: NodeConfig\nspec:\n  kubelet:\n    config:\n      serializeImagePulls: off\n";
        let opts = LintOptions { target: crate::Target::Mng, ..Default::default() };
        let fixed = fix(&Source::new("user-data.tftpl", text), &opts);
        assert!(fixed.as_ref().is_none_or(|f| f.applied.iter().all(|c| !c.starts_with("UD"))), "{fixed:?}");
    }

    #[test]
    fn every_carriage_return_before_a_line_feed_goes_at_once() {
        // Found by the `fix` fuzz target: `\r\r\n` took one pass per `\r`.
        let text = "#!/bin/bash\r\r\r\necho hi\r\n";
        let fixed = fix(&Source::new("a.sh", text), &LintOptions::default()).unwrap();
        assert_eq!(fixed.applied, ["UD118"]);
        assert_eq!(fixed.bytes, b"#!/bin/bash\necho hi\n");
    }

    #[test]
    fn mime_repair_keeps_crlf_line_endings() {
        let text = "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"//\"\r\n\r\n--//\r\nContent-Type: text/x-shellscript\r\n#!/bin/bash\r\necho hi\r\n";
        let opts = LintOptions { target: crate::Target::Mng, ..Default::default() };
        let fixed = fix(&Source::new("a", text), &opts).unwrap();
        // The script's own CRLF would break bash (UD118): only the part body changes.
        assert_eq!(fixed.applied, ["UD102", "UD118", "UD104"]);
        let out = String::from_utf8(fixed.bytes).unwrap();
        assert_eq!(
            out,
            "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"//\"\r\n\r\n--//\r\nContent-Type: text/x-shellscript\r\n\r\n#!/bin/bash\necho hi\n--//--\r\n"
        );
        assert_eq!(fix(&Source::new("a", out), &opts), None);
    }

    #[test]
    fn never_edits_inside_encoded_user_data() {
        use base64::Engine as _;
        let text = "apiVersion: node.eks.aws/v1alpha1\nkind: NodeConfig\nspec:\n  featureGates: {A: on}\n";
        let b64 = base64::engine::general_purpose::STANDARD.encode(text);
        let opts = LintOptions { target: crate::Target::Mng, ..Default::default() };
        assert_eq!(fix(&Source::new("a", b64), &opts), None);
    }

    fn fixed(text: &str) -> Option<(String, Vec<&'static str>)> {
        let opts = LintOptions { target: crate::Target::Mng, ..Default::default() };
        fix(&Source::new("a", text), &opts).map(|f| (String::from_utf8(f.bytes).unwrap(), f.applied))
    }

    const HEAD: &str = "apiVersion: node.eks.aws/v1alpha1\nkind: NodeConfig\nspec:\n";

    #[test]
    fn moves_kubelet_flags_into_config() {
        // Into an existing block mapping; the flag that must stay, stays.
        let text = format!(
            "{HEAD}  kubelet:\n    config:\n      maxPods: 20\n    flags:\n      - --image-gc-high-threshold=80\n      - --node-labels=a=b\n      - --system-reserved-cgroup=/system\n"
        );
        let (out, applied) = fixed(&text).unwrap();
        assert_eq!(applied, ["NC210"]);
        assert_eq!(
            out,
            format!(
                "{HEAD}  kubelet:\n    config:\n      imageGCHighThresholdPercent: 80\n      systemReservedCgroup: /system\n      maxPods: 20\n    flags:\n      - --node-labels=a=b\n"
            )
        );
        assert_eq!(fixed(&out), None, "a second run changes nothing");

        // No config yet, every flag moves: `flags:` goes and `config:` appears, CRLF kept.
        let text = format!(
            "{HEAD}  kubelet:\n    flags:\n      - --cpu-manager-policy=static\n      - --image-gc-low-threshold=60\n"
        )
        .replace('\n', "\r\n");
        let (out, _) = fixed(&text).unwrap();
        assert_eq!(
            out,
            format!(
                "{HEAD}  kubelet:\n    config:\n      cpuManagerPolicy: static\n      imageGCLowThresholdPercent: 60\n"
            )
            .replace('\n', "\r\n")
        );
    }

    #[test]
    fn leaves_moves_that_would_change_meaning_or_shape() {
        for text in [
            // A map flag replaces nodeadm's map; in config it would merge.
            format!("{HEAD}  kubelet:\n    flags:\n      - --kube-reserved=cpu=1\n"),
            // Another part of the config already sets the key the flag overrode.
            format!(
                "{HEAD}  kubelet:\n    config:\n      imageGCHighThresholdPercent: 90\n    flags:\n      - --image-gc-high-threshold=80\n"
            ),
            // Flow style and comments between items: not a faithful line move.
            format!("{HEAD}  kubelet:\n    flags: [--image-gc-high-threshold=80]\n"),
            format!("{HEAD}  kubelet:\n    flags:\n      # why\n      - --image-gc-high-threshold=80\n"),
            format!(
                "{HEAD}  kubelet:\n    config: {{}}\n    flags:\n      - --image-gc-high-threshold=80\n      - --node-labels=a=b\n"
            ),
        ] {
            assert_eq!(fixed(&text), None, "{text}");
        }
    }
}
