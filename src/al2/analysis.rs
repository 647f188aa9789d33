//! What an AL2 script *means* for the node (docs/architecture.md `al2::Analysis`): every
//! `bootstrap.sh` invocation with its arguments expanded and the environment it sees, the
//! variables known at that point, files the script writes (a containerd config in a heredoc),
//! edits to bootstrap.sh itself, and the commands that ran after it (on AL2 after kubelet
//! started; on AL2023 every user script runs before, docs §3).

use super::bootstrap::{self, Call};
use super::fileops::{self, FileOp};
use super::shell::{Command, Redirect, Script};
use super::words::{self, Env, Value};

/// Words that may precede the real command word.
const WRAPPERS: &[&str] = &["sudo", "exec", "bash", "sh", "env", "nohup", "time", "command", "source", "."];

#[derive(Debug, Clone)]
pub struct Invocation {
    pub call: Call,
    /// Index into `Script::commands`.
    pub command: usize,
    /// Byte span of the whole simple command.
    pub span: (usize, usize),
    pub branch: Vec<String>,
    pub conditional: bool,
    pub function: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileWrite {
    pub path: String,
    pub content: Value,
    pub command: usize,
    pub span: (usize, usize),
}

/// A disk command the script runs (expanded arguments).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DiskOp {
    /// `mkfs[.type] [-t type] … DEVICE`
    Mkfs { command: usize, device: String, fstype: Option<String> },
    /// `mount [-o …] [-t …] DEVICE TARGET`
    Mount { command: usize, device: String, target: String },
    /// `echo "… DEVICE TARGET …" >> /etc/fstab`
    Fstab { command: usize, line: String },
    /// `rm -rf` of a directory kubelet or containerd keep their state in.
    Wipe { command: usize, path: String },
    /// The AMI's own `setup-local-disks MODE [--dir D] [--no-bind-…]` (AL2 ≥ v20230501).
    SetupLocalDisks { command: usize, mode: String, dir: Option<String>, options: Vec<String> },
    /// `mdadm --create DEV --level=N …`
    Raid { command: usize, device: String, level: String },
    /// `cp`/`rsync` from a directory (its first source, expanded).
    Copy { command: usize, from: String },
}

