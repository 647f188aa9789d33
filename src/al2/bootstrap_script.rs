//! `/etc/eks/bootstrap.sh` as a file user data edits. The model holds the lines that decide
//! what a `sed -i` patch changes (the options' assignments, the defaults, the kubelet argument
//! lines, the drop-in writes and the kubelet start), each at its line number in
//! `templates/al2/runtime/bootstrap.sh` at amazon-eks-ami 0ab84280 (al2-node §2), and blank
//! lines elsewhere. A patched copy is read back against the original: inserted code is run where
//! it landed (before option parsing it acts like the environment and loses to flags; after it,
//! it overrides them; after the kubelet starts it changes nothing), and a changed line is
//! evaluated in its place. A pattern that matches none of these lines cannot be replayed, and
//! the translator says so rather than claim the patch did nothing.

use super::bootstrap::{Call, Flag};
use super::shell;
use super::template::{Prepared, Syntax};
use super::words::{self, Env, Value};

/// What a line of bootstrap.sh does, for the model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tag {
    /// Shell setup before option parsing.
    Prelude,
    /// `VAR=$2` in the option loop: the flag's value lands here.
    Option(Flag),
    /// `CLUSTER_NAME="$1"`: parsing is over.
    ClusterName,
    /// An assignment bootstrap.sh makes after parsing (defaults, `KUBELET_ARGS=…`).
    Assign,
    /// Writes `maxPods` when `USE_MAX_PODS` is `true`.
    MaxPods,
    /// Writes `10-kubelet-args.conf` with `KUBELET_ARGS`.
    ArgsDropIn,
    /// Writes `30-kubelet-extra-args.conf` when `KUBELET_EXTRA_ARGS` is not empty.
    ExtraArgsDropIn,
    /// `systemctl start kubelet`.
    Start,
    /// Structure only.
    Other,
}

