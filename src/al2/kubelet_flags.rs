//! `--kubelet-extra-args` → NodeConfig `kubelet.config` keys and `kubelet.flags` (docs §6).
//! AL2 put the string into `KUBELET_EXTRA_ARGS`, which systemd split at whitespace into kubelet
//! arguments; nodeadm instead takes a KubeletConfiguration drop-in (`kubelet.config`) and extra
//! flags (`kubelet.flags`). Each flag is looked up in the table derived from the upstream
//! kubelet flag and field lists (`kubelet-flags.tsv`, made by `tools/gen-kubelet-flags.py`) and
//! its value written with the config field's type: renamed keys (`--pod-max-pids` →
//! `podPidsLimit`), `k=v` and `k<v` maps, CSV lists, taints, reserved memory, durations.
//! `--node-labels` stays a flag (no config field); flags nodeadm sets itself are dropped.

use indexmap::IndexMap;
use serde_json::{Map, Number, Value};
use std::collections::HashMap;
use std::sync::OnceLock;

const TABLE: &str = include_str!("kubelet-flags.tsv");

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Codec {
    Bool,
    Int,
    String,
    Duration,
    Ip,
    StringList,
    Map,
    MapLangle,
    BoolMap,
    Multimap,
    Verbosity,
    Vmodule,
    Quantity,
    ReservedMemory,
    Taints,
    Labels,
    Unregistered,
}

