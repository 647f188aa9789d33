//! The effective node: what the kubelet and containerd of a node run with, in one shape for
//! both operating systems, so an AL2 node (`al2::effective`) and the AL2023 node nodeadm builds
//! (`render::effective`) can be compared field by field (`translate::verify`). The kubelet view
//! is its configuration with command-line flags folded in, as the kubelet itself applies them
//! (flags override the file; a map flag replaces the file's map, a repeated one merges; kubelet
//! reference, docs §6.3); labels come from `--node-labels`; the rest of the command line is kept.

use crate::al2::kubelet_flags::{self, Outcome};
use indexmap::IndexMap;
use serde_json::Value;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Node {
    /// KubeletConfiguration leaves (dotted paths; a key holding a dot is bracketed).
    pub kubelet: BTreeMap<String, Value>,
    /// Kubelet command-line arguments with no configuration field, labels excepted.
    pub args: Vec<String>,
    pub labels: BTreeMap<String, String>,
    /// containerd configuration leaves (dotted TOML paths) → their TOML text.
    pub containerd: BTreeMap<String, String>,
    /// Service → variable → value (kubelet, containerd).
    pub environment: BTreeMap<String, BTreeMap<String, String>>,
    /// Why the node never starts its kubelet, if it does not.
    pub fails: Option<String>,
    /// What is only known on the node (`kubelet configuration`, `containerd configuration`):
    /// those fields cannot be compared.
    pub unknown: Vec<String>,
    /// The bootstrap.sh call was not in the user data but implied (EKS's, or a later part's).
    pub implied: bool,
    /// `spec.instance.localStorage` strategy or the AL2 equivalent (`raid0`, `raid10`, `mount`).
    pub local_storage: Option<String>,
    /// Node-state directory → the device mounted over it.
    pub data_volumes: BTreeMap<String, String>,
    /// The user's commands and when they run relative to the join.
    pub commands: Vec<Command>,
}

/// When a user-data command runs, relative to the node joining.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum When {
    /// Before the kubelet starts (AL2: before bootstrap.sh; AL2023: cloud-final, before
    /// nodeadm-run).
    BeforeJoin,
    /// With the kubelet up (AL2: after bootstrap.sh; AL2023: a unit after nodeadm-run).
    AfterJoin,
    /// At every boot (a boothook).
    EveryBoot,
}

impl When {
    pub fn as_str(self) -> &'static str {
        match self {
            When::BeforeJoin => "before the join",
            When::AfterJoin => "after the join",
            When::EveryBoot => "every boot",
        }
    }
}

/// One user-data command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command {
    /// Its words as written, joined by one space.
    pub text: String,
    pub when: When,
    /// Where it is in the input (AL2 side), for matching report entries.
    pub span: Option<crate::diagnostic::Span>,
    /// The translation took it out on purpose: the code and message of the report entry that
    /// says so (AL2 side).
    pub removed: Option<(&'static str, String)>,
}

/// Appends key `k` to the dotted path in `buf`: `a.b`, or `a["b.c"]` for a key with a dot.
fn push_key(buf: &mut String, k: &str) {
    if k.contains('.') {
        buf.push_str("[\"");
        buf.push_str(k);
        buf.push_str("\"]");
    } else {
        if !buf.is_empty() && !k.starts_with('[') {
            buf.push('.');
        }
        buf.push_str(k);
    }
}

/// Object leaves as dotted paths; arrays and scalars are leaves.
pub fn flatten(v: &Value, path: &str, out: &mut BTreeMap<String, Value>) {
    flatten_into(v, &mut path.to_string(), out);
}

fn flatten_into(v: &Value, buf: &mut String, out: &mut BTreeMap<String, Value>) {
    match v {
        Value::Object(m) if !m.is_empty() => flatten_entries(m, buf, out),
        other => {
            out.insert(buf.clone(), other.clone());
        }
    }
}

fn flatten_entries<'a>(
    entries: impl IntoIterator<Item = (&'a String, &'a Value)>,
    buf: &mut String,
    out: &mut BTreeMap<String, Value>,
) {
    for (k, v) in entries {
        let len = buf.len();
        push_key(buf, k);
        flatten_into(v, buf, out);
        buf.truncate(len);
    }
}

/// TOML leaves as dotted paths → their TOML text.
pub fn flatten_toml(v: &toml::Value, path: &str, out: &mut BTreeMap<String, String>) {
    fn walk(v: &toml::Value, buf: &mut String, out: &mut BTreeMap<String, String>) {
        match v {
            toml::Value::Table(t) if !t.is_empty() => {
                for (k, v) in t {
                    let len = buf.len();
                    push_key(buf, k);
                    walk(v, buf, out);
                    buf.truncate(len);
                }
            }
            other => {
                out.insert(buf.clone(), other.to_string());
            }
        }
    }
    walk(v, &mut path.to_string(), out);
}