const LINES: &[(usize, &str, Tag)] = &[
    (1, "#!/usr/bin/env bash", Tag::Prelude),
    (3, "set -o pipefail", Tag::Prelude),
    (4, "set -o nounset", Tag::Prelude),
    (5, "set -o errexit", Tag::Prelude),
    (12, "IFS=$'\\n\\t'", Tag::Prelude),
    (55, "POSITIONAL=()", Tag::Other),
    (57, "while [[ $# -gt 0 ]]; do", Tag::Other),
    (58, "  key=\"$1\"", Tag::Other),
    (59, "  case $key in", Tag::Other),
    (60, "    -h | --help)", Tag::Other),
    (64, "    --use-max-pods)", Tag::Other),
    (65, "      USE_MAX_PODS=\"$2\"", Tag::Option(Flag::UseMaxPods)),
    (70, "    --b64-cluster-ca)", Tag::Other),
    (71, "      B64_CLUSTER_CA=$2", Tag::Option(Flag::B64ClusterCa)),
    (76, "    --apiserver-endpoint)", Tag::Other),
    (77, "      APISERVER_ENDPOINT=$2", Tag::Option(Flag::ApiserverEndpoint)),
    (82, "    --kubelet-extra-args)", Tag::Other),
    (83, "      KUBELET_EXTRA_ARGS=$2", Tag::Option(Flag::KubeletExtraArgs)),
    (88, "    --enable-docker-bridge)", Tag::Other),
    (89, "      ENABLE_DOCKER_BRIDGE=$2", Tag::Option(Flag::EnableDockerBridge)),
    (94, "    --aws-api-retry-attempts)", Tag::Other),
    (95, "      API_RETRY_ATTEMPTS=$2", Tag::Option(Flag::AwsApiRetryAttempts)),
    (100, "    --docker-config-json)", Tag::Other),
    (101, "      DOCKER_CONFIG_JSON=$2", Tag::Option(Flag::DockerConfigJson)),
    (106, "    --containerd-config-file)", Tag::Other),
    (107, "      CONTAINERD_CONFIG_FILE=$2", Tag::Option(Flag::ContainerdConfigFile)),
    (112, "    --pause-container-account)", Tag::Other),
    (113, "      PAUSE_CONTAINER_ACCOUNT=$2", Tag::Option(Flag::PauseContainerAccount)),
    (118, "    --pause-container-version)", Tag::Other),
    (119, "      PAUSE_CONTAINER_VERSION=$2", Tag::Option(Flag::PauseContainerVersion)),
    (124, "    --dns-cluster-ip)", Tag::Other),
    (125, "      DNS_CLUSTER_IP=$2", Tag::Option(Flag::DnsClusterIp)),
    (130, "    --container-runtime)", Tag::Other),
    (131, "      CONTAINER_RUNTIME=$2", Tag::Option(Flag::ContainerRuntime)),
    (136, "    --ip-family)", Tag::Other),
    (137, "      IP_FAMILY=$2", Tag::Option(Flag::IpFamily)),
    (142, "    --service-ipv4-cidr)", Tag::Other),
    (143, "      SERVICE_IPV4_CIDR=$2", Tag::Option(Flag::ServiceIpv4Cidr)),
    (148, "    --service-ipv6-cidr)", Tag::Other),
    (149, "      SERVICE_IPV6_CIDR=$2", Tag::Option(Flag::ServiceIpv6Cidr)),
    (154, "    --enable-local-outpost)", Tag::Other),
    (155, "      ENABLE_LOCAL_OUTPOST=$2", Tag::Option(Flag::EnableLocalOutpost)),
    (160, "    --cluster-id)", Tag::Other),
    (161, "      CLUSTER_ID=$2", Tag::Option(Flag::ClusterId)),
    (166, "    --mount-bpf-fs)", Tag::Other),
    (167, "      MOUNT_BPF_FS=$2", Tag::Option(Flag::MountBpfFs)),
    (172, "    --local-disks)", Tag::Other),
    (173, "      LOCAL_DISKS=$2", Tag::Option(Flag::LocalDisks)),
    (178, "    *)                   # unknown option", Tag::Other),
    (179, "      POSITIONAL+=(\"$1\") # save it in an array for later", Tag::Other),
    (185, "set +u", Tag::Other),
    (186, "set -- \"${POSITIONAL[@]}\" # restore positional parameters", Tag::Other),
    (187, "CLUSTER_NAME=\"$1\"", Tag::ClusterName),
    (188, "set -u", Tag::Other),
    (197, "DOCKER_CONFIG_JSON=\"${DOCKER_CONFIG_JSON:-}\"", Tag::Assign),
    (198, "ENABLE_DOCKER_BRIDGE=\"${ENABLE_DOCKER_BRIDGE:-false}\"", Tag::Assign),
    (206, "CONTAINER_RUNTIME=\"${CONTAINER_RUNTIME:-$DEFAULT_CONTAINER_RUNTIME}\"", Tag::Assign),
    (215, "USE_MAX_PODS=\"${USE_MAX_PODS:-true}\"", Tag::Assign),
    (216, "B64_CLUSTER_CA=\"${B64_CLUSTER_CA:-}\"", Tag::Assign),
    (217, "APISERVER_ENDPOINT=\"${APISERVER_ENDPOINT:-}\"", Tag::Assign),
    (218, "SERVICE_IPV4_CIDR=\"${SERVICE_IPV4_CIDR:-}\"", Tag::Assign),
    (219, "DNS_CLUSTER_IP=\"${DNS_CLUSTER_IP:-}\"", Tag::Assign),
    (220, "KUBELET_EXTRA_ARGS=\"${KUBELET_EXTRA_ARGS:-}\"", Tag::Assign),
    (221, "API_RETRY_ATTEMPTS=\"${API_RETRY_ATTEMPTS:-3}\"", Tag::Assign),
    (222, "CONTAINERD_CONFIG_FILE=\"${CONTAINERD_CONFIG_FILE:-}\"", Tag::Assign),
    (223, "PAUSE_CONTAINER_VERSION=\"${PAUSE_CONTAINER_VERSION:-3.5}\"", Tag::Assign),
    (224, "IP_FAMILY=\"${IP_FAMILY:-}\"", Tag::Assign),
    (225, "SERVICE_IPV6_CIDR=\"${SERVICE_IPV6_CIDR:-}\"", Tag::Assign),
    (226, "ENABLE_LOCAL_OUTPOST=\"${ENABLE_LOCAL_OUTPOST:-}\"", Tag::Assign),
    (227, "CLUSTER_ID=\"${CLUSTER_ID:-}\"", Tag::Assign),
    (228, "LOCAL_DISKS=\"${LOCAL_DISKS:-}\"", Tag::Assign),
    (241, "MOUNT_BPF_FS=\"${MOUNT_BPF_FS:-true}\"", Tag::Assign),
    (510, "MAX_PODS_FILE=\"/etc/eks/eni-max-pods.txt\"", Tag::Other),
    (530, "if [[ \"$USE_MAX_PODS\" = \"true\" ]]; then", Tag::Other),
    (531, "  echo \"$(jq \".maxPods=$MAX_PODS\" $KUBELET_CONFIG)\" > $KUBELET_CONFIG", Tag::MaxPods),
    (532, "fi", Tag::Other),
    (534, "KUBELET_ARGS=\"--node-ip=$INTERNAL_IP --pod-infra-container-image=$PAUSE_CONTAINER --v=2\"", Tag::Assign),
    (541, "KUBELET_ARGS=\"$KUBELET_ARGS --hostname-override=$(private-dns-name)\"", Tag::Assign),
    (542, "KUBELET_ARGS=\"$KUBELET_ARGS --cloud-provider=external\"", Tag::Assign),
    (610, "mkdir -p /etc/systemd/system/kubelet.service.d", Tag::Other),
    (612, "cat << EOF > /etc/systemd/system/kubelet.service.d/10-kubelet-args.conf", Tag::ArgsDropIn),
    (613, "[Service]", Tag::Other),
    (614, "Environment='KUBELET_ARGS=$KUBELET_ARGS'", Tag::Other),
    (615, "EOF", Tag::Other),
    (617, "if [[ -n \"$KUBELET_EXTRA_ARGS\" ]]; then", Tag::Other),
    (618, "  cat << EOF > /etc/systemd/system/kubelet.service.d/30-kubelet-extra-args.conf", Tag::ExtraArgsDropIn),
    (619, "[Service]", Tag::Other),
    (620, "Environment='KUBELET_EXTRA_ARGS=$KUBELET_EXTRA_ARGS'", Tag::Other),
    (621, "EOF", Tag::Other),
    (622, "fi", Tag::Other),
    (633, "systemctl daemon-reload", Tag::Other),
    (634, "systemctl enable kubelet", Tag::Other),
    (635, "systemctl start kubelet", Tag::Start),
    (637, "log \"INFO: complete!\"", Tag::Other),
];