impl DiskOp {
    /// The index of the command that does it.
    pub fn command(&self) -> usize {
        match self {
            DiskOp::Mkfs { command, .. }
            | DiskOp::Mount { command, .. }
            | DiskOp::Fstab { command, .. }
            | DiskOp::Wipe { command, .. }
            | DiskOp::SetupLocalDisks { command, .. }
            | DiskOp::Raid { command, .. }
            | DiskOp::Copy { command, .. } => *command,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Analysis {
    pub script: Script,
    pub invocations: Vec<Invocation>,
    pub files: Vec<FileWrite>,
    /// Commands that modify `/etc/eks/bootstrap.sh` (`sed -i`, `echo >>`).
    pub patches: Vec<usize>,
    /// Indices of commands that follow the first unconditional top-level invocation (one in a
    /// template `%{ if }` counts: the rendered script runs it).
    pub after_bootstrap: Vec<usize>,
    /// Writes of bootstrap.sh's environment variables into login-shell or system env files
    /// (`/etc/profile.d/*`, `/etc/environment`) that are never sourced: (command, path, vars).
    pub env_files: Vec<(usize, String, Vec<String>)>,
    pub disk_ops: Vec<DiskOp>,
    /// What each command does to files, in script order (`fileops.rs`).
    pub file_ops: Vec<FileOp>,
    /// `systemctl` actions on units (command, verb, unit), for when edits take effect.
    pub units: Vec<(usize, String, String)>,
    /// `[ … ]` / `test …` commands with their expanded words, for conditions on files.
    pub tests: Vec<(usize, Vec<String>)>,
}

/// Directories whose contents the node needs at boot (docs §4.3).
pub const STATE_DIRS: &[&str] = &["/var/lib/containerd", "/var/lib/kubelet", "/var/lib/docker", "/var/log/pods"];

fn disk_op(idx: usize, cmd: &Command, args: &[String]) -> Option<DiskOp> {
    let name = args.first()?.rsplit('/').next()?.to_string();
    let plain: Vec<&String> = args.iter().skip(1).filter(|a| !a.starts_with('-')).collect();
    if name.starts_with("mkfs") {
        let mut fstype = name.strip_prefix("mkfs.").map(str::to_string);
        if let Some(i) = args.iter().position(|a| a == "-t") {
            fstype = args.get(i + 1).cloned();
        }
        let device = args.iter().skip(1).rev().find(|a| a.starts_with("/dev/") || a.starts_with('$'))?.clone();
        return Some(DiskOp::Mkfs { command: idx, device, fstype });
    }
    if name == "mount" {
        // Skip option values (`-o x`, `-t xfs`).
        let mut words = Vec::new();
        let mut i = 1;
        while let Some(a) = args.get(i) {
            if a == "-o" || a == "-t" || a == "-L" || a == "-U" {
                i += 2;
                continue;
            }
            if !a.starts_with('-') {
                words.push(a.clone());
            }
            i += 1;
        }
        if let [device, target] = words.as_slice() {
            return Some(DiskOp::Mount {
                command: idx,
                device: device.clone(),
                target: target.trim_end_matches('/').to_string(),
            });
        }
        return None;
    }
    if name == "setup-local-disks" {
        let mode = plain.first().map(|m| m.to_string())?;
        let dir = args.iter().position(|a| a == "--dir" || a == "-d").and_then(|i| args.get(i + 1)).cloned();
        let options = args.iter().skip(1).filter(|a| a.starts_with("--no-bind")).cloned().collect();
        return Some(DiskOp::SetupLocalDisks { command: idx, mode, dir, options });
    }
    if name == "mdadm" && args.iter().any(|a| a == "--create" || a == "-C") {
        let level = args
            .iter()
            .enumerate()
            .find_map(|(i, a)| {
                a.strip_prefix("--level=")
                    .map(str::to_string)
                    .or_else(|| (a == "--level" || a == "-l").then(|| args.get(i + 1).cloned()).flatten())
            })
            .unwrap_or_default();
        let device = args.iter().skip(1).find(|a| a.starts_with("/dev/md"))?.clone();
        return Some(DiskOp::Raid { command: idx, device, level: level.trim_start_matches("raid").to_string() });
    }
    if name == "cp" || name == "rsync" {
        return plain.first().map(|from| DiskOp::Copy { command: idx, from: (*from).clone() });
    }
    if name == "rm" && args.iter().any(|a| a.starts_with('-') && a.contains('r')) {
        let path = plain
            .iter()
            .find(|p| STATE_DIRS.iter().any(|d| p.trim_end_matches(['/', '*']).trim_end_matches('/') == *d))?;
        return Some(DiskOp::Wipe { command: idx, path: (*path).clone() });
    }
    let _ = cmd;
    None
}

/// The command word index after wrappers (`sudo -E`, `env A=b`, `bash -c`…), if any.
fn command_word(cmd: &Command) -> Option<(usize, bool)> {
    let mut sudo_keeps_env = true;
    let mut i = 0;
    while let Some(word) = cmd.words.get(i) {
        let w = word.parsed.trim_matches(|c| c == '"' || c == '\'');
        if WRAPPERS.contains(&w) {
            if w == "sudo" {
                sudo_keeps_env = false;
            }
            i += 1;
            continue;
        }
        // `cloud-init-per FREQUENCY NAME CMD…` runs CMD (once per instance, boot or ever).
        if w == "cloud-init-per" {
            i += 3;
            continue;
        }
        if w.starts_with('-') && i > 0 {
            if w == "-E" || w.starts_with("--preserve-env") {
                sudo_keeps_env = true;
            }
            i += 1;
            continue;
        }
        if i > 0
            && w.contains('=')
            && w.split('=')
                .next()
                .is_some_and(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
        {
            i += 1;
            continue;
        }
        return Some((i, sudo_keeps_env));
    }
    None
}

/// Why a variable's value is not static: where it is set.
fn set_inside(name: &str, cmd: &Command) -> String {
    format!("`{name}` is set inside `{}`", cmd.branch.last().map_or("a conditional command", |b| b.as_str()))
}

pub fn is_bootstrap_word(w: &str) -> bool {
    let w = w.trim_matches(|c| c == '"' || c == '\'');
    w.rsplit('/').next() == Some("bootstrap.sh")
}

fn touches_bootstrap(cmd: &Command) -> bool {
    let writes =
        cmd.redirects.iter().any(|r| matches!(r, Redirect::Write { path, .. } if is_bootstrap_word(&path.parsed)));
    let edits = matches!(cmd.name(), Some("sed") | Some("perl"))
        && cmd.words.iter().any(|w| w.parsed == "-i" || w.parsed.starts_with("-i"))
        && cmd.words.iter().skip(1).any(|w| is_bootstrap_word(&w.parsed));
    writes || edits
}

pub fn analyze(script: Script) -> Analysis {
    let mut env = Env::default();
    let mut invocations = Vec::new();
    let mut files = Vec::new();
    let mut patches = Vec::new();
    let mut first_call: Option<usize> = None;
    let mut sourced_paths: Vec<String> = Vec::new();
    let mut disk_ops: Vec<DiskOp> = Vec::new();
    let mut file_ops: Vec<FileOp> = Vec::new();
    let mut units: Vec<(usize, String, String)> = Vec::new();
    let mut tests: Vec<(usize, Vec<String>)> = Vec::new();
    let mut last_output: Option<fileops::Source> = None;
    for (idx, cmd) in script.commands.iter().enumerate() {
        let expand = |w: &str, env: &Env| words::expand(w, env, &script.prepared);
        // Assignments: static only when the command always runs at the top level.
        if cmd.words.is_empty() {
            for (name, w) in &cmd.assignments {
                if cmd.unconditional() {
                    let v = expand(&w.parsed, &env);
                    env.set(name, v, false);
                } else {
                    env.set_dynamic(name, set_inside(name, cmd));
                }
            }
            continue;
        }
        if matches!(cmd.name(), Some("export") | Some("declare") | Some("typeset") | Some("readonly")) {
            let export = cmd.name() == Some("export") || cmd.words.iter().any(|w| w.parsed == "-x");
            for w in cmd.words.iter().skip(1).filter(|w| !w.parsed.starts_with('-')) {
                match w.parsed.split_once('=') {
                    Some((name, value)) => {
                        if cmd.unconditional() {
                            let v = expand(value, &env);
                            env.set(name, v, export);
                        } else {
                            env.set_dynamic(name, set_inside(name, cmd));
                            if export {
                                env.export(name);
                            }
                        }
                    }
                    None if export => env.export(&w.parsed),
                    None => {}
                }
            }
            continue;
        }
        if touches_bootstrap(cmd) {
            patches.push(idx);
        }
        // Files written from a heredoc (`cat <<EOF > f`, `tee f <<EOF`) or `echo … > f`.
        let heredoc = cmd.redirects.iter().find_map(|r| match r {
            Redirect::HereDoc { body, expands } => Some((body.clone(), *expands)),
            _ => None,
        });
        let target = cmd.redirects.iter().find_map(|r| match r {
            Redirect::Write { path, .. } => Some(path.clone()),
            _ => None,
        });
        let tee_target = (cmd.name() == Some("tee"))
            .then(|| cmd.words.iter().skip(1).find(|w| !w.parsed.starts_with('-')).cloned())
            .flatten();
        if let (Some((body, expands)), Some(path)) = (&heredoc, target.clone().or(tee_target)) {
            let content = if *expands {
                expand(&format!("\"{}\"", body.replace('"', "\\\"")), &env)
            } else {
                Value::Static(body.clone())
            };
            files.push(FileWrite {
                path: expand(&path.parsed, &env).text().to_string(),
                content,
                command: idx,
                span: cmd.span,
            });
        } else if let (Some(path), Some("echo" | "printf")) = (&target, cmd.name())
            && let Some(w) = cmd.words.get(1)
        {
            files.push(FileWrite {
                path: expand(&path.parsed, &env).text().to_string(),
                content: expand(&w.parsed, &env),
                command: idx,
                span: cmd.span,
            });
        }
        // `source FILE` / `. FILE` of a file written earlier: its assignments count.
        if matches!(cmd.name(), Some("source" | "."))
            && cmd.unconditional()
            && let Some(path) = cmd.words.get(1).map(|w| expand(&w.parsed, &env).text().to_string())
            && let Some(content) = files.iter().rev().find(|f| f.path == path).map(|f| f.content.text().to_string())
            && let Ok(sourced) = super::shell::parse(&content, super::template::Syntax::None)
        {
            for c in sourced.commands.iter() {
                for (name, w) in &c.assignments {
                    let v = words::expand(&w.parsed, &env, &sourced.prepared);
                    env.set(name, v, false);
                }
                if c.name() == Some("export") {
                    for w in c.words.iter().skip(1) {
                        if let Some((name, value)) = w.parsed.split_once('=') {
                            let v = words::expand(value, &env, &sourced.prepared);
                            env.set(name, v, true);
                        } else {
                            env.export(&w.parsed);
                        }
                    }
                }
            }
            sourced_paths.push(path);
        }
        // Disk commands, with their arguments expanded.
        // Expanding words costs a parse each, so only for commands that can be disk operations.
        let base = cmd.name().map(|n| n.rsplit('/').next().unwrap_or(n)).unwrap_or_default();
        let fstab_write = matches!(base, "echo" | "printf")
            && cmd
                .redirects
                .iter()
                .any(|r| matches!(r, Redirect::Write { path, append: true } if path.parsed == "/etc/fstab"));
        let disk_like =
            base.starts_with("mkfs") || matches!(base, "mount" | "rm" | "setup-local-disks" | "mdadm" | "cp" | "rsync");
        let expanded: Vec<String> = if disk_like || fstab_write {
            cmd.words.iter().map(|w| expand(&w.parsed, &env).text().to_string()).collect()
        } else {
            Vec::new()
        };
        if disk_like && let Some(op) = disk_op(idx, cmd, &expanded) {
            disk_ops.push(op);
        }
        if fstab_write {
            disk_ops.push(DiskOp::Fstab { command: idx, line: expanded.get(1).cloned().unwrap_or_default() });
        }
        // File operations: only commands that can write files pay for the expansion.
        let piped_input = if cmd.piped { last_output.take() } else { None };
        last_output = None;
        if let Some((word, _)) = command_word(cmd) {
            let name = cmd
                .words
                .get(word)
                .map_or("", |w| w.parsed.as_str())
                .trim_matches(['"', '\''])
                .rsplit('/')
                .next()
                .unwrap_or_default()
                .to_string();
            let writes = cmd.redirects.iter().any(|r| matches!(r, Redirect::Write { .. }));
            let interesting = writes
                || matches!(
                    name.as_str(),
                    "tee"
                        | "cp"
                        | "install"
                        | "mv"
                        | "rm"
                        | "touch"
                        | "sed"
                        | "curl"
                        | "wget"
                        | "aws"
                        | "echo"
                        | "printf"
                        | "cat"
                        | "jq"
                        | "systemctl"
                        | "["
                        | "test"
                );
            if interesting {
                // What the command writes is what bash wrote: a variable the script never set is
                // empty in cloud-init's environment.
                let mut file_env = env.clone();
                file_env.unset_empty = true;
                let argv: Vec<super::words::Value> = cmd
                    .words
                    .iter()
                    .skip(word)
                    .flat_map(|w| {
                        words::expand_fields(&w.parsed, &file_env, &script.prepared).into_iter().map(|f| f.value)
                    })
                    .collect();
                let heredoc = cmd.redirects.iter().find_map(|r| match r {
                    Redirect::HereDoc { body, expands } => Some(if *expands {
                        expand(&format!("\"{}\"", body.replace('"', "\\\"")), &file_env)
                    } else {
                        super::words::Value::Static(body.clone())
                    }),
                    _ => None,
                });
                if name == "[" || name == "test" {
                    tests.push((idx, argv.iter().skip(1).map(|v| v.text().to_string()).collect()));
                }
                if name == "systemctl" {
                    let verb = argv.iter().skip(1).find(|a| !a.text().starts_with('-')).map(|v| v.text().to_string());
                    if let Some(verb) = verb {
                        for unit in argv.iter().skip(2).filter(|a| !a.text().starts_with('-')) {
                            units.push((idx, verb.clone(), unit.text().trim_end_matches(".service").to_string()));
                        }
                        if verb == "daemon-reload" {
                            units.push((idx, verb, String::new()));
                        }
                    }
                }
                file_ops.extend(fileops::ops(
                    idx,
                    cmd,
                    &argv,
                    heredoc.as_ref(),
                    piped_input,
                    &file_env,
                    &script.prepared,
                ));
                last_output = fileops::output_of(cmd, &argv, heredoc.as_ref(), &file_env);
            }
        }
        let Some((word, keeps_env)) = command_word(cmd) else { continue };
        if !cmd.words.get(word).is_some_and(|w| is_bootstrap_word(&w.parsed)) {
            continue;
        }
        let args: Vec<bootstrap::Input> = cmd
            .words
            .iter()
            .skip(word + 1)
            .flat_map(|w| {
                words::expand_fields(&w.parsed, &env, &script.prepared).into_iter().map(|f| bootstrap::Input {
                    value: f.value,
                    span: w.span,
                    split: f.split,
                })
            })
            .collect();
        let mut call_env: Vec<(String, Value, (usize, usize))> = if keeps_env {
            env.exported().map(|(k, v)| (k.to_string(), v.clone(), cmd.span)).collect()
        } else {
            Vec::new()
        };
        call_env.sort_by(|a, b| a.0.cmp(&b.0));
        for (name, w) in &cmd.assignments {
            call_env.push((name.clone(), expand(&w.parsed, &env), w.span));
        }
        // `env A=b bootstrap.sh`, `sudo A=b bootstrap.sh`
        for w in cmd.words.iter().take(word) {
            if let Some((name, value)) = w.parsed.split_once('=') {
                call_env.push((name.to_string(), expand(value, &env), w.span));
            }
        }
        let call = bootstrap::parse_args(&args, &call_env);
        if first_call.is_none() && cmd.runs_when_rendered() {
            first_call = Some(idx);
        }
        invocations.push(Invocation {
            call,
            command: idx,
            span: cmd.span,
            branch: cmd.branch.clone(),
            conditional: cmd.conditional,
            function: cmd.function.clone(),
        });
    }
    let after_bootstrap = match first_call {
        Some(first) => (first + 1..script.commands.len())
            .filter(|i| !invocations.iter().any(|inv| inv.command == *i))
            .filter(|i| !matches!(script.commands.get(*i).and_then(|c| c.name()), Some("exit")))
            .collect(),
        None => Vec::new(),
    };
    let env_files = files
        .iter()
        .filter(|f| {
            f.path.starts_with("/etc/profile.d/")
                || f.path == "/etc/environment"
                || f.path.ends_with("/.bashrc")
                || f.path.ends_with("/.bash_profile")
        })
        .filter(|f| !sourced_paths.contains(&f.path))
        .filter_map(|f| {
            let vars: Vec<String> = super::bootstrap::Flag::ALL
                .iter()
                .map(|fl| fl.env_var())
                .filter(|v| f.content.text().contains(v))
                .map(str::to_string)
                .collect();
            (!vars.is_empty()).then(|| (f.command, f.path.clone(), vars))
        })
        .collect();
    Analysis { script, invocations, files, patches, after_bootstrap, env_files, disk_ops, file_ops, units, tests }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::al2::bootstrap::Flag;
    use crate::al2::shell;
    use crate::al2::template::Syntax;

    fn run(text: &str) -> Analysis {
        analyze(shell::parse(text, Syntax::None).unwrap())
    }

    #[test]
    fn resolves_static_variables_and_exports() {
        let a = run(
            "#!/bin/bash\nCA=Y2E=\nexport KUBELET_EXTRA_ARGS='--max-pods=20'\nEP=\"https://$HOSTX\"\n/etc/eks/bootstrap.sh prod --b64-cluster-ca \"$CA\" --apiserver-endpoint $EP\necho done\n",
        );
        assert_eq!(a.invocations.len(), 1);
        let c = &a.invocations[0].call;
        assert_eq!(c.cluster_name.as_ref().unwrap().value, Value::Static("prod".into()));
        assert_eq!(c.get(Flag::B64ClusterCa).unwrap().value, Value::Static("Y2E=".into()));
        assert!(c.get(Flag::ApiserverEndpoint).unwrap().value.is_runtime(), "$HOSTX is unknown");
        assert_eq!(c.get(Flag::KubeletExtraArgs).unwrap().from_env.as_deref(), Some("KUBELET_EXTRA_ARGS"));
        assert_eq!(a.after_bootstrap, [4]);
    }

    #[test]
    fn sudo_without_e_drops_the_environment() {
        let a = run(
            "export USE_MAX_PODS=false\nsudo /etc/eks/bootstrap.sh c\nsudo -E /etc/eks/bootstrap.sh c\nUSE_MAX_PODS=false /etc/eks/bootstrap.sh c\n",
        );
        assert!(a.invocations[0].call.get(Flag::UseMaxPods).is_none());
        assert!(a.invocations[1].call.get(Flag::UseMaxPods).is_some());
        assert!(a.invocations[2].call.get(Flag::UseMaxPods).is_some());
    }

    #[test]
    fn sourced_env_files_count_and_unsourced_ones_are_listed() {
        let a = run(
            "cat <<'EOF' > /etc/profile.d/eks.sh\nexport KUBELET_EXTRA_ARGS=--max-pods=20\nEOF\nsource /etc/profile.d/eks.sh\n/etc/eks/bootstrap.sh c\n",
        );
        assert_eq!(
            a.invocations[0].call.get(Flag::KubeletExtraArgs).unwrap().value,
            Value::Static("--max-pods=20".into())
        );
        assert!(a.env_files.is_empty());
        let a = run("echo 'export USE_MAX_PODS=false' >> /etc/profile.d/eks.sh\n/etc/eks/bootstrap.sh c\n");
        assert!(a.invocations[0].call.get(Flag::UseMaxPods).is_none(), "bootstrap.sh never read a profile script");
        assert_eq!(a.env_files, [(0, "/etc/profile.d/eks.sh".to_string(), vec!["USE_MAX_PODS".to_string()])]);
    }

    #[test]
    fn finds_disk_commands_with_expanded_arguments() {
        let a = run(
            "DEV=/dev/xvdb\nmkfs -t xfs $DEV\nmkdir -p /var/lib/containerd\nmount -o noatime $DEV /var/lib/containerd/\necho \"$DEV /var/lib/containerd xfs defaults 0 0\" >> /etc/fstab\nrm -rf /var/lib/kubelet/*\n",
        );
        assert_eq!(
            a.disk_ops,
            [
                DiskOp::Mkfs { command: 1, device: "/dev/xvdb".into(), fstype: Some("xfs".into()) },
                DiskOp::Mount { command: 3, device: "/dev/xvdb".into(), target: "/var/lib/containerd".into() },
                DiskOp::Fstab { command: 4, line: "/dev/xvdb /var/lib/containerd xfs defaults 0 0".into() },
                DiskOp::Wipe { command: 5, path: "/var/lib/kubelet/*".into() },
            ]
        );
    }

    #[test]
    fn branches_files_and_patches() {
        let a = run(
            "if [ \"$SPOT\" = 1 ]; then L=spot; else L=ondemand; fi\ncat <<'EOF' > /etc/eks/containerd/containerd-config.toml\nversion = 2\nEOF\nsed -i 's/x/y/' /etc/eks/bootstrap.sh\n/etc/eks/bootstrap.sh c --kubelet-extra-args \"--node-labels=l=$L\" --containerd-config-file /etc/eks/containerd/containerd-config.toml\n",
        );
        let c = &a.invocations[0].call;
        assert!(c.get(Flag::KubeletExtraArgs).unwrap().value.is_runtime(), "L depends on the branch");
        assert_eq!(a.files.len(), 1);
        assert_eq!(a.files[0].content, Value::Static("version = 2\n".into()));
        assert_eq!(a.patches.len(), 1);
    }
}
