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
    let (_, rest) = command.split_once("jq ")?;
    let rest = rest.trim_start();
    let rest = rest.trim_start_matches(|c: char| c == '-' || c.is_ascii_alphabetic()).trim_start();
    let quote = rest.chars().next().filter(|c| *c == '\'' || *c == '"')?;
    let (filter, _) = rest.get(1..)?.split_once(quote)?;
    Some(filter.to_string())
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
        let keys: Vec<String> =
            path.get(1..).unwrap_or_default().split('.').map(|k| k.trim_matches('"').to_string()).collect();
        if keys.iter().any(|k| k.is_empty() || k.contains(['[', ']', '(', ')', ' '])) {
            return Err(format!("`{path}` is not a plain `.key.key` path"));
        }
        let value: Value =
            serde_json::from_str(rhs.trim()).map_err(|_| format!("`{}` is not a JSON value", rhs.trim()))?;
        out.push((keys.join("."), value));
    }
    Ok(out)
}

/// A filter's steps, each a plain edit of one path.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    Set(Vec<String>, Value),
    /// `+=`: numbers add, objects merge, arrays and strings concatenate.
    Add(Vec<String>, Value),
    Delete(Vec<String>),
}

fn path(p: &str) -> Result<Vec<String>, String> {
    let p = p.trim();
    if p == "." {
        return Ok(Vec::new());
    }
    let body = p.strip_prefix('.').ok_or_else(|| format!("`{p}` is not a `.key` path"))?;
    let mut keys = Vec::new();
    for seg in body.split('.') {
        let seg = seg.trim();
        let seg = seg.strip_prefix("[\"").and_then(|r| r.strip_suffix("\"]")).unwrap_or(seg);
        let key = seg.trim_matches('"');
        if key.is_empty() || key.contains(['[', ']', '(', ')', ' ', '|']) {
            return Err(format!("`{p}` is not a plain `.key.key` path"));
        }
        keys.push(key.to_string());
    }
    Ok(keys)
}

/// Parses a filter of plain edits: `.a.b = v`, `.a += v`, `del(.a.b)`, joined with `|`; `v` is
/// JSON or a `$name` given with `--arg`/`--argjson`.
pub fn steps(filter: &str, vars: &[(String, Value)]) -> Result<Vec<Step>, String> {
    let mut out = Vec::new();
    for piece in split_pipes(filter) {
        let piece = piece.trim();
        if piece == "." || piece.is_empty() {
            continue;
        }
        if let Some(inner) = piece.strip_prefix("del(").and_then(|r| r.strip_suffix(')')) {
            for p in inner.split(',') {
                out.push(Step::Delete(path(p)?));
            }
            continue;
        }
        let (lhs, rhs, add) = if let Some((l, r)) = piece.split_once("+=") {
            (l, r, true)
        } else if let Some((l, r)) = piece.split_once('=') {
            if l.ends_with(['|', '-', '*', '/', '/']) || r.starts_with('=') {
                return Err(format!("`{piece}` is an update jq computes, not a plain assignment"));
            }
            (l, r, false)
        } else {
            return Err(format!("`{piece}` is not an assignment"));
        };
        let keys = path(lhs)?;
        let rhs = rhs.trim();
        let value = match rhs.strip_prefix('$').filter(|n| !n.starts_with('{')) {
            Some(name) => vars
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.clone())
                .ok_or_else(|| format!("`${name}` is not given with --arg or --argjson"))?,
            // A template placeholder renders to the value; it is kept as its text.
            None if crate::al2::template::has_placeholder(rhs) || rhs.contains("%s") => {
                // Inside a jq string literal the placeholder is part of the string.
                let inner = rhs.strip_prefix('"').and_then(|r| r.strip_suffix('"')).unwrap_or(rhs);
                Value::String(inner.to_string())
            }
            None => serde_json::from_str(rhs).map_err(|_| format!("`{rhs}` is not a JSON value"))?,
        };
        out.push(if add { Step::Add(keys, value) } else { Step::Set(keys, value) });
    }
    Ok(out)
}

fn slot<'a>(doc: &'a mut Value, keys: &[String]) -> Option<&'a mut Value> {
    let mut node = doc;
    for k in keys {
        if node.is_null() {
            *node = Value::Object(serde_json::Map::new());
        }
        node = node.as_object_mut()?.entry(k.clone()).or_insert(Value::Null);
    }
    Some(node)
}

/// Applies the steps to a document as jq would.
pub fn apply(doc: &mut Value, steps: &[Step]) -> Result<(), String> {
    for step in steps {
        match step {
            Step::Set(keys, v) => {
                *slot(doc, keys).ok_or("the path goes through a value that is not an object")? = v.clone()
            }
            Step::Add(keys, v) => {
                let s = slot(doc, keys).ok_or("the path goes through a value that is not an object")?;
                let sum = match (&*s, v) {
                    (Value::Null, v) => v.clone(),
                    (Value::Number(a), Value::Number(b)) => match (a.as_i64(), b.as_i64()) {
                        (Some(x), Some(y)) => Value::from(x.saturating_add(y)),
                        _ => Value::from(a.as_f64().unwrap_or(0.0) + b.as_f64().unwrap_or(0.0)),
                    },
                    (Value::Object(a), Value::Object(b)) => {
                        let mut m = a.clone();
                        m.extend(b.clone());
                        Value::Object(m)
                    }
                    (Value::Array(a), Value::Array(b)) => Value::Array(a.iter().chain(b).cloned().collect()),
                    (Value::String(a), Value::String(b)) => Value::String(format!("{a}{b}")),
                    _ => return Err("`+=` of values jq cannot add".into()),
                };
                *s = sum;
            }
            Step::Delete(keys) => {
                if let Some((last, parent)) = keys.split_last()
                    && let Some(Value::Object(m)) = slot(doc, parent)
                {
                    m.shift_remove(last);
                }
            }
        }
    }
    Ok(())
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
                out.push(s.get(start..i).unwrap_or_default());
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(s.get(start..).unwrap_or_default());
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

    #[test]
    fn applies_edits_as_jq_does() {
        let mut doc = json!({"a": 1, "evictionHard": {"memory.available": "100Mi"}, "l": [1]});
        let vars = vec![("mp".to_string(), json!(50))];
        let s = steps(".a += 2 | .evictionHard += {\"nodefs.available\": \"5%\"} | .maxPods = $mp | .x.y = \"z\" | del(.l) | .\"k\" = 0", &vars).unwrap();
        apply(&mut doc, &s).unwrap();
        assert_eq!(
            doc,
            json!({"a": 3, "evictionHard": {"memory.available": "100Mi", "nodefs.available": "5%"}, "maxPods": 50, "x": {"y": "z"}, "k": 0})
        );
        assert!(steps(".a |= . + 1", &[]).is_err());
        assert!(steps(".a = $missing", &[]).is_err());
        assert!(apply(&mut json!({"a": 1}), &steps(".a.b = 1", &[]).unwrap()).is_err());
    }
}
