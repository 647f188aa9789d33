//! The AL2 node a script configured: its file operations and its bootstrap.sh call replayed in
//! script order over the AMI's files (`fs.rs`), so later writes win, bootstrap.sh's own
//! rewrites land where it ran, and each user write can be judged by what survived (al2-node
//! §2.4, §3.3, §3.4, §4.1). Only the first bootstrap.sh call that always runs is replayed;
//! calls in branches are the translator's business (CV409, the boot hook).

use super::analysis::Analysis;
use super::bootstrap_effects::{self, Facts, Run};
use super::fileops::{Action, FileOp, Source};
use super::fs::{Content, Fs, Writer};
use super::{jq, paths, sed};

/// One user write and what became of it.
#[derive(Debug, Clone)]
pub struct Write {
    /// The user-data part (its envelope index) the command is in.
    pub part: usize,
    pub op: FileOp,
    /// Before the (first) bootstrap.sh call.
    pub before_call: bool,
    /// The file's content right after this write.
    pub result: Content,
    /// The command ran inside a branch or `&&`/`||` list.
    pub conditional: bool,
    /// Why the edit could not be replayed (sed or jq outside the model, a pattern that matches
    /// none of the lines the model holds for an AMI file).
    pub unreplayed: Option<String>,
    /// The edit certainly changed nothing (a sed that matches nothing in a file this user data
    /// wrote, a sed on a file that does not exist).
    pub no_effect: Option<String>,
    /// The branch it sits in was not taken on AL2 (a file test the model could decide), so the
    /// write never happened: the condition.
    pub not_taken: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Node {
    pub fs: Fs,
    pub writes: Vec<Write>,
    pub run: Option<Run>,
    /// The part of the bootstrap.sh call that ran.
    pub run_part: Option<usize>,
    /// The command index of the last kubelet (re)start (`None`: never started).
    pub kubelet_started: Option<usize>,
    /// Writes to kubelet or containerd files after the last restart of that service: they only
    /// took effect at the next restart or reboot.
    pub latent: Vec<usize>,
}

fn resolve(fs: &Fs, source: &Source) -> (Content, Option<String>) {
    match source {
        Source::Text(t) => (Content::Known(t.clone()), None),
        Source::Unknown(why) => (Content::Unknown(why.clone()), None),
        Source::File(p) => match fs.content(&paths::normalise(p)) {
            Some(c) => (c.clone(), None),
            None => (Content::Unknown(format!("{p} is not written by this user data")), None),
        },
        Source::Jq { filter, input, vars } => {
            let Some(Content::Known(text)) = fs.content(&paths::normalise(input)) else {
                return (Content::Unknown(format!("jq over {input}, whose content is unknown")), None);
            };
            let vars: Vec<(String, serde_json::Value)> = vars
                .iter()
                .map(|(n, v, is_json)| {
                    let value = if *is_json {
                        serde_json::from_str(v).unwrap_or(serde_json::Value::String(v.clone()))
                    } else {
                        serde_json::Value::String(v.clone())
                    };
                    (n.clone(), value)
                })
                .collect();
            let steps = match jq::steps(filter, &vars) {
                Ok(s) => s,
                Err(why) => return (Content::Unknown(format!("the jq filter `{filter}`: {why}")), Some(why)),
            };
            let Ok(mut doc) = serde_json::from_str::<serde_json::Value>(text) else {
                return (Content::Known(String::new()), Some(format!("{input} is not JSON, so jq printed nothing")));
            };
            match jq::apply(&mut doc, &steps) {
                Ok(()) => {
                    let mut s = serde_json::to_string_pretty(&doc).unwrap_or_default();
                    s.push('\n');
                    (Content::Known(s), None)
                }
                Err(why) => (Content::Unknown(why.clone()), Some(why)),
            }
        }
    }
}

/// Replays the scripts (user-data parts in the order cloud-init runs them) over the AMI's files.
pub fn replay(parts: &[(usize, &Analysis)], facts: &Facts) -> Node {
    let mut node = Node {
        fs: Fs::ami(),
        writes: Vec::new(),
        run: None,
        run_part: None,
        kubelet_started: None,
        latent: Vec::new(),
    };
    let mut containerd_started = false;
    for (part, a) in parts {
        replay_part(&mut node, *part, a, facts, &mut containerd_started);
    }
    node
}

/// A file test (`[ -f P ]`, `test -e P`, `[ ! -s P ]`) decided on the model's files; `None`
/// when it is about something else.
fn file_test(fs: &Fs, words: &[String]) -> Option<bool> {
    let w: Vec<&str> = words.iter().map(String::as_str).filter(|w| *w != "]").collect();
    let (neg, w) = match w.split_first() {
        Some((&"!", rest)) => (true, rest.to_vec()),
        _ => (false, w),
    };
    let [op, path] = w.as_slice() else { return None };
    let path = paths::normalise(path);
    if !path.starts_with('/') || path.contains('$') || path.contains('<') {
        return None;
    }
    // Only files the model tracks can be decided: the AMI's, and what this user data wrote.
    let tracked = fs.get(&path).is_some() || paths::kind(&path) != paths::Kind::Same;
    let r = match *op {
        "-f" | "-e" if tracked => fs.get(&path).is_some(),
        "-s" if tracked => fs.content(&path).is_some_and(|c| c.known().is_none_or(|t| !t.is_empty())),
        _ => return None,
    };
    Some(r != neg)
}

/// Whether a command in `branch` ran, given the conditions decided so far.
fn not_taken(branch: &[String], decided: &[(String, bool)]) -> Option<String> {
    for label in branch {
        for (cond, value) in decided {
            // Branch labels carry the condition's first 80 characters (`shell.rs`).
            let cond: String = cond.chars().take(80).collect();
            if label == &format!("if {cond}") && !value {
                return Some(format!("`{cond}` was false"));
            }
            if label == &format!("else of (if {cond})") && *value {
                return Some(format!("`{cond}` was true"));
            }
        }
    }
    None
}

fn replay_part(node: &mut Node, part: usize, a: &Analysis, facts: &Facts, containerd_started: &mut bool) {
    let mut decided: Vec<(String, bool)> = Vec::new();
    let call = if node.run.is_some() {
        None
    } else {
        a.invocations
            .iter()
            .find(|i| a.script.commands.get(i.command).is_some_and(|c| c.unconditional()))
            .or(a.invocations.first())
    };
    let ran_before = node.run.is_some();
    let mut ops = a.file_ops.iter().peekable();
    for (idx, cmd) in a.script.commands.iter().enumerate() {
        let conditional = !cmd.unconditional();
        if let Some((_, words)) = a.tests.iter().find(|(i, _)| *i == idx)
            && let Some(v) = file_test(&node.fs, words)
        {
            let text = cmd.words.iter().map(|w| w.raw.as_str()).collect::<Vec<_>>().join(" ");
            decided.push((text, v));
        }
        let skipped = not_taken(&cmd.branch, &decided);
        while let Some(op) = ops.next_if(|o| o.command == idx) {
            if let Some(why) = &skipped {
                let result = node.fs.content(&op.path).cloned().unwrap_or(Content::Known(String::new()));
                node.writes.push(Write {
                    part,
                    op: op.clone(),
                    before_call: !ran_before && call.is_none_or(|c| idx < c.command),
                    result,
                    conditional,
                    unreplayed: None,
                    no_effect: None,
                    not_taken: Some(why.clone()),
                });
                continue;
            }
            let before_call = !ran_before && call.is_none_or(|c| idx < c.command);
            let mut unreplayed = None;
            let mut no_effect = None;
            let writer = Writer::User(idx);
            let fs = &mut node.fs;
            match &op.action {
                Action::Write { source, append } => {
                    let (content, why) = resolve(fs, source);
                    unreplayed = why;
                    let content = match (append, fs.content(&op.path), content) {
                        (true, Some(Content::Known(old)), Content::Known(new)) => Content::Known(format!("{old}{new}")),
                        (true, Some(Content::Unknown(w)), _) => Content::Unknown(w.clone()),
                        (_, _, c) => c,
                    };
                    fs.put(&op.path, content, writer, conditional);
                }
                Action::Copy { from } | Action::Move { from } => {
                    let c = fs
                        .content(from)
                        .cloned()
                        .unwrap_or_else(|| Content::Unknown(format!("{from} is not written by this user data")));
                    fs.put(&op.path, c, writer, conditional);
                    if matches!(op.action, Action::Move { .. }) {
                        fs.remove(from);
                    }
                }
                Action::Remove => fs.remove(&op.path),
                Action::Touch => {
                    if fs.get(&op.path).is_none() {
                        fs.put(&op.path, Content::Known(String::new()), writer, conditional);
                    }
                }
                Action::Sed { script, extended } => {
                    match (sed::parse(script, *extended), fs.content(&op.path).cloned()) {
                        (Ok(p), Some(Content::Known(old))) => {
                            let new = p.apply(&old);
                            // Exact only when the user wrote the whole file: a sed over the AMI's
                            // file (modelled by its values) stays inexact through later edits.
                            let exact = fs.get(&op.path).is_some_and(|f| matches!(f.writer, Writer::User(_)))
                                && node
                                    .writes
                                    .iter()
                                    .rev()
                                    .filter(|w| w.op.path == op.path && w.not_taken.is_none())
                                    .find(|w| {
                                        !matches!(w.op.action, Action::Sed { .. } | Action::Write { append: true, .. })
                                    })
                                    .is_some_and(|w| matches!(w.op.action, Action::Write { .. } | Action::Copy { .. }));
                            if new == old && exact {
                                no_effect =
                                    Some("the sed program matches nothing in the file, so it changed nothing".into());
                            } else if new == old {
                                unreplayed = Some(format!(
                                    "the sed program matches none of the lines the model holds for {} (the AMI's file as its values, not byte for byte), so what it changed is unknown",
                                    op.path
                                ));
                            }
                            fs.put(&op.path, Content::Known(new), writer, conditional)
                        }
                        (Ok(_), Some(Content::Unknown(w))) => {
                            fs.put(&op.path, Content::Unknown(w), writer, conditional)
                        }
                        (Ok(_), None) => {
                            no_effect =
                                Some(format!("{} does not exist on the node at that point, so sed failed", op.path))
                        }
                        (Err(e), _) => {
                            unreplayed = Some(e.0.clone());
                            fs.put(&op.path, Content::Unknown(format!("sed: {}", e.0)), writer, conditional);
                        }
                    }
                }
            }
            let result = node.fs.content(&op.path).cloned().unwrap_or(Content::Known(String::new()));
            let kind = paths::kind(&op.path);
            let kubelet_file =
                matches!(kind, paths::Kind::KubeletConfig | paths::Kind::KubeletDropIn | paths::Kind::KubeletUnit);
            let containerd_file = matches!(
                kind,
                paths::Kind::ContainerdConfig | paths::Kind::ContainerdImport | paths::Kind::ContainerdDropIn
            );
            if kubelet_file && node.kubelet_started.is_some() || containerd_file && *containerd_started {
                node.latent.push(node.writes.len());
            }
            node.writes.push(Write {
                part,
                op: op.clone(),
                before_call,
                result,
                conditional,
                unreplayed,
                no_effect,
                not_taken: None,
            });
        }
        if let Some(c) = call
            && c.command == idx
        {
            let r = bootstrap_effects::apply(&mut node.fs, idx, &c.call, facts);
            if r.vars.starts_kubelet && !r.broken_kubelet_config {
                node.kubelet_started = Some(idx);
            }
            *containerd_started = true;
            node.run = Some(r);
            node.run_part = Some(part);
        }
        // A restart after an edit applies it.
        for (_, verb, unit) in a.units.iter().filter(|(i, _, _)| *i == idx) {
            if matches!(verb.as_str(), "restart" | "start" | "reload-or-restart" | "try-restart") {
                let writes = &node.writes;
                if unit == "kubelet" {
                    node.latent.retain(|w| {
                        !matches!(
                            writes.get(*w).map(|w| paths::kind(&w.op.path)),
                            Some(paths::Kind::KubeletConfig | paths::Kind::KubeletDropIn | paths::Kind::KubeletUnit)
                        )
                    });
                }
                if unit == "containerd" {
                    node.latent.retain(|w| {
                        !matches!(
                            writes.get(*w).map(|w| paths::kind(&w.op.path)),
                            Some(
                                paths::Kind::ContainerdConfig
                                    | paths::Kind::ContainerdImport
                                    | paths::Kind::ContainerdDropIn
                            )
                        )
                    });
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::al2::fs;
    use crate::al2::{analysis, shell, template::Syntax};

    fn node(text: &str) -> Node {
        let a = analysis::analyze(shell::parse(text, Syntax::None).unwrap());
        replay(&[(0, &a)], &Facts { instance_type: Some("m5.large".into()), service_cidr: None })
    }

    fn kcj(n: &Node) -> serde_json::Value {
        serde_json::from_str(n.fs.content(fs::KCJ).and_then(Content::known).unwrap()).unwrap()
    }

    #[test]
    fn bootstrap_rewrites_some_keys_and_keeps_others() {
        let n = node(
            "#!/bin/bash\njq '.maxPods = 110 | .registryPullQPS = 0' /etc/kubernetes/kubelet/kubelet-config.json > /tmp/k\nmv /tmp/k /etc/kubernetes/kubelet/kubelet-config.json\n/etc/eks/bootstrap.sh c --kubelet-extra-args '--node-labels=a=b'\n",
        );
        let k = kcj(&n);
        assert_eq!(k["registryPullQPS"], 0, "bootstrap.sh never touches it");
        assert_eq!(k["maxPods"], 29, "bootstrap.sh rewrote it from the ENI table");
        assert_eq!(k["cgroupDriver"], "systemd");
        let d30 = n.fs.content("/etc/systemd/system/kubelet.service.d/30-kubelet-extra-args.conf").unwrap();
        assert_eq!(d30.known().unwrap(), "[Service]\nEnvironment='KUBELET_EXTRA_ARGS=--node-labels=a=b'\n");
        assert_eq!(n.kubelet_started, Some(2));
    }

    #[test]
    fn later_edits_win_and_are_latent_until_a_restart() {
        let n = node(
            "/etc/eks/bootstrap.sh c\necho \"$(jq '.containerLogMaxSize=\"50Mi\"' /etc/kubernetes/kubelet/kubelet-config.json)\" > /etc/kubernetes/kubelet/kubelet-config.json\n",
        );
        assert_eq!(n.writes.len(), 1);
        assert_eq!(n.latent, [0], "written after the kubelet started, and never restarted");
        let n = node(
            "/etc/eks/bootstrap.sh c\ncat <<'EOF' > /etc/systemd/system/kubelet.service.d/90-x.conf\n[Service]\nEnvironment=KUBELET_EXTRA_ARGS=--v=4\nEOF\nsystemctl daemon-reload\nsystemctl restart kubelet\n",
        );
        assert!(n.latent.is_empty());
        assert!(!n.writes[0].before_call);
    }

    #[test]
    fn a_patched_bootstrap_sh_changes_what_it_writes() {
        let n = node(
            "sed -i '/^KUBELET_EXTRA_ARGS=/a KUBELET_EXTRA_ARGS+=\" --node-labels=team=data\"' /etc/eks/bootstrap.sh\n/etc/eks/bootstrap.sh c\n",
        );
        assert!(n.run.as_ref().unwrap().patched);
        let d30 = n.fs.content("/etc/systemd/system/kubelet.service.d/30-kubelet-extra-args.conf").unwrap();
        assert_eq!(d30.known().unwrap(), "[Service]\nEnvironment='KUBELET_EXTRA_ARGS= --node-labels=team=data'\n");
    }

    #[test]
    fn branches_on_file_tests_are_decided() {
        let n = node(
            "/etc/eks/bootstrap.sh c\nif [ -f /etc/systemd/system/kubelet.service.d/30-kubelet-extra-args.conf ]; then\n  echo a > /etc/systemd/system/kubelet.service.d/40-x.conf\nelse\n  echo b > /etc/systemd/system/kubelet.service.d/40-x.conf\nfi\n",
        );
        assert!(n.writes[0].not_taken.is_some(), "no extra args, so bootstrap.sh wrote no 30-…");
        assert_eq!(n.fs.content("/etc/systemd/system/kubelet.service.d/40-x.conf").unwrap().known(), Some("b\n"));
    }

    #[test]
    fn containerd_template_edits_reach_the_live_config() {
        let n = node(
            "cat <<'EOF' >> /etc/eks/containerd/containerd-config.toml\n[metrics]\naddress = \"0.0.0.0:10257\"\nEOF\n/etc/eks/bootstrap.sh c\n",
        );
        let live = n.fs.content(fs::CONTAINERD_CONFIG).and_then(Content::known).unwrap();
        assert!(live.contains("[metrics]") && !live.contains("SANDBOX_IMAGE"));
        let n = node("echo '[x]' >> /etc/containerd/config.toml\n/etc/eks/bootstrap.sh c\n");
        let live = n.fs.content(fs::CONTAINERD_CONFIG).and_then(Content::known).unwrap();
        assert!(!live.contains("[x]"), "bootstrap.sh replaced the config written before it");
    }
}