impl Codec {
    fn parse(s: &str) -> Option<Codec> {
        Some(match s {
            "bool" => Codec::Bool,
            "int" => Codec::Int,
            "string" => Codec::String,
            "duration" => Codec::Duration,
            "ip" => Codec::Ip,
            "string-list" => Codec::StringList,
            "map" => Codec::Map,
            "map-langle" => Codec::MapLangle,
            "bool-map" => Codec::BoolMap,
            "multimap" => Codec::Multimap,
            "verbosity" => Codec::Verbosity,
            "vmodule" => Codec::Vmodule,
            "quantity" => Codec::Quantity,
            "reserved-memory" => Codec::ReservedMemory,
            "taints" => Codec::Taints,
            "labels" => Codec::Labels,
            "unregistered" => Codec::Unregistered,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone)]
pub struct FlagSpec {
    pub flag: String,
    /// Dotted KubeletConfiguration path (`authentication.anonymous.enabled`).
    pub json_path: Option<String>,
    pub codec: Codec,
    /// On the command line the flag replaced the whole map or list; a drop-in merges it.
    pub replaces: bool,
    pub deprecated: bool,
}

/// The flag table, parsed once.
pub fn table() -> &'static HashMap<String, FlagSpec> {
    static T: OnceLock<HashMap<String, FlagSpec>> = OnceLock::new();
    T.get_or_init(|| {
        let mut map = HashMap::new();
        for line in TABLE.lines().filter(|l| !l.starts_with('#')).skip(1) {
            let cols: Vec<&str> = line.split('\t').collect();
            let [flag, path, _kind, codec, replaces, deprecated] = cols[..] else { continue };
            let Some(codec) = Codec::parse(codec) else { continue };
            let mut spec = FlagSpec {
                flag: flag.to_string(),
                json_path: (path != "-").then(|| path.to_string()),
                codec,
                replaces: replaces == "yes",
                deprecated: deprecated == "yes",
            };
            // The kubelet has both the flag and the config field (docs §6.1: "either form works").
            if flag == "--seccomp-default" {
                spec.json_path = Some("seccompDefault".into());
            }
            map.insert(flag.trim_start_matches('-').to_string(), spec);
        }
        map
    })
}

/// Why a flag is not carried over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DropReason {
    /// nodeadm sets it; a copy appended later would override nodeadm's value.
    NodeadmOwned,
    /// The kubelet no longer registers it and would refuse to start.
    Unregistered,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Written to `kubelet.config` at `path` (dotted).
    Config {
        path: String,
        value: Value,
    },
    /// Kept in `kubelet.flags`, normalised to `--name=value`.
    Flag(String),
    Dropped(DropReason),
    /// The value does not parse as the flag's type; kept out of the output.
    Invalid(String),
    /// Not a kubelet flag at all.
    Unknown,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Translated {
    /// The flag name as written, with dashes (`--max-pods`).
    pub flag: String,
    /// The argument(s) as written, quotes removed.
    pub text: String,
    /// Byte range of the flag in the argument string.
    pub span: (usize, usize),
    pub outcome: Outcome,
    /// Semantics shift: on AL2 the flag replaced the whole map/list, AL2023 merges it.
    pub replaces: bool,
}

/// Flags nodeadm writes itself (docs §6.1, §6.2).
pub const NODEADM_OWNED: &[&str] = &[
    "node-ip",
    "hostname-override",
    "cloud-provider",
    "kubeconfig",
    "bootstrap-kubeconfig",
    "config",
    "config-dir",
    "image-credential-provider-config",
    "image-credential-provider-bin-dir",
    "runtime-cgroups",
    "provider-id",
    "container-runtime-endpoint",
];

/// Splits an argument string the way it reached the kubelet: systemd split
/// `$KUBELET_EXTRA_ARGS` at whitespace; quotes that survived into the value are removed here
/// because nodeadm passes flags through verbatim (docs §6.2). bootstrap.sh wrote the value into
/// a unit drop-in, where a line ending in a backslash continues on the next, the backslash read
/// as a space (systemd.syntax(7)): so a `\` and newline kept by single quotes in the user's
/// script separated two flags on AL2. They become two spaces here, which keeps every offset.
pub fn split_args(s: &str) -> Vec<(String, usize, usize)> {
    let joined;
    let s = if s.contains("\\\n") {
        joined = s.replace("\\\n", "  ");
        joined.as_str()
    } else {
        s
    };
    if s.is_ascii() { split_ascii(s) } else { split_chars(s) }
}

/// [`split_args`] over ASCII text: the same state machine, copying runs of plain characters at
/// once instead of one char at a time (argument strings are read several times per conversion).
fn split_ascii(s: &str) -> Vec<(String, usize, usize)> {
    let mut out = Vec::new();
    let mut start = None;
    let (mut single, mut double, mut action) = (false, false, false);
    let mut cur = String::new();
    // The pending run of characters that go into the current argument unchanged.
    let mut run: Option<usize> = None;
    let flush = |cur: &mut String, run: &mut Option<usize>, end: usize| {
        if let Some(r) = run.take() {
            cur.push_str(s.get(r..end).unwrap_or_default());
        }
    };
    let bytes = s.as_bytes();
    // Bytes no state of the machine below treats specially.
    let plain = |b: u8| !matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r' | b'\'' | b'"' | b'{' | b'}');
    let mut prev = 0u8;
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if plain(b) {
            // A run of plain bytes joins the current argument whatever the quoting.
            start.get_or_insert(i);
            run.get_or_insert(i);
            let len = bytes.get(i..).unwrap_or_default().iter().position(|&c| !plain(c)).unwrap_or(bytes.len() - i);
            i += len;
            prev = bytes.get(i - 1).copied().unwrap_or(prev);
            continue;
        }
        if b == b'{' && prev == b'{' {
            action = true;
        } else if b == b'}' && prev == b'}' {
            action = false;
        }
        prev = b;
        // `char::is_whitespace` on ASCII.
        let ws = matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r');
        match b {
            _ if action && ws => {
                run.get_or_insert(i);
            }
            b'\'' if !double => {
                flush(&mut cur, &mut run, i);
                single = !single;
                start.get_or_insert(i);
            }
            b'"' if !single => {
                flush(&mut cur, &mut run, i);
                double = !double;
                start.get_or_insert(i);
            }
            _ if ws && !single && !double => {
                flush(&mut cur, &mut run, i);
                if let Some(st) = start.take() {
                    out.push((std::mem::take(&mut cur), st, i));
                }
            }
            _ => {
                start.get_or_insert(i);
                run.get_or_insert(i);
            }
        }
        i += 1;
    }
    flush(&mut cur, &mut run, s.len());
    if let Some(st) = start {
        out.push((cur, st, s.len()));
    }
    out
}

