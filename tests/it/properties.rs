//! Property tests for what the README promises (issue #15), over user data generated from the
//! shapes real files have (MIME with scripts, NodeConfig and cloud-config parts, bare
//! NodeConfig, typos, YAML 1.1 booleans, AL2 calls, broken delimiters, CRLF):
//! - determinism: the same input gives the same report and the same `convert` bytes;
//! - `--fix` is idempotent: fixing the fixed file changes nothing;
//! - no clobbering: `convert -o` over a different existing file without `--force` leaves it as it
//!   was and exits 2, and no temporary file is left behind;
//! - the exit code agrees with the severities: 1 exactly when a finding is at or above
//!   `--fail-on`, else 0.

use crate::util::bin;
use eks_userdata::lint::{LintOptions, fix::fix, lint};
use eks_userdata::report::{self, Format};
use eks_userdata::{Severity, Source};
use proptest::prelude::*;

fn shell_line() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec![
        "set -euo pipefail",
        "echo hello",
        "/etc/eks/bootstrap.sh prod --kubelet-extra-args '--node-labels=a=b'",
        "mkfs.xfs /dev/nvme1n1",
        "mount /dev/nvme1n1 /var/lib/containerd",
        "export HTTP_PROXY=http://proxy:3128",
        "kubectl get nodes",
        "/opt/aws/bin/cfn-signal --exit-code $? --stack s --resource r",
        "until systemctl is-active kubelet; do sleep 1; done",
        "yum install -y amazon-ssm-agent",
        "rm -rf /var/lib/kubelet",
    ])
}

fn nodeconfig_line() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec![
        "      maxPods: 110\n",
        "      serializeImagePulls: off\n",
        "      clusterDNS: [10.100.0.10, kube-dns]\n",
        "      featureGates: {GracefulNodeShutdown: yes}\n",
        "      registryPullQPS: 10\n",
        "      maxpods: 20\n",
        "      evictionHard: {memory.available: 200Mi}\n",
    ])
}

fn nodeconfig() -> impl Strategy<Value = String> {
    (
        prop::sample::select(vec!["v1alpha1", "v1alpha", "v2"]),
        any::<bool>(),
        prop::collection::vec(nodeconfig_line(), 0..4),
        prop::collection::vec(prop::sample::select(vec!["--max-pods=110", "--node-labels=a=b", " --v=2", "--cloud-provider=aws"]), 0..3),
    )
        .prop_map(|(version, cluster, config, flags)| {
            let mut s = format!("apiVersion: node.eks.aws/{version}\nkind: NodeConfig\nspec:\n");
            if cluster {
                s.push_str("  cluster:\n    name: prod\n    apiServerEndpoint: https://example.com\n    certificateAuthority: Y2E=\n    cidr: 10.100.0.0/16\n");
            }
            s.push_str("  kubelet:\n    config:\n");
            for l in config {
                s.push_str(l);
            }
            if !flags.is_empty() {
                s.push_str("    flags:\n");
                for f in flags {
                    s.push_str(&format!("      - \"{f}\"\n"));
                }
            }
            s
        })
}

/// One part: (Content-Type or none, body).
fn part() -> impl Strategy<Value = (Option<&'static str>, String)> {
    prop_oneof![
        prop::collection::vec(shell_line(), 0..5)
            .prop_map(|lines| (Some("text/x-shellscript"), format!("#!/bin/bash\n{}\n", lines.join("\n")))),
        nodeconfig().prop_map(|n| (Some("application/node.eks.aws"), n)),
        Just((Some("text/cloud-config"), "#cloud-config\nruncmd:\n  - echo hi\n".to_string())),
        nodeconfig().prop_map(|n| (None, n)),
    ]
}

