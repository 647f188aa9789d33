//! Instance metadata calls without a session token (IMDSv1). AL2023 AMIs are registered with
//! `ImdsSupport: v2.0`, so instances launched from them require IMDSv2 unless the launch template
//! says otherwise, and a tokenless `curl http://169.254.169.254/latest/meta-data/…` gets 401
//! (EC2 User Guide, "Configure the instance metadata options"; al2-more EXPECTED 001). A plain
//! `curl` is rewritten to fetch a token first; anything else (wget, a call inside single quotes
//! or a template) is reported.

use super::codes;
use super::context::Ctx;
use super::residual::Cut;

const HOST: &str = "169.254.169.254";
/// What goes after `curl` to make the call IMDSv2: a token fetched for this one request.
pub(super) const TOKEN: &str = " -H \"X-aws-ec2-metadata-token: $(curl -s -X PUT http://169.254.169.254/latest/api/token -H 'X-aws-ec2-metadata-token-ttl-seconds: 300')\"";

/// Where each tokenless IMDS call is: (offset of the command word, its length, plain).
fn calls(text: &str) -> Vec<(usize, usize, bool)> {
    let mut out = Vec::new();
    for (at, _) in text.match_indices(HOST) {
        // The command this URL belongs to: back to the nearest command boundary.
        let Some((before, after)) = text.split_at_checked(at) else { continue };
        let start = before.rfind(['\n', ';', '|', '&', '(', '`']).map_or(0, |i| i + 1);
        let end = at + after.find(['\n', ';', '|', '&', ')', '`']).unwrap_or(after.len());
        let Some(cmd) = text.get(start..end) else { continue };
        let word_at = cmd.find(|c: char| !c.is_whitespace()).unwrap_or(0);
        let rest = cmd.get(word_at..).unwrap_or_default();
        let name = rest.split_whitespace().next().unwrap_or_default();
        let base = name.trim_start_matches("sudo ").rsplit('/').next().unwrap_or(name);
        if !matches!(base, "curl" | "wget") || cmd.contains("metadata-token") || cmd.contains("/api/token") {
            continue;
        }
        if !after.starts_with("169.254.169.254/latest/") && !after.starts_with("169.254.169.254/") {
            continue;
        }
        // Quote state at the command word: inside single quotes or a template it is not plain.
        let head = text.get(..start + word_at).unwrap_or_default();
        let lead = head.rsplit_once('\n').map_or(head, |(_, line)| line);
        let (mut single, mut double) = (false, false);
        let mut esc = false;
        for c in lead.chars() {
            match c {
                _ if esc => esc = false,
                '\\' => esc = true,
                '\'' if !double => single = !single,
                '"' if !single => double = !double,
                _ => {}
            }
        }
        let plain = base == "curl" && !single && !lead.contains("${");
        let pos = start + word_at;
        if !out.iter().any(|(p, _, _)| *p == pos) {
            out.push((pos, name.len(), plain));
        }
    }
    out
}

/// Rewrites (as insertions for the residual) or reports each tokenless call in the script.
pub(super) fn rewrite(cx: &mut Ctx, pi: usize, text: &str, removed: &[(usize, usize)]) -> Vec<Cut<'static>> {
    let mut cuts = Vec::new();
    for (pos, len, plain) in calls(text) {
        if removed.iter().any(|(s, e)| *s <= pos && pos < *e) {
            continue;
        }
        let line =
            text.get(pos..).unwrap_or_default().lines().next().unwrap_or_default().chars().take(70).collect::<String>();
        if plain {
            cuts.push(Cut { start: pos + len, end: pos + len, why: "", with: TOKEN, heredoc: false, comment: false });
            cx.push(
                &codes::IMDS_V1,
                pi,
                (pos, pos + len),
                format!("`{line}` asks IMDS without a token; AL2023 AMIs require IMDSv2 by default, where this gets 401, so it is rewritten to fetch a token first"),
                None,
            );
        } else {
            cx.push(
                &codes::IMDS_V1,
                pi,
                (pos, pos + len),
                format!("`{line}` asks IMDS without a token; AL2023 AMIs require IMDSv2 by default, where this gets 401; not rewritten (it is not a plain curl call)"),
                Some("fetch a token first (`curl -X PUT http://169.254.169.254/latest/api/token -H 'X-aws-ec2-metadata-token-ttl-seconds: 300'`) and send it as X-aws-ec2-metadata-token".into()),
            );
        }
    }
    cuts
}

/// `text` with each plain tokenless `curl` made IMDSv2 (for lines copied elsewhere, such as
/// the moved commands' prelude; the report entry is the original line's).
pub(super) fn tokened(text: &str) -> String {
    let mut out = text.to_string();
    let mut at: Vec<usize> =
        calls(text).into_iter().filter(|(_, _, plain)| *plain).map(|(p, len, _)| p + len).collect();
    at.sort_unstable_by(|a, b| b.cmp(a));
    for p in at {
        out.insert_str(p, TOKEN);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_tokenless_calls() {
        let t = "ID=$(curl -s http://169.254.169.254/latest/meta-data/instance-id)\nT=$(curl -sX PUT http://169.254.169.254/latest/api/token)\nZ=$(curl -H \"X-aws-ec2-metadata-token: $T\" http://169.254.169.254/latest/meta-data/placement/availability-zone)\necho 'curl http://169.254.169.254/latest/meta-data/x'\nwget -qO- http://169.254.169.254/latest/meta-data/y\n";
        let c = calls(t);
        assert_eq!(c.len(), 2, "{c:?}");
        assert!(c[0].2, "plain");
        assert!(!c[1].2, "wget");
    }
}