fn split_chars(s: &str) -> Vec<(String, usize, usize)> {
    let mut out = Vec::new();
    let mut start = None;
    let (mut single, mut double) = (false, false);
    let mut cur = String::new();
    // Inside a template action (`{{ .Labels }}`) whitespace does not split: the renderer puts a
    // value there.
    let mut action = false;
    let mut prev = '\0';
    for (i, c) in s.char_indices() {
        if c == '{' && prev == '{' {
            action = true;
        } else if c == '}' && prev == '}' {
            action = false;
        }
        prev = c;
        match c {
            c if action && c.is_whitespace() => cur.push(c),
            '\'' if !double => {
                single = !single;
                start.get_or_insert(i);
            }
            '"' if !single => {
                double = !double;
                start.get_or_insert(i);
            }
            c if c.is_whitespace() && !single && !double => {
                if let Some(st) = start.take() {
                    out.push((std::mem::take(&mut cur), st, i));
                }
            }
            c => {
                start.get_or_insert(i);
                cur.push(c);
            }
        }
    }
    if let Some(st) = start {
        out.push((cur, st, s.len()));
    }
    out
}

fn go_duration_ok(s: &str) -> bool {
    let s = s.strip_prefix(['-', '+']).unwrap_or(s);
    if s == "0" {
        return true;
    }
    let mut rest = s;
    let mut any = false;
    while !rest.is_empty() {
        let num_end = rest.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(rest.len());
        if num_end == 0 {
            return false;
        }
        let Some(after_number) = rest.get(num_end..) else { return false };
        let unit = ["ns", "us", "µs", "μs", "ms", "s", "m", "h"].iter().find_map(|u| after_number.strip_prefix(u));
        let Some(after_unit) = unit else { return false };
        rest = after_unit;
        any = true;
    }
    any
}

fn pairs(value: &str, sep: char) -> Result<Vec<(String, String)>, String> {
    value
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| {
            p.split_once(sep)
                .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
                .ok_or_else(|| format!("`{p}` is not `key{sep}value`"))
        })
        .collect()
}

fn taint(s: &str) -> Result<Value, String> {
    let (kv, effect) = s.rsplit_once(':').ok_or_else(|| format!("taint `{s}` has no `:Effect`"))?;
    if !matches!(effect, "NoSchedule" | "PreferNoSchedule" | "NoExecute") {
        return Err(format!("taint effect `{effect}` is not NoSchedule, PreferNoSchedule or NoExecute"));
    }
    let mut m = Map::new();
    match kv.split_once('=') {
        Some((k, v)) => {
            m.insert("key".into(), Value::String(k.into()));
            m.insert("value".into(), Value::String(v.into()));
        }
        None => {
            m.insert("key".into(), Value::String(kv.into()));
        }
    }
    if m.get("key").and_then(Value::as_str).is_none_or(str::is_empty) {
        return Err(format!("taint `{s}` has no key"));
    }
    m.insert("effect".into(), Value::String(effect.into()));
    Ok(Value::Object(m))
}

/// `0:memory=1Gi,hugepages-1Gi=2Gi;1:memory=2Gi` → `[{numaNode: 0, limits: {...}}, ...]`.
fn reserved_memory(s: &str) -> Result<Value, String> {
    let mut out = Vec::new();
    for entry in s.split(';').map(str::trim).filter(|e| !e.is_empty()) {
        let (node, limits) =
            entry.split_once(':').ok_or_else(|| format!("`{entry}` is not `NUMA:resource=quantity`"))?;
        let node: i64 = node.trim().parse().map_err(|_| format!("NUMA node `{node}` is not a number"))?;
        let limits: Map<String, Value> = pairs(limits, '=')?.into_iter().map(|(k, v)| (k, Value::String(v))).collect();
        let mut m = Map::new();
        m.insert("numaNode".into(), Value::Number(node.into()));
        m.insert("limits".into(), Value::Object(limits));
        out.push(Value::Object(m));
    }
    Ok(Value::Array(out))
}