/// The model's bootstrap.sh: the known lines at their numbers, blank lines between.
pub fn skeleton() -> String {
    skeleton_text().to_string()
}

fn skeleton_text() -> &'static str {
    static TEXT: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    TEXT.get_or_init(build_skeleton)
}

/// bootstrap.sh's own assignment lines, parsed once: every evaluation runs them.
fn parsed_line(no: usize) -> Option<&'static shell::Script> {
    static PARSED: std::sync::OnceLock<Vec<(usize, Option<shell::Script>)>> = std::sync::OnceLock::new();
    let all = PARSED.get_or_init(|| {
        LINES
            .iter()
            .filter(|(_, _, t)| *t == Tag::Assign)
            .map(|(n, text, _)| {
                // The node's DNS name is bootstrap.sh's own value, not the user's.
                let text = text.replace("$(private-dns-name)", "<private-dns-name>");
                (*n, shell::parse(&text, Syntax::None).ok())
            })
            .collect()
    });
    all.iter().find(|(n, _)| *n == no).and_then(|(_, s)| s.as_ref())
}

fn build_skeleton() -> String {
    let mut out = String::new();
    let mut next = 1;
    for (no, text, _) in LINES {
        while next < *no {
            out.push('\n');
            next += 1;
        }
        out.push_str(text);
        out.push('\n');
        next += 1;
    }
    out
}

/// Code a patch put into bootstrap.sh, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Injection {
    /// The original line it follows (0: before the first).
    pub after: usize,
    pub text: String,
    pub phase: Phase,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Before option parsing: acts like the environment, loses to flags.
    BeforeParsing,
    /// After option parsing, before the drop-ins are written: overrides flags.
    AfterParsing,
    /// After `systemctl start kubelet`: changes nothing the kubelet reads.
    AfterStart,
}

/// bootstrap.sh's variables when it wrote the kubelet drop-ins, after any patches.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    pub env: Env,
    /// `USE_MAX_PODS` when line 531 ran (`None`: the line is gone).
    pub use_max_pods: Option<Value>,
    pub writes_args_drop_in: bool,
    pub writes_extra_args_drop_in: bool,
    pub starts_kubelet: bool,
    pub injections: Vec<Injection>,
    /// Original lines a patch changed (line number, new text).
    pub changed: Vec<(usize, String)>,
    /// Original lines a patch removed.
    pub removed: Vec<usize>,
    /// Lines the patch touched that the model does not know: what they did cannot be replayed.
    pub unmodelled: bool,
}