/// Folds kubelet command-line arguments into its configuration, as the kubelet applies them.
pub fn fold(config: &mut IndexMap<String, Value>, args: &[String], node: &mut Node) {
    let joined: Vec<String> = args
        .iter()
        .map(|a| if a.chars().any(char::is_whitespace) { format!("'{}'", a.replace('\'', "")) } else { a.clone() })
        .collect();
    let mut seen: Vec<String> = Vec::new();
    for t in kubelet_flags::translate(&joined.join(" ")) {
        match t.outcome {
            Outcome::Config { path, value } => {
                // Feature gates from flags are merged gate by gate over the file's
                // (kubelet `kubeletConfigFlagPrecedence`); other map and list flags replace.
                let repeat = seen.contains(&path) || path == "featureGates";
                seen.push(path.clone());
                kubelet_flags::apply(config, &path, value, repeat);
            }
            Outcome::Flag(f) if f.starts_with("--node-labels") => {
                let v = f.split_once('=').map_or("", |(_, v)| v);
                for pair in v.split(',').filter(|p| !p.is_empty()) {
                    let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
                    node.labels.insert(k.trim().to_string(), v.trim().to_string());
                }
            }
            Outcome::Flag(f) => node.args.push(f),
            // The kubelet parses its flags before anything else and exits on a bad value; values
            // only the node or EKS knew are not bad.
            Outcome::Invalid(why)
                if !t.text.contains(crate::al2::bootstrap_effects::BOOT_TIME)
                    && !t.text.contains("<set-by-eks>")
                    && !t.text.contains("${") =>
            {
                node.fails.get_or_insert_with(|| format!("the kubelet refused to start: `{}`: {why}", t.text));
                node.args.push(t.text)
            }
            _ => node.args.push(t.text),
        }
    }
}

/// The kubelet view of a configuration document and a command line.
pub fn kubelet(config: Value, args: &[String], node: &mut Node) {
    let mut map: IndexMap<String, Value> = match config {
        Value::Object(m) => m.into_iter().collect(),
        _ => IndexMap::new(),
    };
    fold(&mut map, args, node);
    if map.is_empty() {
        flatten(&Value::Object(serde_json::Map::new()), "", &mut node.kubelet);
    } else {
        flatten_entries(&map, &mut String::new(), &mut node.kubelet);
    }
    node.kubelet.remove("kind");
    node.kubelet.remove("apiVersion");
    node.args.sort();
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Same,
    /// A deliberate change, with the code of the report entry that made it.
    Explained {
        code: &'static str,
        why: String,
    },
    Unexplained,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub field: String,
    pub al2: String,
    pub al2023: String,
    pub verdict: Verdict,
}

/// The comparison of one conversion (`translate::verify`): the AL2 node against the AL2023 node.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Equivalence {
    pub instance_type: String,
    /// Every compared field, in field order.
    pub rows: Vec<Row>,
    /// Why the AL2 node never joined, if it did not (nothing to be equivalent to).
    pub al2_fails: Option<String>,
    pub al2023_fails: Option<String>,
}

impl Equivalence {
    pub fn unexplained(&self) -> impl Iterator<Item = &Row> {
        self.rows.iter().filter(|r| r.verdict == Verdict::Unexplained)
    }
    pub fn explained(&self) -> usize {
        self.rows.iter().filter(|r| matches!(r.verdict, Verdict::Explained { .. })).count()
    }
    pub fn same(&self) -> usize {
        self.rows.iter().filter(|r| r.verdict == Verdict::Same).count()
    }
    /// One line: how many fields were compared and how they came out.
    pub fn summary(&self) -> String {
        let u = self.unexplained().count();
        format!(
            "equivalence on {}: {} field(s) compared, {} the same, {} changed on purpose, {} unexplained{}",
            self.instance_type,
            self.rows.len(),
            self.same(),
            self.explained(),
            u,
            match &self.al2_fails {
                Some(why) => format!("; the AL2 node never joined ({why})"),
                None => String::new(),
            }
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn flattened_paths_quote_dotted_keys() {
        let mut out = BTreeMap::new();
        flatten(&json!({"a": {"b.c": 1, "d": {"e": 2}, "[x": 3}, "f": {}, "g": [1]}), "", &mut out);
        let keys: Vec<&str> = out.keys().map(String::as_str).collect();
        assert_eq!(keys, ["a.d.e", "a[\"b.c\"]", "a[x", "f", "g"]);
        let mut t = BTreeMap::new();
        flatten_toml(&toml::Value::Table(toml::from_str("[p.\"io.x\"]\nk = 1\n").unwrap()), "root", &mut t);
        assert_eq!(t.keys().collect::<Vec<_>>(), ["root.p[\"io.x\"].k"]);
    }

    #[test]
    fn flags_fold_into_the_configuration() {
        let mut n = Node::default();
        kubelet(
            json!({"maxPods": 29, "kubeReserved": {"cpu": "70m", "memory": "574Mi"}, "evictionHard": {"memory.available": "100Mi"}}),
            &[
                "--max-pods=50".into(),
                "--kube-reserved=cpu=250m".into(),
                "--node-labels=a=b,c=d".into(),
                "--node-labels=e=f".into(),
                "--node-ip=1.2.3.4".into(),
            ],
            &mut n,
        );
        assert_eq!(n.kubelet["maxPods"], 50);
        assert_eq!(n.kubelet["kubeReserved.cpu"], "250m");
        assert!(!n.kubelet.contains_key("kubeReserved.memory"), "a map flag replaces the file's map");
        assert_eq!(n.kubelet["evictionHard[\"memory.available\"]"], "100Mi");
        assert_eq!(n.labels.len(), 3);
        assert_eq!(n.args, ["--node-ip=1.2.3.4"]);
    }
}