/// Converts one flag value to the JSON its config field takes. A template placeholder is kept
/// as text: the renderer fills it in before nodeadm reads it.
pub fn convert_value(codec: Codec, value: Option<&str>) -> Result<Value, String> {
    if let Some(v) = value.filter(|v| super::template::has_placeholder(v)) {
        return Ok(Value::String(v.to_string()));
    }
    let need = || value.ok_or_else(|| "needs a value".to_string());
    Ok(match codec {
        Codec::Bool => match value {
            None | Some("true") | Some("True") | Some("TRUE") | Some("1") | Some("t") | Some("T") => Value::Bool(true),
            Some("false") | Some("False") | Some("FALSE") | Some("0") | Some("f") | Some("F") => Value::Bool(false),
            Some(v) => return Err(format!("`{v}` is not a boolean")),
        },
        Codec::Int | Codec::Verbosity => {
            let v = need()?;
            let n: i64 = v.parse().map_err(|_| format!("`{v}` is not an integer"))?;
            Value::Number(n.into())
        }
        Codec::Duration => {
            let v = need()?;
            if !go_duration_ok(v) {
                return Err(format!("`{v}` is not a Go duration (such as 30s, 5m, 1h30m)"));
            }
            Value::String(v.into())
        }
        Codec::String | Codec::Ip | Codec::Quantity => Value::String(need()?.into()),
        Codec::StringList => Value::Array(
            need()?.split(',').map(str::trim).filter(|s| !s.is_empty()).map(|s| Value::String(s.into())).collect(),
        ),
        Codec::Map => Value::Object(pairs(need()?, '=')?.into_iter().map(|(k, v)| (k, Value::String(v))).collect()),
        Codec::MapLangle => {
            Value::Object(pairs(need()?, '<')?.into_iter().map(|(k, v)| (k, Value::String(v))).collect())
        }
        Codec::BoolMap => {
            let mut m = Map::new();
            for (k, v) in pairs(need()?, '=')? {
                m.insert(k, convert_value(Codec::Bool, Some(&v))?);
            }
            Value::Object(m)
        }
        Codec::Multimap => {
            let mut m: Map<String, Value> = Map::new();
            for (k, v) in pairs(need()?, ':')? {
                if let Value::Array(a) = m.entry(k).or_insert_with(|| Value::Array(Vec::new())) {
                    a.push(Value::String(v));
                }
            }
            Value::Object(m)
        }
        Codec::Vmodule => {
            let mut out = Vec::new();
            for (pattern, level) in pairs(need()?, '=')? {
                let n: i64 = level.parse().map_err(|_| format!("vmodule level `{level}` is not an integer"))?;
                let mut m = Map::new();
                m.insert("filePattern".into(), Value::String(pattern));
                m.insert("verbosity".into(), Value::Number(Number::from(n)));
                out.push(Value::Object(m));
            }
            Value::Array(out)
        }
        Codec::ReservedMemory => reserved_memory(need()?)?,
        Codec::Taints => Value::Array(
            need()?.split(',').map(str::trim).filter(|s| !s.is_empty()).map(taint).collect::<Result<_, _>>()?,
        ),
        Codec::Labels | Codec::Unregistered => Value::String(need()?.into()),
    })
}

/// A template placeholder standing for a whole list or map value: it renders to the flag's own
/// syntax (`k=v:NoSchedule,…`), not to the YAML the config field needs, so it stays a flag.
pub fn placeholder_for_structured(t: &Translated) -> bool {
    let structured = table().get(t.flag.trim_start_matches('-')).is_some_and(|s| {
        matches!(
            s.codec,
            Codec::StringList
                | Codec::Map
                | Codec::MapLangle
                | Codec::BoolMap
                | Codec::Multimap
                | Codec::Vmodule
                | Codec::ReservedMemory
                | Codec::Taints
        )
    });
    structured
        && matches!(&t.outcome, Outcome::Config { value: Value::String(v), .. } if super::template::has_placeholder(v))
}

fn takes_separate_value(codec: Codec) -> bool {
    !matches!(codec, Codec::Bool)
}