/// Runs the (possibly patched) script over a call: flags, environment and the patch's code,
/// in the order bootstrap.sh would run them. `sourced` resolves `source FILE` in injected code.
pub fn evaluate(
    text: &str,
    call: &Call,
    caller_env: &[(String, Value)],
    sourced: &dyn Fn(&str) -> Option<String>,
) -> Outcome {
    let original = skeleton_text();
    // The unpatched script (almost every call) needs no diff, so its lines are not split.
    let unpatched = text == original;
    let (orig_lines, new_lines): (Vec<&str>, Vec<&str>) =
        if unpatched { Default::default() } else { (original.lines().collect(), text.lines().collect()) };
    let mut out = Outcome::default();
    // The new text in order: original lines (by number), and runs of new lines with the
    // original line they follow and the one they replace, if any.
    enum Item {
        Orig(usize),
        New { text: String, after: usize, replaces: Option<usize> },
    }
    let mut items: Vec<Item> = Vec::new();
    let mut last_orig = 0usize;
    let mut last_deleted: Option<usize> = None;
    let ops = if unpatched {
        items.extend(LINES.iter().map(|(n, _, _)| Item::Orig(*n)));
        Vec::new()
    } else {
        similar::capture_diff_slices(similar::Algorithm::Myers, &orig_lines, &new_lines)
    };
    for op in &ops {
        for change in op.iter_changes(&orig_lines, &new_lines) {
            let no = change.old_index().map_or(0, |i| i + 1);
            match change.tag() {
                similar::ChangeTag::Equal => {
                    last_orig = no;
                    last_deleted = None;
                    items.push(Item::Orig(no));
                }
                similar::ChangeTag::Delete => {
                    if orig_lines.get(no.saturating_sub(1)).is_some_and(|l| !l.is_empty()) {
                        out.removed.push(no);
                        last_deleted = Some(no);
                    } else {
                        out.unmodelled = true;
                        last_deleted = None;
                    }
                    last_orig = no;
                }
                similar::ChangeTag::Insert => {
                    let line = change.new_index().and_then(|i| new_lines.get(i)).copied().unwrap_or_default();
                    match items.last_mut() {
                        Some(Item::New { text, after, .. }) if *after == last_orig => {
                            text.push_str(line);
                            text.push('\n');
                        }
                        _ => items.push(Item::New {
                            text: format!("{line}\n"),
                            after: last_orig,
                            replaces: last_deleted,
                        }),
                    }
                }
            }
        }
    }
    // LINES is in line order (a test checks), so a lookup is a binary search.
    let tag_of =
        |no: usize| LINES.binary_search_by_key(&no, |(n, _, _)| *n).ok().and_then(|i| LINES.get(i)).map(|(_, _, t)| *t);
    let mut env = Env::default();
    env.inline_runtime = true;
    for (k, v) in caller_env {
        env.set(k, v.clone(), true);
    }
    for (k, v) in [
        ("INTERNAL_IP", "<node-ip-from-imds>"),
        ("PAUSE_CONTAINER", "<pause-image-in-regional-ecr>"),
        ("DEFAULT_CONTAINER_RUNTIME", "containerd"),
        ("MAX_PODS", "<eni-max-pods>"),
        ("KUBELET_CONFIG", "/etc/kubernetes/kubelet/kubelet-config.json"),
    ] {
        env.set(k, Value::Static(v.into()), false);
    }
    // Lines a patch rewrote in place.
    for item in &items {
        if let Item::New { text, replaces: Some(no), .. } = item {
            out.changed.push((*no, text.trim_end().to_string()));
        }
    }
    let mut parsed = false;
    let mut started = false;
    let mut in_loop: Vec<String> = Vec::new();
    for item in &items {
        match item {
            Item::New { text, after, replaces } => {
                let phase = if started {
                    Phase::AfterStart
                } else if parsed {
                    Phase::AfterParsing
                } else {
                    Phase::BeforeParsing
                };
                match replaces.and_then(tag_of) {
                    // A changed option line runs when its flag is parsed (`apply_flags`).
                    Some(Tag::Option(_)) => continue,
                    Some(Tag::Assign) if !started => {
                        run(text, &mut env, sourced);
                        continue;
                    }
                    _ => {}
                }
                out.injections.push(Injection { after: *after, text: text.clone(), phase });
                if started {
                    continue;
                }
                // Code inside the option loop runs as options are parsed.
                if (57..185).contains(after) && !parsed {
                    in_loop.push(text.clone());
                } else {
                    run(text, &mut env, sourced);
                }
            }
            Item::Orig(no) => match tag_of(*no) {
                Some(Tag::ClusterName) => {
                    apply_flags(call, &mut env, &out.changed);
                    for t in in_loop.drain(..) {
                        run(&t, &mut env, sourced);
                    }
                    parsed = true;
                }
                Some(Tag::Assign) if !started => {
                    if let Some(script) = parsed_line(*no) {
                        run_script(&script.commands, &script.prepared, &mut env, sourced, 0);
                    }
                }
                Some(Tag::MaxPods) => out.use_max_pods = env.get("USE_MAX_PODS").map(|v| v.value.clone()),
                Some(Tag::ArgsDropIn) => out.writes_args_drop_in = true,
                Some(Tag::ExtraArgsDropIn) => {
                    out.writes_extra_args_drop_in =
                        env.get("KUBELET_EXTRA_ARGS").is_some_and(|v| !v.value.text().is_empty())
                }
                Some(Tag::Start) => {
                    out.starts_kubelet = true;
                    started = true;
                }
                _ => {}
            },
        }
    }
    if !parsed {
        apply_flags(call, &mut env, &out.changed);
    }
    out.env = env;
    out
}

