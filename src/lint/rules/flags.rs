//! Shared walk over `spec.kubelet.flags` items of every NodeConfig document.

use crate::diagnostic::Span;
use crate::lint::Context;
use crate::nodeconfig::pointer::Pointer as _;

/// (document index, item index, flag text, span of the item).
pub fn items<'a>(cx: &'a Context) -> Vec<(usize, usize, &'a str, Span)> {
    let mut out = Vec::new();
    for (di, doc) in cx.docs.iter().enumerate() {
        let Some(flags) = doc.value().and_then(|v| v.at("/spec/kubelet/flags")).and_then(|f| f.as_array()) else {
            continue;
        };
        for (i, f) in flags.iter().enumerate() {
            if let Some(s) = f.as_str() {
                let span = doc.span_or_start(&format!("/spec/kubelet/flags/{i}"), false);
                out.push((di, i, s, span));
            }
        }
    }
    out
}
