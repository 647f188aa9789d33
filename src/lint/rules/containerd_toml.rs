//! NC222: nodeadm parses `containerd.config` as TOML to merge it over its generated config; a
//! parse error fails that merge and the node does not join (docs §1.3).

use crate::diagnostic::RuleMeta;
use crate::diagnostic::{Diagnostic, Severity};
use crate::lint::Context;
use crate::nodeconfig::pointer::Pointer as _;

pub const META: RuleMeta = RuleMeta {
    code: "NC222",
    name: "containerd-config-invalid-toml",
    severity: Severity::Error,
    summary: "`containerd.config` is not valid TOML",
    explanation: "nodeadm merges `spec.containerd.config` into the containerd config it generates, \
which means parsing it as TOML first (docs §1.3). Invalid TOML (an unclosed table header, a \
duplicate key, a bare string) fails the merge: nodeadm stops and the node never joins. containerd \
itself never sees the text, so nothing on the node points at the cause.\n\nFix: correct the TOML \
at the line the finding names; `eks-userdata render` shows the merged result.",
};

pub fn check(cx: &Context, out: &mut Vec<Diagnostic>) {
    for doc in &cx.docs {
        let Some(text) = doc.value().and_then(|v| v.at("/spec/containerd/config")).and_then(|v| v.as_str()) else {
            continue;
        };
        if crate::al2::template::has_placeholder(text) {
            continue; // checked once rendered
        }
        let Err(e) = text.parse::<toml::Table>() else { continue };
        // The TOML line at fault, inside the block scalar.
        let at = e.span().map_or(0, |s| s.start).min(text.len());
        let line_no = text.bytes().take(at).filter(|&b| b == b'\n').count();
        let line = text.lines().nth(line_no).unwrap_or_default().trim();
        let span = doc.span_within("/spec/containerd/config", line);
        out.push(
            Diagnostic::new(
                &META,
                format!("`containerd.config` is not valid TOML (line {} of it): {}", line_no + 1, e.message()),
            )
            .with_help("fix the TOML; nodeadm's merge fails on it and the node does not join")
            .with_span(span)
            .with_part(cx.part_index(doc.part))
            .with_pointer("/spec/containerd/config"),
        );
    }
}