/// Applies the call's options through their (possibly changed) assignment lines.
fn apply_flags(call: &Call, env: &mut Env, changed: &[(usize, String)]) {
    for (flag, arg) in &call.options {
        if arg.from_env.is_some() {
            continue;
        }
        let line = LINES.iter().find(|(_, _, t)| *t == Tag::Option(*flag)).map(|(n, _, _)| *n);
        match line.and_then(|n| changed.iter().find(|(c, _)| *c == n)) {
            Some((_, text)) => {
                // The patched assignment, with `$2` standing for the flag's value.
                env.set("EKSUD_OPTARG", arg.value.clone(), false);
                let text = text
                    .replace("\"$2\"", "\"$EKSUD_OPTARG\"")
                    .replace("${2}", "${EKSUD_OPTARG}")
                    .replace("$2", "\"$EKSUD_OPTARG\"");
                run(&text, env, &|_| None);
            }
            None => env.set(flag.env_var(), arg.value.clone(), false),
        }
    }
}

/// Runs assignments, exports and `source` in a chunk of shell; other commands are ignored.
fn run(text: &str, env: &mut Env, sourced: &dyn Fn(&str) -> Option<String>) {
    let Ok(script) = shell::parse(text, Syntax::None) else { return };
    run_script(&script.commands, &script.prepared, env, sourced, 0);
}

fn run_script(
    commands: &[shell::Command],
    prepared: &Prepared,
    env: &mut Env,
    sourced: &dyn Fn(&str) -> Option<String>,
    depth: u8,
) {
    for c in commands {
        if c.words.is_empty() {
            for (name, w) in &c.assignments {
                let v = words::expand(&w.parsed, env, prepared);
                let v = if c.appends.contains(name) { concat(env.get(name).map(|x| x.value.clone()), v) } else { v };
                if c.branch.is_empty() {
                    env.set(name, v, false);
                } else {
                    env.set_dynamic(name, format!("`{name}` is set inside `{}` in bootstrap.sh", c.branch.join(" › ")));
                }
            }
            continue;
        }
        match c.name() {
            Some("export") => {
                for w in c.words.iter().skip(1) {
                    match w.parsed.split_once('=') {
                        Some((n, v)) => {
                            let v = words::expand(v, env, prepared);
                            env.set(n, v, true);
                        }
                        None => env.export(&w.parsed),
                    }
                }
            }
            Some("source" | ".") if depth < 4 => {
                let Some(path) = c.words.get(1).map(|w| words::expand(&w.parsed, env, prepared).text().to_string())
                else {
                    continue;
                };
                if let Some(content) = sourced(&path)
                    && let Ok(s) = shell::parse(&content, Syntax::None)
                {
                    run_script(&s.commands, &s.prepared, env, sourced, depth + 1);
                }
            }
            _ => {}
        }
    }
}