/// Translates an argument string into outcomes, one per flag, in order.
pub fn translate(args: &str) -> Vec<Translated> {
    let words = split_args(args);
    let mut out = Vec::new();
    let mut i = 0;
    while let Some((word, start, end)) = words.get(i) {
        i += 1;
        let Some(body) = word.strip_prefix("--").or_else(|| word.strip_prefix('-')).filter(|b| !b.is_empty()) else {
            out.push(Translated {
                flag: word.clone(),
                text: word.clone(),
                span: (*start, *end),
                outcome: Outcome::Unknown,
                replaces: false,
            });
            continue;
        };
        let (name, inline) = match body.split_once('=') {
            Some((n, v)) => (n, Some(v.to_string())),
            None => (body, None),
        };
        // As the user wrote it (`--v` and `-v` are the same flag to the kubelet).
        let dashed = if word.starts_with("--") { format!("--{name}") } else { format!("-{name}") };
        let spec = table().get(name);
        let mut value = inline.clone();
        let mut span_end = *end;
        // An unknown flag takes the next plain word along, so it is reported as one construct.
        if value.is_none()
            && spec.is_none_or(|s| takes_separate_value(s.codec))
            && let Some((next, _, next_end)) = words.get(i)
            && !next.starts_with('-')
        {
            value = Some(next.clone());
            span_end = *next_end;
            i += 1;
        }
        let text = match &value {
            Some(v) => format!("{dashed}={v}"),
            None => dashed.clone(),
        };
        let (outcome, replaces) = match spec {
            None => (Outcome::Unknown, false),
            Some(_) if NODEADM_OWNED.contains(&name) => (Outcome::Dropped(DropReason::NodeadmOwned), false),
            Some(s) if s.codec == Codec::Unregistered => (Outcome::Dropped(DropReason::Unregistered), false),
            Some(s) if s.codec == Codec::Labels => (Outcome::Flag(text.clone()), false),
            Some(s) => match (&s.json_path, convert_value(s.codec, value.as_deref())) {
                (Some(path), Ok(v)) => (Outcome::Config { path: path.clone(), value: v }, s.replaces),
                (None, Ok(_)) => (Outcome::Flag(text.clone()), false),
                (_, Err(e)) => (Outcome::Invalid(e), false),
            },
        };
        out.push(Translated { flag: dashed, text, span: (*start, span_end), outcome, replaces });
    }
    out
}

/// Writes `value` at a dotted path, applying the flag's repeat semantics: lists from a second
/// occurrence append, maps merge, scalars are replaced.
pub fn apply(config: &mut IndexMap<String, Value>, path: &str, value: Value, repeat: bool) {
    let mut segs = path.split('.');
    let Some(first) = segs.next() else { return };
    let rest: Vec<&str> = segs.collect();
    if rest.is_empty() {
        set(config.entry(first.to_string()).or_insert(Value::Null), value, repeat);
        return;
    }
    let mut node = config.entry(first.to_string()).or_insert_with(|| Value::Object(Map::new()));
    for seg in rest.iter().take(rest.len().saturating_sub(1)) {
        if !node.is_object() {
            *node = Value::Object(Map::new());
        }
        let Value::Object(m) = node else { return };
        node = m.entry(seg.to_string()).or_insert_with(|| Value::Object(Map::new()));
    }
    if !node.is_object() {
        *node = Value::Object(Map::new());
    }
    if let (Value::Object(m), Some(last)) = (node, rest.last()) {
        set(m.entry(last.to_string()).or_insert(Value::Null), value, repeat);
    }
}

