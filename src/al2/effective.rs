//! The AL2 node's effective configuration from its final files (al2-node §3, §4): the kubelet
//! unit and its drop-ins in file-name order give the environment and command line (systemd 219
//! rules, `systemd.rs`); `EnvironmentFile=` values beat `Environment=`; two `ExecStart=` lines
//! on the kubelet make systemd refuse the unit; the command line is folded into
//! kubelet-config.json as the kubelet does; containerd's config merges `config.d` imports with
//! containerd 1.7's rule (a plugin table there replaces the main config's).

use super::fs::{self, Content, Fs};
use super::node::Node;
use super::systemd;
use crate::effective::{self, Node as Effective};
use std::collections::BTreeMap;

/// `KEY=VALUE` lines as systemd's `EnvironmentFile=` reads them.
pub fn env_file(text: &str) -> Vec<(String, String)> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#') && !l.starts_with(';'))
        .filter_map(|l| {
            let l = l.strip_prefix("export ").unwrap_or(l);
            let (k, v) = l.split_once('=')?;
            Some((k.trim().to_string(), v.trim().trim_matches(['"', '\'']).to_string()))
        })
        .collect()
}

/// The environment and command line of a service whose unit and drop-ins live at `unit`,
/// `dropins`. A pure function of those files and the environment files they name, and nearly
/// always the AMI's own, so both readings are memoised (`crate::memo`).
fn service(fs: &Fs, unit: &str, dropins: &str) -> (systemd::Service, Vec<String>) {
    thread_local! {
        static PARSED: crate::memo::Slot<Files, systemd::Service> = Default::default();
        static EXPANDED: crate::memo::Slot<(Files, EnvTexts), (systemd::Service, Vec<String>)> = Default::default();
    }
    let mut files: Files = Vec::new();
    if let Some(t) = fs.content(unit).and_then(Content::known) {
        files.push((unit.to_string(), t.to_string()));
    }
    for (path, f) in fs.dir(dropins) {
        if path.ends_with(".conf")
            && let Some(t) = f.content.known()
        {
            files.push((path.to_string(), t.to_string()));
        }
    }
    let parsed = crate::memo::get_or(&PARSED, files.clone(), |files| {
        systemd::service(files.iter().map(|(p, t)| (p.as_str(), t.as_str())))
    });
    let env_texts: EnvTexts = parsed
        .environment_files
        .iter()
        .map(|file| fs.content(file.trim_start_matches('-')).and_then(Content::known).map(str::to_string))
        .collect();
    crate::memo::get_or(&EXPANDED, (files, env_texts), |(_, env_texts)| {
        let mut s = parsed.clone();
        for t in env_texts.iter().flatten() {
            s.environment.extend(env_file(t));
        }
        let argv = s.exec_start.last().map(|l| systemd::expand_command(l, &s.environment)).unwrap_or_default();
        (s, argv)
    })
}

/// Files by path with their text, in reading order.
type Files = Vec<(String, String)>;
/// The text of each `EnvironmentFile=`, when the node has it.
type EnvTexts = Vec<Option<String>>;

/// containerd's effective settings, memoised on the main config and the import directory (nearly
/// always the AMI's own files).
fn containerd(fs: &Fs) -> BTreeMap<String, String> {
    thread_local! {
        static MEMO: crate::memo::Slot<(Option<String>, Files), BTreeMap<String, String>> = Default::default();
    }
    let main = fs.content(fs::CONTAINERD_CONFIG).and_then(Content::known).map(str::to_string);
    let imports: Files = fs
        .dir(fs::CONTAINERD_IMPORTS)
        .into_iter()
        .filter_map(|(path, f)| f.content.known().map(|t| (path.to_string(), t.to_string())))
        .collect();
    crate::memo::get_or(&MEMO, (main, imports), |(main, imports)| containerd_of(main.as_deref(), imports))
}

fn containerd_of(main_text: Option<&str>, import_files: &Files) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let Some(text) = main_text else {
        out.insert("(config)".into(), "(unknown)".into());
        return out;
    };
    let Ok(mut main) = text.parse::<toml::Table>() else {
        out.insert("(config)".into(), "(not valid TOML: containerd does not start)".into());
        return out;
    };
    let imports = main
        .get("imports")
        .and_then(toml::Value::as_array)
        .is_some_and(|a| a.iter().any(|v| v.as_str().is_some_and(|s| s.starts_with(fs::CONTAINERD_IMPORTS))));
    if imports {
        for (path, t) in import_files {
            if !path.ends_with(".toml") {
                continue;
            }
            let Ok(imp) = t.parse::<toml::Table>() else { continue };
            for (k, v) in imp {
                match (k.as_str(), v) {
                    ("plugins", toml::Value::Table(plugins)) => {
                        let slot = main.entry("plugins").or_insert_with(|| toml::Value::Table(toml::Table::new()));
                        if let toml::Value::Table(p) = slot {
                            for (name, table) in plugins {
                                p.insert(name, table);
                            }
                        }
                    }
                    (_, v) => {
                        main.insert(k, v);
                    }
                }
            }
        }
    }
    effective::flatten_toml(&toml::Value::Table(main), "", &mut out);
    out
}