/// A whole input: a bare NodeConfig or script, or MIME with some parts, some delimiters or
/// blank lines missing, LF or CRLF.
fn user_data() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        nodeconfig().prop_map(String::into_bytes),
        prop::collection::vec(shell_line(), 1..5).prop_map(|l| format!("#!/bin/bash\n{}\n", l.join("\n")).into_bytes()),
        (prop::collection::vec((part(), any::<bool>()), 0..4), any::<bool>(), any::<bool>()).prop_map(
            |(parts, close, crlf)| {
                let mut m = String::from("MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"//\"\n\n");
                for ((ct, body), blank) in parts {
                    m.push_str("--//\n");
                    if let Some(ct) = ct {
                        m.push_str(&format!("Content-Type: {ct}\n"));
                    }
                    if blank {
                        m.push('\n');
                    }
                    m.push_str(&body);
                }
                if close {
                    m.push_str("--//--\n");
                }
                if crlf { m.replace('\n', "\r\n").into_bytes() } else { m.into_bytes() }
            }
        ),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 160, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn the_same_input_gives_the_same_report_and_output(bytes in user_data()) {
        let opts = LintOptions::default();
        let source = Source::new("u.txt", bytes.clone());
        let a = report::render(&[lint(&source, &opts)], Format::Json);
        let b = report::render(&[lint(&source, &opts)], Format::Json);
        prop_assert_eq!(a, b);
        let topts = eks_userdata::translate::Options::default();
        let format = eks_userdata::translate::emit::Format::Mime;
        let one = eks_userdata::translate::convert(&source, &topts, format, "out").ok().map(|c| c.output);
        let two = eks_userdata::translate::convert(&source, &topts, format, "out").ok().map(|c| c.output);
        prop_assert_eq!(one, two);
    }

    #[test]
    fn fixing_the_fixed_file_changes_nothing(bytes in user_data()) {
        let opts = LintOptions::default();
        if let Some(fixed) = fix(&Source::new("u.txt", bytes), &opts) {
            let again = fix(&Source::new("u.txt", fixed.bytes.clone()), &opts);
            prop_assert!(again.is_none(), "second --fix applied {:?}", again.map(|a| a.applied));
        }
    }
}

proptest! {
    // Each case runs the binary: fewer cases.
    #![proptest_config(ProptestConfig { cases: 24, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn the_exit_code_agrees_with_the_severities(bytes in user_data()) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("user-data.txt");
        std::fs::write(&path, &bytes).unwrap();
        let severities = lint(&Source::new(path.display().to_string(), bytes.clone()), &LintOptions::default())
            .findings
            .iter()
            .map(|f| f.diagnostic.severity)
            .max();
        for (fail_on, level) in [("error", Severity::Error), ("warning", Severity::Warning), ("info", Severity::Info)] {
            let out = bin().args(["lint", "--format", "json", "--fail-on", fail_on]).arg(&path).output().unwrap();
            let expected = if severities.is_some_and(|s| s >= level) { 1 } else { 0 };
            prop_assert_eq!(out.status.code(), Some(expected), "--fail-on {}", fail_on);
        }
    }

    #[test]
    fn convert_never_clobbers_a_different_file(bytes in user_data(), old in prop::collection::vec(any::<u8>(), 1..64)) {
        let dir = tempfile::tempdir().unwrap();
        let input = dir.path().join("in.sh");
        let output = dir.path().join("out.mime");
        let fresh = dir.path().join("fresh.mime");
        std::fs::write(&input, &bytes).unwrap();
        std::fs::write(&output, &old).unwrap();
        // `--target mng` needs no cluster values, so most inputs give an output to write.
        let convert = |to: &std::path::Path| bin().args(["convert", "--target", "mng"]).arg(&input).arg("-o").arg(to).output().unwrap();
        let run = convert(&output);
        prop_assert_eq!(std::fs::read(&output).unwrap(), old.clone(), "the existing file was replaced without --force");
        // Where the same conversion writes a new file, the existing one was refused: exit 2.
        let wrote = convert(&fresh);
        if std::fs::read(&fresh).is_ok_and(|new| new != old) {
            prop_assert_eq!(run.status.code(), Some(2), "{}", String::from_utf8_lossy(&run.stderr));
            prop_assert!(String::from_utf8_lossy(&run.stderr).contains("--force"));
        } else {
            prop_assert!(!fresh.exists() || wrote.status.code() != Some(0));
        }
        let leftovers: Vec<_> = std::fs::read_dir(dir.path()).unwrap().flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| !["in.sh", "out.mime", "fresh.mime"].contains(&n.as_str()))
            .collect();
        prop_assert!(leftovers.is_empty(), "left behind: {:?}", leftovers);
    }
}
