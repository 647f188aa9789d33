use crate::diagnostic::RuleMeta;
use crate::diagnostic::{Diagnostic, Severity, Span};
use crate::lint::Context;
use crate::nodeconfig::API_VERSION;

pub const META: RuleMeta = RuleMeta {
    code: "NC203",
    name: "unknown-api-version",
    severity: Severity::Error,
    summary: "apiVersion is missing or is not node.eks.aws/v1alpha1",
    explanation: "The only NodeConfig API version is `node.eks.aws/v1alpha1`; there is no \
v1beta1 and never was (docs §1.1). nodeadm fails to decode a document with a missing or unknown \
apiVersion, and that discards all user-data NodeConfig (docs §2.4): a one-character typo \
(`v1alpha`) keeps the node from joining.\n\nFix: `apiVersion: node.eks.aws/v1alpha1`.",
};

pub fn check(cx: &Context, out: &mut Vec<Diagnostic>) {
    for doc in &cx.docs {
        let Some(obj) = doc.value().and_then(|v| v.as_object()) else { continue };
        let mut near_miss = None;
        let (msg, span) = match obj.get("apiVersion") {
            None => (
                format!("{} has no `apiVersion`: nodeadm cannot decode it", cx.where_(doc.part)),
                doc.span_of("", false),
            ),
            Some(v) if v.as_str() == Some(API_VERSION) => continue,
            Some(v) => {
                let s = v.as_str().map_or_else(|| v.to_string(), str::to_string);
                let close = s.starts_with("node.eks.aws/") || crate::suggest::did_you_mean(&s, [API_VERSION]).is_some();
                // Only a near miss is fixed: a document that is something else stays as it is.
                if close {
                    near_miss = Some(s.clone());
                }
                let hint = if s.starts_with("node.eks.aws/") {
                    format!("`{s}` does not exist; the only NodeConfig version is {API_VERSION}")
                } else if close {
                    format!("`{s}` is not the NodeConfig apiVersion")
                } else {
                    format!("`{s}` is not the NodeConfig apiVersion; this document is not a NodeConfig")
                };
                (hint, doc.span_of("/apiVersion", false))
            }
        };
        let mut d = Diagnostic::new(&META, msg)
                .with_help(format!("did you mean `apiVersion: {API_VERSION}`? nodeadm drops all user-data NodeConfig when one part does not decode"))
                .with_span(span.unwrap_or(Span::part(doc.part.index, 0, 0)))
                .with_part(cx.part_index(doc.part))
                .with_pointer("/apiVersion");
        if let (Some(old), Some(sp)) = (near_miss, span) {
            d = d.with_fix(sp, old, API_VERSION);
        }
        out.push(d);
    }
}