/// Flags the AMI's kubelet unit passes itself (al2-node §3.1), each with its value.
const UNIT_FLAGS: &[&str] = &[
    "--config",
    "--kubeconfig",
    "--container-runtime-endpoint",
    "--image-credential-provider-config",
    "--image-credential-provider-bin-dir",
];

/// The kubelet arguments user data gave, on the command line the node really ran.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserArgs {
    pub args: Vec<String>,
    /// The drop-in that set `KUBELET_EXTRA_ARGS` last (bootstrap.sh's own `30-…` included).
    pub extra_args_from: Option<String>,
    /// A drop-in other than bootstrap.sh's that replaced `KUBELET_ARGS`.
    pub kubelet_args_from: Option<String>,
    /// `Environment=` lines systemd ignored, with why.
    pub ignored: Vec<(String, String)>,
    /// The unit's command line was replaced (`ExecStart=` reset in a drop-in).
    pub exec_start_replaced: bool,
}

/// What user data added to the kubelet's command line: everything but the unit's fixed flags
/// and bootstrap.sh's `KUBELET_ARGS`.
pub fn user_kubelet_args(node: &Node) -> UserArgs {
    let fs = &node.fs;
    let (mut svc, _) = service(fs, fs::KUBELET_UNIT, fs::KUBELET_DROP_INS);
    let mut out = UserArgs { ignored: svc.ignored.clone(), ..Default::default() };
    for (path, f) in fs.dir(fs::KUBELET_DROP_INS) {
        let Some(t) = f.content.known() else { continue };
        for e in systemd::parse(t).into_iter().filter(|e| e.section == "Service" && e.key == "Environment") {
            if let Ok(pairs) = systemd::environment(&e.value) {
                for (k, _) in pairs {
                    if k == "KUBELET_EXTRA_ARGS" {
                        out.extra_args_from = Some(path.to_string());
                    }
                    if k == "KUBELET_ARGS" && !path.ends_with("/10-kubelet-args.conf") {
                        out.kubelet_args_from = Some(path.to_string());
                    }
                }
            }
        }
        if systemd::parse(t).iter().any(|e| e.section == "Service" && e.key == "ExecStart" && e.value.is_empty()) {
            out.exec_start_replaced = true;
        }
    }
    svc.environment.remove("KUBELET_ARGS");
    let argv = svc.exec_start.last().map(|l| systemd::expand_command(l, &svc.environment)).unwrap_or_default();
    let mut i = 1;
    while let Some(a) = argv.get(i) {
        if UNIT_FLAGS.contains(&a.as_str()) {
            i += 2;
            continue;
        }
        if UNIT_FLAGS.iter().any(|f| a.strip_prefix(f).is_some_and(|rest| rest.starts_with('='))) {
            i += 1;
            continue;
        }
        out.args.push(a.clone());
        i += 1;
    }
    out
}

/// A value EKS puts in the bootstrap.sh call it appends to a managed node group's user data.
pub const EKS_VALUE: &str = "<set-by-eks>";

