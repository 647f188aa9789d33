//! `jq` edits of the AL2 kubelet config file (`/etc/kubernetes/kubelet/kubelet-config.json`),
//! the usual way to set what `--kubelet-extra-args` could not (Karpenter blueprints, issue #4).
//! On AL2023 nodeadm writes `/etc/kubernetes/kubelet/config.json` and takes user settings as a
//! drop-in (`spec.kubelet.config`), so an edit that is a plain assignment (`.a.b = value`, joined
//! with `|`) becomes those keys; anything else is reported.

use serde_json::Value;

/// Kubelet config files an AL2 script may edit.
const FILES: &[&str] = &["/etc/kubernetes/kubelet/kubelet-config.json", "/etc/kubernetes/kubelet/config.json"];

/// The filter of a `jq` edit of the kubelet config in `command`, if the command is one.
pub fn find(command: &str) -> Option<String> {
    if !FILES.iter().any(|f| command.contains(f)) {
        return None;
    }
    let at = command.find("jq ")? + 3;
    let rest = command[at..].trim_start();
    let rest = rest.trim_start_matches(|c: char| c == '-' || c.is_ascii_alphabetic()).trim_start();
    let quote = rest.chars().next().filter(|c| *c == '\'' || *c == '"')?;
    let body = &rest[1..];
    let end = body.find(quote)?;
    Some(body[..end].to_string())
}

/// `.a.b = 1 | .c = "x"` → `[("a.b", 1), ("c", "x")]`; an error says what is not a plain
/// assignment.
pub fn assignments(filter: &str) -> Result<Vec<(String, Value)>, String> {
    let mut out = Vec::new();
    for piece in split_pipes(filter) {
        let piece = piece.trim();
        let (lhs, rhs) = piece.split_once('=').ok_or_else(|| format!("`{piece}` is not an assignment"))?;
        if lhs.ends_with(['|', '+', '-', '*', '/']) || rhs.starts_with('=') {
            return Err(format!("`{piece}` is an update, not a plain assignment"));
        }
        let path = lhs.trim();
        if !path.starts_with('.') || path.len() < 2 {
            return Err(format!("`{path}` is not a `.key` path"));
        }
        let keys: Vec<String> = path[1..].split('.').map(|k| k.trim_matches('"').to_string()).collect();
        if keys.iter().any(|k| k.is_empty() || k.contains(['[', ']', '(', ')', ' '])) {
            return Err(format!("`{path}` is not a plain `.key.key` path"));
        }
        let value: Value =
            serde_json::from_str(rhs.trim()).map_err(|_| format!("`{}` is not a JSON value", rhs.trim()))?;
        out.push((keys.join("."), value));
    }
    Ok(out)
}

fn split_pipes(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut start, mut quoted, mut depth) = (0, false, 0i32);
    for (i, c) in s.char_indices() {
        match c {
            '"' => quoted = !quoted,
            '{' | '[' if !quoted => depth += 1,
            '}' | ']' if !quoted => depth -= 1,
            '|' if !quoted && depth == 0 => {
                out.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&s[start..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn finds_and_parses_plain_assignments() {
        let cmd = r#"echo $(jq '.containerLogMaxFiles=10|.containerLogMaxSize="100Mi"' /etc/kubernetes/kubelet/kubelet-config.json)"#;
        let f = find(&format!("{cmd} > /etc/kubernetes/kubelet/kubelet-config.json")).unwrap();
        assert_eq!(
            assignments(&f).unwrap(),
            [("containerLogMaxFiles".to_string(), json!(10)), ("containerLogMaxSize".to_string(), json!("100Mi"))]
        );
        assert_eq!(
            assignments(r#".evictionHard = {"memory.available": "5%"} | .featureGates.X = true"#).unwrap().len(),
            2
        );
        assert!(assignments(".maxPods += 1").is_err());
        assert!(assignments(".clusterDNS |= . + [\"1.1.1.1\"]").is_err());
        assert!(assignments("del(.x)").is_err());
        assert!(find("jq . /tmp/other.json").is_none());
        assert_eq!(find("jq -c '.a = 1' /etc/kubernetes/kubelet/kubelet-config.json").as_deref(), Some(".a = 1"));
    }
}