fn concat(old: Option<Value>, add: Value) -> Value {
    let Some(old) = old else { return add };
    let text = format!("{}{}", old.text(), add.text());
    match (old, add) {
        (Value::Runtime { why, .. }, _) | (_, Value::Runtime { why, .. }) => Value::Runtime { text, why },
        (Value::Template(_), _) | (_, Value::Template(_)) => Value::Template(text),
        _ => Value::Static(text),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::al2::bootstrap::{Input, parse_args};
    use crate::al2::sed;

    #[test]
    fn lines_are_in_line_order_for_the_binary_search() {
        assert!(LINES.windows(2).all(|w| w[0].0 < w[1].0));
    }

    fn call(words: &[&str]) -> Call {
        let args: Vec<Input> = words.iter().map(|w| Input::new(Value::Static(w.to_string()), (0, 0))).collect();
        parse_args(&args, &[])
    }

    fn patched(program: &str) -> String {
        sed::parse(program, false).unwrap().apply(&skeleton())
    }

    fn var(o: &Outcome, name: &str) -> String {
        o.env.get(name).map(|v| v.value.text().to_string()).unwrap_or_default()
    }

    #[test]
    fn the_skeleton_has_the_anchor_lines_at_their_numbers() {
        let s = skeleton();
        let lines: Vec<&str> = s.lines().collect();
        assert_eq!(lines.len(), 637);
        assert_eq!(lines[4], "set -o errexit");
        assert_eq!(lines[219], "KUBELET_EXTRA_ARGS=\"${KUBELET_EXTRA_ARGS:-}\"");
        assert_eq!(lines[634], "systemctl start kubelet");
    }

    #[test]
    fn unpatched_flags_and_defaults() {
        let o = evaluate(&skeleton(), &call(&["c", "--kubelet-extra-args", "--max-pods=20"]), &[], &|_| None);
        assert_eq!(var(&o, "KUBELET_EXTRA_ARGS"), "--max-pods=20");
        assert_eq!(var(&o, "USE_MAX_PODS"), "true");
        assert!(o.writes_extra_args_drop_in && o.starts_kubelet && o.injections.is_empty());
        assert!(var(&o, "KUBELET_ARGS").contains("--cloud-provider=external"));
    }

    #[test]
    fn code_after_the_defaults_overrides_flags() {
        let text = patched("/^KUBELET_EXTRA_ARGS=/a KUBELET_EXTRA_ARGS+=\" --node-labels=team=data\"");
        let o = evaluate(&text, &call(&["c", "--kubelet-extra-args", "--max-pods=20"]), &[], &|_| None);
        assert_eq!(var(&o, "KUBELET_EXTRA_ARGS"), "--max-pods=20 --node-labels=team=data");
        assert_eq!(o.injections[0].phase, Phase::AfterParsing);
        assert_eq!(o.injections[0].after, 220);
    }

    #[test]
    fn code_before_parsing_is_like_the_environment() {
        let text = patched("s/^set -o errexit/set -o errexit\\nsource \\/etc\\/profile.d\\/b.sh/");
        let files = |p: &str| {
            (p == "/etc/profile.d/b.sh")
                .then(|| "export USE_MAX_PODS=false\nexport KUBELET_EXTRA_ARGS=--v=4\n".to_string())
        };
        let o = evaluate(&text, &call(&["c", "--kubelet-extra-args", "--max-pods=20"]), &[], &files);
        assert_eq!(var(&o, "USE_MAX_PODS"), "false", "no flag: the sourced value stands");
        assert_eq!(var(&o, "KUBELET_EXTRA_ARGS"), "--max-pods=20", "the flag wins over the sourced value");
        assert_eq!(o.injections[0].phase, Phase::BeforeParsing);
    }

    #[test]
    fn a_changed_option_line_and_dead_code() {
        let text = patched("s/KUBELET_EXTRA_ARGS=\\$2/KUBELET_EXTRA_ARGS=\"$2 --v=4\"/");
        let o = evaluate(&text, &call(&["c", "--kubelet-extra-args", "--max-pods=20"]), &[], &|_| None);
        assert_eq!(var(&o, "KUBELET_EXTRA_ARGS"), "--max-pods=20 --v=4");
        let text = patched("$a KUBELET_EXTRA_ARGS=ignored");
        let o = evaluate(&text, &call(&["c"]), &[], &|_| None);
        assert_eq!(o.injections[0].phase, Phase::AfterStart);
        assert!(!o.writes_extra_args_drop_in);
        let text = patched("/maxPods/d");
        let o = evaluate(&text, &call(&["c"]), &[], &|_| None);
        assert_eq!(o.use_max_pods, None);
        assert_eq!(o.removed, [531]);
    }
}