fn set(slot: &mut Value, value: Value, repeat: bool) {
    match (slot, value) {
        (Value::Array(a), Value::Array(b)) if repeat => a.extend(b),
        (Value::Object(a), Value::Object(b)) if repeat => a.extend(b),
        (slot, value) => *slot = value,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn one(args: &str) -> Outcome {
        let t = translate(args);
        assert_eq!(t.len(), 1, "{t:?}");
        t[0].outcome.clone()
    }

    fn cfg(path: &str, value: Value) -> Outcome {
        Outcome::Config { path: path.into(), value }
    }

    #[test]
    fn table_is_complete_and_parsed() {
        assert!(table().len() >= 137);
        assert!(table().values().all(|s| s.flag.starts_with('-')));
        assert_eq!(table()["max-pods"].json_path.as_deref(), Some("maxPods"));
    }

    #[test]
    fn renamed_keys_and_scalar_types() {
        assert_eq!(one("--max-pods=110"), cfg("maxPods", json!(110)));
        assert_eq!(one("--max-pods 58"), cfg("maxPods", json!(58)));
        assert_eq!(one("--pod-max-pids=4096"), cfg("podPidsLimit", json!(4096)));
        assert_eq!(one("--image-gc-high-threshold=85"), cfg("imageGCHighThresholdPercent", json!(85)));
        assert_eq!(one("--image-gc-low-threshold=70"), cfg("imageGCLowThresholdPercent", json!(70)));
        assert_eq!(one("--minimum-image-ttl-duration=10m"), cfg("imageMinimumGCAge", json!("10m")));
        assert_eq!(one("--registry-qps=20"), cfg("registryPullQPS", json!(20)));
        assert_eq!(one("--registry-burst=40"), cfg("registryBurst", json!(40)));
        assert_eq!(one("--event-qps=5"), cfg("eventRecordQPS", json!(5)));
        assert_eq!(one("--kube-api-qps=30"), cfg("kubeAPIQPS", json!(30)));
        assert_eq!(one("--kube-api-content-type=application/json"), cfg("contentType", json!("application/json")));
        assert_eq!(one("--reserved-cpus=0-1"), cfg("reservedSystemCPUs", json!("0-1")));
        assert_eq!(one("--rotate-server-certificates"), cfg("serverTLSBootstrap", json!(true)));
        assert_eq!(one("--serialize-image-pulls=false"), cfg("serializeImagePulls", json!(false)));
        assert_eq!(one("--cgroups-per-qos=true"), cfg("cgroupsPerQOS", json!(true)));
        assert_eq!(one("--pod-manifest-path=/etc/k/manifests"), cfg("staticPodPath", json!("/etc/k/manifests")));
        assert_eq!(one("--make-iptables-util-chains=false"), cfg("makeIPTablesUtilChains", json!(false)));
        assert_eq!(one("--cpu-cfs-quota=false"), cfg("cpuCFSQuota", json!(false)));
        assert_eq!(one("--streaming-connection-idle-timeout=5m"), cfg("streamingConnectionIdleTimeout", json!("5m")));
        assert_eq!(one("--container-log-max-size=50Mi"), cfg("containerLogMaxSize", json!("50Mi")));
        assert_eq!(one("--v=4"), cfg("logging.verbosity", json!(4)));
        assert_eq!(one("-v 3"), cfg("logging.verbosity", json!(3)));
        assert_eq!(one("--anonymous-auth=false"), cfg("authentication.anonymous.enabled", json!(false)));
        assert_eq!(one("--seccomp-default"), cfg("seccompDefault", json!(true)));
    }

    #[test]
    fn maps_lists_taints_and_reserved_memory() {
        assert_eq!(
            one("--kube-reserved=cpu=250m,memory=1Gi"),
            cfg("kubeReserved", json!({"cpu": "250m", "memory": "1Gi"}))
        );
        assert_eq!(
            one("--eviction-hard=memory.available<500Mi,nodefs.available<10%"),
            cfg("evictionHard", json!({"memory.available": "500Mi", "nodefs.available": "10%"}))
        );
        assert_eq!(
            one("--eviction-soft-grace-period=memory.available=1m30s"),
            cfg("evictionSoftGracePeriod", json!({"memory.available": "1m30s"}))
        );
        assert_eq!(one("--feature-gates=A=true,B=false"), cfg("featureGates", json!({"A": true, "B": false})));
        assert_eq!(one("--cluster-dns=10.0.0.10,10.0.0.11"), cfg("clusterDNS", json!(["10.0.0.10", "10.0.0.11"])));
        assert_eq!(
            one("--allowed-unsafe-sysctls=net.core.*,kernel.msg*"),
            cfg("allowedUnsafeSysctls", json!(["net.core.*", "kernel.msg*"]))
        );
        assert_eq!(
            one("--register-with-taints=dedicated=gpu:NoSchedule,spot:PreferNoSchedule"),
            cfg(
                "registerWithTaints",
                json!([{"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}, {"key": "spot", "effect": "PreferNoSchedule"}])
            )
        );
        assert_eq!(
            one("--reserved-memory=0:memory=1Gi,hugepages-1Gi=2Gi;1:memory=2Gi"),
            cfg(
                "reservedMemory",
                json!([{"numaNode": 0, "limits": {"memory": "1Gi", "hugepages-1Gi": "2Gi"}}, {"numaNode": 1, "limits": {"memory": "2Gi"}}])
            )
        );
        assert_eq!(
            one("--vmodule=kubelet*=4"),
            cfg("logging.vmodule", json!([{"filePattern": "kubelet*", "verbosity": 4}]))
        );
        assert_eq!(one("--manifest-url-header=a:1,a:2"), cfg("staticPodURLHeader", json!({"a": ["1", "2"]})));
    }

    #[test]
    fn labels_stay_flags_unquoted_and_owned_flags_drop() {
        assert_eq!(one("--node-labels='team=a,tier=b'"), Outcome::Flag("--node-labels=team=a,tier=b".into()));
        assert_eq!(one("--node-labels=\"x=y\""), Outcome::Flag("--node-labels=x=y".into()));
        assert_eq!(one("--cert-dir=/var/lib/kubelet/pki"), Outcome::Flag("--cert-dir=/var/lib/kubelet/pki".into()));
        for f in [
            "--node-ip=10.0.0.1",
            "--hostname-override=x",
            "--cloud-provider=aws",
            "--kubeconfig=/k",
            "--provider-id=aws:///x",
        ] {
            assert_eq!(one(f), Outcome::Dropped(DropReason::NodeadmOwned), "{f}");
        }
        for f in [
            "--pod-infra-container-image=602401143452.dkr.ecr.us-west-2.amazonaws.com/eks/pause:3.5",
            "--container-runtime=remote",
        ] {
            assert_eq!(one(f), Outcome::Dropped(DropReason::Unregistered), "{f}");
        }
        assert_eq!(one("--system-profile=x"), Outcome::Unknown);
    }

    #[test]
    fn the_ascii_splitter_splits_as_the_char_splitter_does() {
        let pieces = [
            "--a=1",
            " ",
            "\t",
            "\n",
            "\r",
            "\x0b",
            "\x0c",
            "'",
            "\"",
            "{{",
            "}}",
            "{",
            "}",
            ".Labels",
            "x y",
            "--node-labels='a=b, c=d'",
            "\"q'q\"",
            "'d\"d'",
            "=",
            "",
        ];
        for text in crate::testing::mixed_texts(&pieces, 0x9E37_79B9_7F4A_7C15, 8, 20_000) {
            assert_eq!(split_ascii(&text), split_chars(&text), "{text:?}");
        }
    }

    #[test]
    fn invalid_values_and_bool_words() {
        assert!(matches!(one("--max-pods=many"), Outcome::Invalid(_)));
        assert!(matches!(one("--sync-frequency=10"), Outcome::Invalid(_)), "a bare number is not a Go duration");
        assert!(matches!(one("--register-with-taints=a=b:Sometimes"), Outcome::Invalid(_)));
        // A separate word after a bool flag is not its value (pflag semantics).
        let t = translate("--fail-swap-on false");
        assert_eq!(t[0].outcome, cfg("failSwapOn", json!(true)));
        assert_eq!(t[1].outcome, Outcome::Unknown);
        let t = translate("--max-pods=20 --node-labels=a=b   --kube-reserved cpu=1");
        assert_eq!(t.len(), 3);
        assert!(t[2].replaces);
        assert_eq!(t[2].text, "--kube-reserved=cpu=1");
    }

    #[test]
    fn repeated_flags_follow_their_semantics() {
        let mut c = IndexMap::new();
        apply(&mut c, "clusterDNS", json!(["a"]), false);
        apply(&mut c, "clusterDNS", json!(["b"]), true);
        apply(&mut c, "maxPods", json!(1), false);
        apply(&mut c, "maxPods", json!(2), true);
        apply(&mut c, "authentication.anonymous.enabled", json!(false), false);
        apply(&mut c, "authentication.webhook.enabled", json!(true), false);
        assert_eq!(
            serde_json::to_value(&c).unwrap(),
            json!({"clusterDNS": ["a", "b"], "maxPods": 2, "authentication": {"anonymous": {"enabled": false}, "webhook": {"enabled": true}}})
        );
    }

    /// A value of the right form for each codec.
    fn sample(codec: Codec) -> Option<&'static str> {
        Some(match codec {
            Codec::Bool => "true",
            Codec::Int | Codec::Verbosity => "3",
            Codec::String => "x",
            Codec::Duration => "30s",
            Codec::Ip => "10.0.0.1",
            Codec::StringList => "a,b",
            Codec::Map => "cpu=1,memory=1Gi",
            Codec::MapLangle => "memory.available<100Mi",
            Codec::BoolMap => "A=true",
            Codec::Multimap => "h:v",
            Codec::Vmodule => "x*=2",
            Codec::Quantity => "64Ki",
            Codec::ReservedMemory => "0:memory=1Gi",
            Codec::Taints => "k=v:NoSchedule",
            Codec::Labels => "a=b",
            Codec::Unregistered => return None,
        })
    }

    /// Every flag in the table, with a value of its form, has a defined outcome; every
    /// config-backed one lands on its KubeletConfiguration path with a value the strict
    /// kubelet schema accepts.
    #[cfg(feature = "schema")]
    #[test]
    fn every_kubelet_flag_translates_to_a_schema_valid_key() {
        let schema: Value = serde_json::from_str(crate::nodeconfig::schema::KUBELET_SCHEMA).unwrap();
        let validator = jsonschema::draft202012::new(&schema).unwrap();
        let mut config_backed = 0;
        // An enum field gets its first allowed value.
        let enum_first = |path: &str| -> Option<String> {
            let mut node = &schema;
            for seg in path.split('.') {
                node = node.get("properties")?.get(seg)?;
            }
            node.get("enum")?.as_array()?.first()?.as_str().map(str::to_string)
        };
        for spec in table().values() {
            let value =
                spec.json_path.as_deref().and_then(enum_first).or_else(|| sample(spec.codec).map(str::to_string));
            let arg = match value {
                Some(v) => format!("{}={v}", spec.flag),
                None => spec.flag.clone(),
            };
            let t = translate(&arg);
            assert_eq!(t.len(), 1, "{arg}: {t:?}");
            match (&t[0].outcome, &spec.json_path) {
                (Outcome::Dropped(_), _) => assert!(
                    spec.codec == Codec::Unregistered || NODEADM_OWNED.contains(&spec.flag.trim_start_matches('-')),
                    "{arg}"
                ),
                (Outcome::Flag(f), None) => assert_eq!(f, &arg),
                (Outcome::Flag(f), Some(_)) => assert!(spec.codec == Codec::Labels, "{f}"),
                (Outcome::Config { path, value }, Some(expected)) => {
                    assert_eq!(path, expected, "{arg}");
                    let mut config = IndexMap::new();
                    apply(&mut config, path, value.clone(), false);
                    let doc = serde_json::to_value(&config).unwrap();
                    let errors: Vec<String> = validator.iter_errors(&doc).map(|e| e.to_string()).collect();
                    assert!(errors.is_empty(), "{arg} → {doc}: {errors:?}");
                    config_backed += 1;
                }
                (o, p) => panic!("{arg}: unexpected {o:?} for path {p:?}"),
            }
        }
        assert!(config_backed >= 100, "only {config_backed} config-backed flags");
    }

    #[test]
    fn splits_like_systemd_then_unquotes() {
        let w: Vec<String> = split_args("--a=1 \\\n  --b=2").into_iter().map(|w| w.0).collect();
        assert_eq!(w, ["--a=1", "--b=2"], "a unit file's line continuation");
        let w: Vec<String> = split_args(" --a='x y'  --b=\"1\" c ").into_iter().map(|w| w.0).collect();
        assert_eq!(w, ["--a=x y", "--b=1", "c"]);
        assert!(
            go_duration_ok("1h30m")
                && go_duration_ok("300ms")
                && go_duration_ok("0")
                && !go_duration_ok("10")
                && !go_duration_ok("5 m")
        );
    }
}