/// The AL2 node's effective configuration.
pub fn of(node: &Node) -> Effective {
    let fs = &node.fs;
    let mut e = Effective::default();
    let (svc, argv) = service(fs, fs::KUBELET_UNIT, fs::KUBELET_DROP_INS);
    let config = match fs.content(fs::KCJ) {
        Some(Content::Known(t)) => {
            let c = crate::memo::json(t).unwrap_or(serde_json::Value::Null);
            if c.is_null() {
                e.fails = Some("kubelet-config.json is not valid JSON, so the kubelet does not start".into());
            }
            c
        }
        _ => {
            e.unknown.push("kubelet configuration".into());
            serde_json::Value::Null
        }
    };
    if svc.exec_start.len() > 1 {
        e.fails = Some("the kubelet unit has two ExecStart= lines, so systemd refuses it".into());
    }
    match &node.run {
        None => e.fails = e.fails.take().or(Some("no bootstrap.sh call ran".into())),
        Some(r) if r.broken_kubelet_config => {
            e.fails = Some("bootstrap.sh wrote an empty kubelet-config.json (its jq read invalid JSON)".into())
        }
        Some(_) if node.kubelet_started.is_none() => e.fails = Some("the kubelet was never started".into()),
        _ => {}
    }
    effective::kubelet(config, argv.get(1..).unwrap_or_default(), &mut e);
    // EKS's appended call (a managed node group) passes values only EKS knows.
    e.labels.remove(EKS_VALUE);
    if let Some(i) = e.args.iter().position(|a| a == &format!("--max-pods={EKS_VALUE}")) {
        e.args.remove(i);
        e.kubelet.insert("maxPods".into(), serde_json::Value::String(EKS_VALUE.into()));
    }
    // The kubelet validates --node-labels before anything else and exits on a key in the
    // kubernetes.io / k8s.io namespaces outside its allowed set (kubelet `ValidateKubeletFlags`).
    let refused: Vec<&str> =
        e.labels.keys().filter(|k| !crate::nodeconfig::labels::kubelet_may_set(k)).map(String::as_str).collect();
    if !refused.is_empty() && e.fails.is_none() {
        e.fails = Some(format!(
            "the kubelet refused to start: --node-labels sets {} in the kubernetes.io/k8s.io namespaces, which it may not set itself",
            refused.join(", ")
        ));
    }
    let mut kenv: BTreeMap<String, String> = svc.environment.clone();
    kenv.remove("KUBELET_ARGS");
    kenv.remove("KUBELET_EXTRA_ARGS");
    if !kenv.is_empty() {
        e.environment.insert("kubelet".into(), kenv);
    }
    let (csvc, _) = service(fs, "/etc/systemd/system/containerd.service", fs::CONTAINERD_DROP_INS);
    if !csvc.environment.is_empty() {
        e.environment.insert("containerd".into(), csvc.environment);
    }
    e.containerd = containerd(fs);
    if e.containerd.contains_key("(config)") {
        e.unknown.push("containerd configuration".into());
    }
    e
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::al2::bootstrap_effects::Facts;
    use crate::al2::{analysis, node, shell, template::Syntax};

    fn eff(text: &str) -> Effective {
        let a = analysis::analyze(shell::parse(text, Syntax::None).unwrap());
        of(&node::replay(
            &[(0, &a)],
            &Facts { instance_type: Some("m5.large".into()), service_cidr: Some("172.20.0.0/16".into()) },
        ))
    }

    #[test]
    fn flags_and_drop_ins_reach_the_kubelet() {
        let e = eff("/etc/eks/bootstrap.sh c --kubelet-extra-args '--max-pods=50 --node-labels=team=data'\n");
        assert_eq!(e.kubelet["maxPods"], 50);
        assert_eq!(e.kubelet["clusterDNS"], serde_json::json!(["172.20.0.10"]));
        assert_eq!(e.labels["team"], "data");
        assert!(e.fails.is_none(), "{:?}", e.fails);
        assert!(e.args.iter().any(|a| a.starts_with("--node-ip")));
        let e = eff(
            "/etc/eks/bootstrap.sh c --kubelet-extra-args '--max-pods=50'\ncat <<'EOF' > /etc/systemd/system/kubelet.service.d/90-x.conf\n[Service]\nEnvironment=\"KUBELET_EXTRA_ARGS=--container-log-max-files=2\"\nEOF\n",
        );
        assert_eq!(e.kubelet["maxPods"], 29, "the 90 drop-in replaced the extra args");
        assert_eq!(e.kubelet["containerLogMaxFiles"], 2);
    }

    #[test]
    fn user_args_are_what_the_drop_ins_left() {
        let n = |t: &str| {
            let a = analysis::analyze(shell::parse(t, Syntax::None).unwrap());
            user_kubelet_args(&node::replay(&[(0, &a)], &Facts::default()))
        };
        let u = n("/etc/eks/bootstrap.sh c --kubelet-extra-args '--max-pods=50 --node-labels=\"a=b\"'\n");
        assert_eq!(u.args, ["--max-pods=50", "--node-labels=a=b"]);
        assert!(u.extra_args_from.unwrap().ends_with("/30-kubelet-extra-args.conf"));
        let u = n("/etc/eks/bootstrap.sh c --kubelet-extra-args \"--register-with-taints='k=v:NoSchedule'\"\n");
        assert!(u.args.is_empty(), "systemd dropped the whole assignment");
        assert_eq!(u.ignored.len(), 1);
        let u = n(
            "mkdir -p /etc/systemd/system/kubelet.service.d\necho -e '[Service]\\nEnvironment=\"KUBELET_EXTRA_ARGS=--v=4\"' > /etc/systemd/system/kubelet.service.d/20-x.conf\n/etc/eks/bootstrap.sh c\n",
        );
        assert_eq!(u.args, ["--v=4"], "no extra args, so no 30-… to shadow it");
    }

    #[test]
    fn containerd_imports_replace_plugin_tables() {
        let e = eff(
            "mkdir -p /etc/containerd/config.d\ncat > /etc/containerd/config.d/spegel.toml <<EOL\n[plugins.\"io.containerd.grpc.v1.cri\".containerd]\ndiscard_unpacked_layers = false\nEOL\n/etc/eks/bootstrap.sh c\n",
        );
        assert_eq!(e.containerd["plugins[\"io.containerd.grpc.v1.cri\"].containerd.discard_unpacked_layers"], "false");
        assert!(
            !e.containerd.contains_key("plugins[\"io.containerd.grpc.v1.cri\"].sandbox_image"),
            "the cri table was replaced"
        );
    }
}
