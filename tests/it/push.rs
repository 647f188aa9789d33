//! `push`, `rollback` and `cluster-info` against a real AWS API emulator: moto's server
//! (`tests/moto/server.py`, which closes moto's two gaps: SourceVersion inheritance and the
//! UpdateNodegroupVersion call) on a free loopback port, reached through `AWS_ENDPOINT_URL`
//! exactly as a user's AWS configuration would reach real AWS. Fixtures are made and read back
//! with boto3 (`tests/moto/fixture.py`), so what is checked is what EC2 stores, not what this
//! tool believes it sent.

use crate::util::{bin, root};
use base64::Engine as _;
use serde_json::Value;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub(crate) struct Moto {
    child: Child,
    url: String,
    setup: Value,
}

impl Moto {
    /// The server with the fixtures made, or `None` (after saying so) on a machine without
    /// moto. Under CI (`CI` set, as `.ci/run` does) a missing moto is a failure, never a skip.
    pub(crate) fn start() -> Option<Moto> {
        Moto::start_with(&[])
    }

    /// The server with `env` set (MOTO_STOCK_SOURCE_VERSION: see server.py).
    fn start_with(env: &[(&str, &str)]) -> Option<Moto> {
        let has_moto = Command::new("python3")
            .args(["-c", "import moto.server, boto3"])
            .output()
            .is_ok_and(|o| o.status.success());
        if !has_moto {
            assert!(
                std::env::var_os("CI").is_none(),
                "moto is missing; .ci/run installs it: pip install 'moto[server]'"
            );
            eprintln!("push tests skipped: moto is not installed (pip install 'moto[server]')");
            return None;
        }
        // A free port: bind, read it, release; the server binds it a moment later.
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        // Two templates a page: every listing crosses page boundaries (NextToken).
        let child = Command::new("python3")
            .arg(root().join("tests/moto/server.py"))
            .arg(port.to_string())
            .env("MOTO_PAGE_SIZE", "2")
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("python3 runs (moto[server] is installed by .ci/run: pip install 'moto[server]')");
        let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
        let deadline = Instant::now() + Duration::from_secs(60);
        while TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err() {
            assert!(Instant::now() < deadline, "moto did not start on {addr} (is moto[server] installed?)");
            std::thread::sleep(Duration::from_millis(100));
        }
        let mut moto = Moto { child, url: format!("http://{addr}"), setup: Value::Null };
        moto.setup = moto.py(&["setup"]);
        Some(moto)
    }

    pub(crate) fn env(&self, cmd: &mut Command) {
        cmd.env("AWS_ENDPOINT_URL", &self.url)
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("AWS_REGION", "eu-west-1")
            .env("AWS_DEFAULT_REGION", "eu-west-1")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("AWS_CONFIG_FILE", "/nonexistent")
            .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
            .env_remove("AWS_PROFILE");
    }

    pub(crate) fn py(&self, args: &[&str]) -> Value {
        let mut cmd = Command::new("python3");
        cmd.arg(root().join("tests/moto/fixture.py")).args(args);
        self.env(&mut cmd);
        let out = cmd.output().unwrap();
        assert!(out.status.success(), "fixture.py {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        serde_json::from_slice(&out.stdout).unwrap_or(Value::Null)
    }

    fn tool(&self, args: &[&str]) -> (i32, String, String) {
        self.tool_in(root(), args)
    }

    /// The tool run from `dir` (where it looks for `.eks-userdata.toml`).
    fn tool_in(&self, dir: &std::path::Path, args: &[&str]) -> (i32, String, String) {
        self.tool_with(dir, None, args)
    }

    /// The tool with `config` as its AWS config file and no credentials in the environment:
    /// everything comes from the profiles there.
    fn tool_with(
        &self,
        dir: &std::path::Path,
        config: Option<&std::path::Path>,
        args: &[&str],
    ) -> (i32, String, String) {
        let mut cmd = bin();
        cmd.args(args).current_dir(dir);
        for (k, v) in [
            ("AWS_ENDPOINT_URL", self.url.as_str()),
            ("AWS_ACCESS_KEY_ID", "testing"),
            ("AWS_SECRET_ACCESS_KEY", "testing"),
            ("AWS_REGION", "eu-west-1"),
            ("AWS_EC2_METADATA_DISABLED", "true"),
            ("AWS_CONFIG_FILE", "/nonexistent"),
            ("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent"),
        ] {
            cmd.env(k, v);
        }
        if let Some(c) = config {
            cmd.env("AWS_CONFIG_FILE", c).env_remove("AWS_ACCESS_KEY_ID").env_remove("AWS_SECRET_ACCESS_KEY");
        }
        let out = cmd.output().unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    fn dump(&self, name: &str) -> Value {
        self.py(&["dump", name])
    }

    fn versions(&self, name: &str) -> usize {
        self.dump(name)["versions"].as_object().unwrap().len()
    }

    fn id(&self, name: &str) -> String {
        self.setup["templates"][name].as_str().unwrap().to_string()
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn user_data(version: &Value) -> String {
    let b64 = version["data"]["UserData"].as_str().unwrap();
    String::from_utf8(base64::engine::general_purpose::STANDARD.decode(b64).unwrap()).unwrap()
}

/// Version `new` equals version `old` except for UserData and the fields in `changed`.
fn assert_only_changed(old: &Value, new: &Value, changed: &[(&str, Value)]) {
    let (mut a, mut b) = (old["data"].clone(), new["data"].clone());
    a.as_object_mut().unwrap().remove("UserData");
    b.as_object_mut().unwrap().remove("UserData");
    for (pointer, value) in changed {
        match a.pointer_mut(pointer) {
            Some(slot) => *slot = value.clone(),
            None => {
                a[pointer.trim_start_matches('/')] = value.clone();
            }
        }
    }
    assert_eq!(a, b, "fields other than the planned ones changed");
}

const PAIR: [&str; 4] = ["--name", "web-plain", "--name", "batch-*"];

#[test]
fn plan_apply_reapply_and_rollback_keep_every_field() {
    let Some(moto) = Moto::start() else { return };
    let info = root().join("fixtures/cluster-info.yaml");
    let info = info.to_str().unwrap();
    let plan_file = tempfile::NamedTempFile::new().unwrap();
    let plan_path = plan_file.path().to_str().unwrap();

    // Plan: diffs and a table, nothing written.
    let (code, out, _) = moto.tool(
        &[&["push", "--cluster-info", info, "--hop-limit", "2", "--set-default", "--plan-out", plan_path][..], &PAIR]
            .concat(),
    );
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("-/etc/eks/bootstrap.sh orders-prod \\") && out.contains("+kind: NodeConfig"), "{out}");
    assert!(out.contains("MetadataOptions.HttpPutResponseHopLimit: 1 → 2"), "{out}");
    assert!(
        out.contains("2 to create, 0 to update, 0 unchanged, 0 skipped, 0 owned, 0 errors. Nothing was written"),
        "{out}"
    );
    assert_eq!(moto.dump("web-plain")["versions"].as_object().unwrap().len(), 1);
    let plan: Value = serde_json::from_str(&std::fs::read_to_string(plan_path).unwrap()).unwrap();
    assert_eq!(plan["format"], "eks-userdata/push-plan/v2");
    assert_eq!(plan["items"][0]["account"], "123456789012", "moto's default account");
    assert_eq!(plan["items"].as_array().unwrap().len(), 2);

    assert!(out.contains("+ default version 1 → the new version"), "{out}");
    // Apply exactly that plan: new versions, made the default.
    let (code, out, _) = moto.tool(&["push", "--plan", plan_path, "--apply"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("version 2, verified, default"), "{out}");
    let web = moto.dump("web-plain");
    assert_eq!(web["default"], 2);
    let (v1, v2) = (&web["versions"]["1"], &web["versions"]["2"]);
    assert_eq!(v2["description"], "eks-userdata: AL2023 user data from version 1");
    // Block devices, network interfaces, tags, key, monitoring, image: all carried over.
    assert_only_changed(v1, v2, &[("/MetadataOptions/HttpPutResponseHopLimit", Value::from(2))]);
    let new = user_data(v2);
    assert!(new.starts_with("MIME-Version: 1.0\n") && new.contains("name: orders-prod"), "{new}");
    let lint = eks_userdata::lint::lint(&eks_userdata::Source::new("v2", new.as_bytes()), &Default::default());
    assert!(lint.findings.iter().all(|f| f.diagnostic.severity != eks_userdata::Severity::Error), "{lint:?}");
    let batch = moto.dump("batch-mime");
    assert_eq!(batch["default"], 2);
    assert_only_changed(
        &batch["versions"]["1"],
        &batch["versions"]["2"],
        &[("/MetadataOptions", serde_json::json!({"HttpPutResponseHopLimit": 2}))],
    );

    // Re-running is a no-op: no third version.
    let (code, out, _) = moto.tool(
        &[&["push", "--cluster-info", info, "--hop-limit", "2", "--apply", "--format", "json"][..], &PAIR].concat(),
    );
    assert_eq!(code, 0, "{out}");
    let json: Value = serde_json::from_str(&out).unwrap();
    assert!(json["items"].as_array().unwrap().iter().all(|i| i["action"] == "unchanged"), "{out}");
    assert_eq!(moto.dump("web-plain")["versions"].as_object().unwrap().len(), 2);

    // Not set as default, the first run's version is recognised too.
    let (_, out, _) =
        moto.tool(&[&["push", "--cluster-info", info, "--hop-limit", "2", "--version", "1"][..], &PAIR].concat());
    assert!(out.contains("already migrated: version 2 was made from version 1"), "{out}");

    // Roll back: defaults return to version 1; again, nothing to do.
    let (code, out, _) = moto.tool(&[&["rollback"][..], &PAIR].concat());
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("rolled-back: default version 2 → 1"), "{out}");
    assert_eq!(moto.dump("web-plain")["default"], 1);
    assert_eq!(moto.dump("batch-mime")["default"], 1);
    let (code, out, _) = moto.tool(&["rollback", "--plan", plan_path]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("unchanged: version 1 is already the default"), "{out}");
    assert_eq!(moto.dump("web-plain")["versions"].as_object().unwrap().len(), 2, "nothing deleted");
}

#[test]
fn a_saved_plan_is_refused_for_a_template_changed_since() {
    let Some(moto) = Moto::start() else { return };
    let info = root().join("fixtures/cluster-info.yaml");
    let plan_file = tempfile::NamedTempFile::new().unwrap();
    let plan_path = plan_file.path().to_str().unwrap();
    let (code, _, _) =
        moto.tool(&["push", "--cluster-info", info.to_str().unwrap(), "--name", "web-plain", "--plan-out", plan_path]);
    assert_eq!(code, 0);
    moto.py(&["bump", "web-plain"]);
    let (code, out, _) = moto.tool(&["push", "--plan", plan_path, "--apply"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("TemplateChanged") && out.contains("plan again"), "{out}");
    assert_eq!(moto.dump("web-plain")["versions"].as_object().unwrap().len(), 2, "only the bump");
}

#[test]
fn bad_templates_are_reported_and_left_alone_while_the_others_carry_on() {
    let Some(moto) = Moto::start() else { return };
    let info = root().join("fixtures/cluster-info.yaml");
    let (code, out, _) = moto.tool(&["push", "--cluster-info", info.to_str().unwrap(), "--all", "--apply"]);
    assert_eq!(code, 1, "one template cannot be translated: exit 1\n{out}");
    assert!(out.contains("= 123456789012 eu-west-1 ") && out.contains("(blank) version 1: no user data"), "{out}");
    assert!(out.contains("(broken) version 1: the user data cannot be translated without review"), "{out}");
    assert!(out.contains("error CV405"), "the reason is shown: {out}");
    assert!(out.contains("(modern) version 1: already AL2023 user data"), "{out}");
    assert!(
        out.contains(
            "2 to create, 0 to update, 1 unchanged, 1 skipped, 0 owned, 1 errors; 2 created and verified, 0 updated."
        ),
        "{out}"
    );
    for (name, versions) in [("broken", 1), ("blank", 1), ("modern", 1), ("web-plain", 2), ("batch-mime", 2)] {
        assert_eq!(moto.dump(name)["versions"].as_object().unwrap().len(), versions, "{name}");
    }
    // By id; an unknown id is an error, not an empty run; no selector at all is refused.
    let (code, out, _) = moto.tool(&[
        "push",
        "--cluster-info",
        info.to_str().unwrap(),
        "--id",
        &moto.id("web-plain"),
        "--format",
        "json",
    ]);
    assert_eq!(code, 0, "{out}");
    let json: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(json["items"].as_array().unwrap().len(), 1);
    assert_eq!(json["items"][0]["action"], "unchanged", "migrated above, not made default: {out}");
    let (code, out, _) = moto.tool(&["push", "--id", "lt-0000000000000000f"]);
    assert_eq!(code, 1);
    assert!(out.contains("InvalidLaunchTemplateId.NotFound"), "{out}");
    let (code, _, err) = moto.tool(&["push"]);
    assert_eq!(code, 2);
    assert!(err.contains("--all"), "{err}");
}

#[test]
fn cluster_lookup_new_ami_and_node_group_updates() {
    let Some(moto) = Moto::start() else { return };
    // cluster-info writes the file convert reads.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("prod.yaml");
    let (code, _, err) = moto.tool(&["cluster-info", "prod", "-o", file.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    let info = eks_userdata::translate::ClusterInfo::parse(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert_eq!(
        (info.name.as_deref(), info.cidr.as_deref(), info.ip_family.as_deref(), info.kubernetes_version.as_deref()),
        (Some("prod"), Some("10.100.0.0/16"), Some("ipv4"), Some("1.33"))
    );

    // --cluster: DescribeCluster; --ami auto: the newest AL2023 image for 1.33/x86_64.
    let (code, out, _) = moto.tool(
        &[&[
            "push",
            "--cluster",
            "prod",
            "--ami",
            "auto",
            "--ami-owner",
            "self",
            "--apply",
            "--set-default",
            "--update-nodegroups",
            "--name",
            "web-plain",
        ][..]]
        .concat(),
    );
    assert_eq!(code, 0, "{out}");
    let web = moto.dump("web-plain");
    let v2 = &web["versions"]["2"];
    let al2023 = moto.setup["images"]["al2023"].clone();
    assert_only_changed(&web["versions"]["1"], v2, &[("/ImageId", al2023)]);
    assert!(user_data(v2).contains("name: prod") && user_data(v2).contains("cidr: 10.100.0.0/16"));
    assert!(out.contains("node group prod/ng-web") && out.contains("started"), "{out}");
    assert_eq!(moto.py(&["nodegroup", "ng-web"])["version"], "2");

    // A node group on an EKS-chosen AMI cannot move to AL2023 in place: explained, not updated.
    let (code, out, _) = moto.tool(&[
        "push",
        "--cluster",
        "prod",
        "--target",
        "mng",
        "--apply",
        "--update-nodegroups",
        "--name",
        "batch-mime",
    ]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("node group prod/ng-batch")
            && out.contains("not-in-place")
            && out.contains("create a new node group"),
        "{out}"
    );
    assert_eq!(moto.py(&["nodegroup", "ng-batch"])["version"], "1");
}

/// The operator's two steps: versions first, then (after testing a node) the default and the node
/// groups. Each later run takes only what is missing; a run with nothing missing writes nothing.
#[test]
fn apply_then_set_default_then_update_nodegroups_on_reruns() {
    let Some(moto) = Moto::start() else { return };
    let base = ["push", "--cluster", "prod", "--name", "web-plain"];
    let run = |extra: &[&str]| moto.tool(&[&base[..], extra].concat());

    let (code, out, _) = run(&["--apply"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("version 2, verified") && !out.contains("verified, default"), "{out}");
    assert_eq!((moto.dump("web-plain")["default"].clone(), moto.versions("web-plain")), (Value::from(1), 2));

    // The plan of the second step names the one write left, and writes nothing.
    let (code, out, _) = run(&["--set-default"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("version 2 is the AL2023 version; left to do: default version 1 → version 2"), "{out}");
    assert!(out.contains("0 to create, 1 to update"), "{out}");
    assert_eq!(moto.dump("web-plain")["default"], 1);
    let (code, out, _) = run(&["--set-default", "--apply"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("update  default") && out.contains("0 created and verified, 1 updated"), "{out}");
    assert_eq!((moto.dump("web-plain")["default"].clone(), moto.versions("web-plain")), (Value::from(2), 2));

    // The node group still runs version 1: the third step moves it, without a new version.
    assert_eq!(moto.py(&["nodegroup", "ng-web"])["version"], "1");
    let (code, out, _) = run(&["--set-default", "--update-nodegroups", "--apply"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("+ node group prod/ng-web: version 1 → version 2"), "{out}");
    assert!(out.contains("node group prod/ng-web") && out.contains("started"), "{out}");
    assert_eq!(moto.py(&["nodegroup", "ng-web"])["version"], "2");
    assert_eq!(moto.versions("web-plain"), 2);

    // Everything is as asked: a no-op.
    let (code, out, _) = run(&["--set-default", "--update-nodegroups", "--apply", "--format", "json"]);
    assert_eq!(code, 0, "{out}");
    let json: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(json["items"][0]["action"], "unchanged", "{out}");
    assert_eq!(json["items"][0]["steps"], serde_json::json!([]), "{out}");
    assert_eq!(json["nodegroups"], serde_json::json!([]), "{out}");
}

/// A saved plan for two templates, one of which changes before it is applied: one finishes, the
/// other fails. A fresh run then takes only the failed template's steps, and the next is a no-op.
#[test]
fn a_partial_failure_then_a_rerun_completes() {
    let Some(moto) = Moto::start() else { return };
    let info = root().join("fixtures/cluster-info.yaml");
    let info = info.to_str().unwrap();
    let plan_file = tempfile::NamedTempFile::new().unwrap();
    let plan_path = plan_file.path().to_str().unwrap();
    let plan_run = [&["push", "--cluster-info", info, "--set-default", "--plan-out", plan_path][..], &PAIR].concat();
    assert_eq!(moto.tool(&plan_run).0, 0);
    moto.py(&["bump", "batch-mime"]);
    let (code, out, _) = moto.tool(&["push", "--plan", plan_path, "--apply"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("TemplateChanged") && out.contains("1 created and verified, 0 updated, 1 failed"), "{out}");
    assert_eq!(
        (moto.dump("web-plain")["default"].clone(), moto.dump("batch-mime")["default"].clone()),
        (2.into(), 1.into())
    );

    let again = [&["push", "--cluster-info", info, "--set-default", "--apply", "--format", "json"][..], &PAIR].concat();
    let (code, out, _) = moto.tool(&again);
    assert_eq!(code, 0, "{out}");
    let json: Value = serde_json::from_str(&out).unwrap();
    let action = |name: &str| {
        json["items"].as_array().unwrap().iter().find(|i| i["templateName"] == name).unwrap()["action"].clone()
    };
    assert_eq!((action("web-plain"), action("batch-mime")), ("unchanged".into(), "create".into()), "{out}");
    // batch-mime: version 2 is the bump, 3 the migrated one (from the default, version 1).
    let batch = moto.dump("batch-mime");
    assert_eq!((batch["default"].clone(), batch["versions"].as_object().unwrap().len()), (3.into(), 3));
    assert_eq!(batch["versions"]["3"]["description"], "eks-userdata: AL2023 user data from version 1");
    assert_eq!(moto.versions("web-plain"), 2, "nothing new for the template that was done");

    let (code, out, _) = moto.tool(&again);
    assert_eq!(code, 0, "{out}");
    let json: Value = serde_json::from_str(&out).unwrap();
    assert!(json["items"].as_array().unwrap().iter().all(|i| i["action"] == "unchanged"), "{out}");
}

/// Against an endpoint that ignores SourceVersion (stock moto 5), the new version loses the
/// template's other fields: verification catches it, the version is deleted, the default stays.
#[test]
fn a_failed_verification_leaves_no_version_behind() {
    let Some(moto) = Moto::start_with(&[("MOTO_STOCK_SOURCE_VERSION", "1")]) else { return };
    let info = root().join("fixtures/cluster-info.yaml");
    let args = ["push", "--cluster-info", info.to_str().unwrap(), "--name", "web-plain", "--apply", "--set-default"];
    let (code, out, _) = moto.tool(&args);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("VerificationFailed: version 2 does not match the plan"), "{out}");
    assert!(out.contains("verify: block_device_mappings: planned Some(") && out.contains("EC2 has None"), "{out}");
    assert!(out.contains("deleted version 2") && out.contains("FAILED, version 2, NOT VERIFIED, deleted 2"), "{out}");
    let web = moto.dump("web-plain");
    assert_eq!((web["default"].clone(), web["versions"].as_object().unwrap().len()), (1.into(), 1), "{web}");
    // A re-run tries again with a fresh version number (EC2 never reuses one), and fails the same way.
    let (code, out, _) = moto.tool(&args);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("deleted version 3"), "{out}");
    assert_eq!(moto.versions("web-plain"), 1);
}

/// Every kind of owner is recognised from what EC2 returns and its template left alone, with
/// what to do instead; `--include-owned` pushes anyway, with a warning.
#[test]
fn owned_templates_are_refused_unless_included() {
    let Some(moto) = Moto::start() else { return };
    moto.py(&["owned"]);
    let dir = tempfile::tempdir().unwrap();
    // Provider default tags of this team's Terraform, as a project lists them.
    std::fs::write(dir.path().join(".eks-userdata.toml"), "[push]\nterraform-tags = [\"Stack=platform\"]\n").unwrap();
    let info = root().join("fixtures/cluster-info.yaml");
    let info = info.to_str().unwrap();
    let (code, out, _) = moto
        .tool_in(dir.path(), &["push", "--cluster-info", info, "--tag", "suite=owned", "--apply", "--format", "json"]);
    assert_eq!(code, 0, "owned is not a failure\n{out}");
    let json: Value = serde_json::from_str(&out).unwrap();
    let owners: Vec<(String, String)> = json["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            let kind = i["owner"]["kind"].as_str().unwrap_or("-").to_string();
            (i["templateName"].as_str().unwrap().to_string(), format!("{} {kind}", i["action"].as_str().unwrap()))
        })
        .collect();
    let expect = [
        ("cfn-web", "owned cloudformation"),
        ("eks-6cc5d0a8-1b2c-4d3e-9f00-0123456789ab", "owned eks"),
        ("eksctl-prod-nodegroup-ng1", "owned eksctl"),
        ("karpenter.k8s.aws/12345678901234567890", "owned karpenter"),
        ("mine", "create -"),
        ("tf-default-tags", "owned terraform"),
        ("tf-web", "owned terraform"),
    ];
    assert_eq!(owners, expect.map(|(a, b)| (a.to_string(), b.to_string())), "{out}");
    for (name, _) in &expect[..] {
        let want = if *name == "mine" { 2 } else { 1 };
        assert_eq!(moto.versions(name), want, "{name}");
    }
    // The plan says who owns each and what to do instead.
    let (_, text, _) = moto.tool_in(dir.path(), &["push", "--cluster-info", info, "--tag", "suite=owned"]);
    for needle in [
        "owned by CloudFormation (tag aws:cloudformation:stack-name=web-nodes): CloudFormation stack web-nodes resource NodeLaunchTemplate",
        "owned by eksctl (tag alpha.eksctl.io/cluster-name=prod): eksctl made this template for node group ng1",
        "owned by Karpenter (tag karpenter.k8s.aws/ec2nodeclass=default)",
        "`eks-userdata karpenter migrate`",
        "owned by EKS (tag eks:nodegroup-name=ng-managed): EKS made this template for managed node group prod/ng-managed",
        "owned by Terraform (tag ManagedBy=terraform)",
        "owned by Terraform (tag Stack=platform)",
        "0 to create, 0 to update, 1 unchanged, 0 skipped, 6 owned, 0 errors",
    ] {
        assert!(text.contains(needle), "{needle}\n{text}");
    }
    // Without the project's config, the default-tags template is the user's.
    let (_, text, _) = moto.tool(&["push", "--cluster-info", info, "--name", "tf-default-tags"]);
    assert!(text.contains("1 to create"), "{text}");

    let (code, out, _) = moto
        .tool_in(dir.path(), &["push", "--cluster-info", info, "--tag", "suite=owned", "--include-owned", "--apply"]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains(
            "warning: owned by Karpenter (tag karpenter.k8s.aws/ec2nodeclass=default), pushed anyway (--include-owned)"
        ),
        "{out}"
    );
    assert!(out.contains("6 to create, 0 to update, 1 unchanged"), "{out}");
    assert_eq!(moto.versions("cfn-web"), 2);
}

/// Two AWS accounts, reached through roles assumed with moto's STS, in one plan: each item
/// records its account, and a saved plan applies only through credentials for that account.
#[test]
fn two_accounts_through_assume_role_in_one_plan() {
    let Some(moto) = Moto::start() else { return };
    moto.py(&["accounts"]);
    let (r1, r2) = ("arn:aws:iam::111111111111:role/migrate", "arn:aws:iam::222222222222:role/migrate");
    let info = root().join("fixtures/cluster-info.yaml");
    let dir = tempfile::tempdir().unwrap();
    let plan_path = dir.path().join("plan.json");
    let roles = dir.path().join("roles.txt");
    std::fs::write(&roles, format!("# the member accounts\n{r1}\n{r2}\n")).unwrap();
    let (code, out, err) = moto.tool(&[
        "push",
        "--cluster-info",
        info.to_str().unwrap(),
        "--assume-role-file",
        roles.to_str().unwrap(),
        "--all",
        "--set-default",
        "--plan-out",
        plan_path.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        err.contains("list 111111111111 eu-west-1") && err.contains("list 222222222222 eu-west-1"),
        "one progress display: {err}"
    );
    let table: Vec<&str> = out.lines().filter(|l| l.contains("  web-")).collect();
    assert_eq!(table.len(), 2, "one summary table over both accounts: {out}");
    assert!(
        table[0].starts_with("111111111111  eu-west-1") && table[1].starts_with("222222222222  eu-west-1"),
        "{out}"
    );
    assert!(!out.contains("web-plain"), "the default account is not in the plan: {out}");
    let plan: Value = serde_json::from_str(&std::fs::read_to_string(&plan_path).unwrap()).unwrap();
    let accounts: Vec<&str> =
        plan["items"].as_array().unwrap().iter().map(|i| i["account"].as_str().unwrap()).collect();
    assert_eq!(accounts, ["111111111111", "222222222222"]);

    // With credentials for one account only, the other account's template is refused.
    let (code, out, _) = moto.tool(&["push", "--plan", plan_path.to_str().unwrap(), "--apply", "--assume-role", r1]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains(
            "WrongAccount: planned in account 222222222222, but the credentials given reach account 111111111111"
        ),
        "{out}"
    );
    let dump = |account: &str| moto.py(&["dump", &format!("web-{account}"), account]);
    assert_eq!(dump("111111111111")["default"], 2);
    assert_eq!(dump("222222222222")["versions"].as_object().unwrap().len(), 1);

    // A fresh run over both accounts finishes the second and leaves the first as it is.
    let (code, out, _) = moto.tool(&[
        "push",
        "--cluster-info",
        info.to_str().unwrap(),
        "--assume-role",
        r1,
        "--assume-role",
        r2,
        "--all",
        "--set-default",
        "--apply",
    ]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("1 to create, 0 to update, 1 unchanged"), "{out}");
    assert_eq!(dump("222222222222")["default"], 2);
    assert_eq!(dump("111111111111")["versions"].as_object().unwrap().len(), 2);
    // The same two accounts through repeated --profile: one with keys, one a role profile
    // (`role_arn` + `source_profile`, as AWS Organizations setups write them).
    let config = dir.path().join("config");
    std::fs::write(
        &config,
        format!(
            "[profile ops]\naws_access_key_id = testing\naws_secret_access_key = testing\n\n[profile member]\nrole_arn = {r2}\nsource_profile = ops\n"
        ),
    )
    .unwrap();
    let (code, out, err) = moto.tool_with(
        root(),
        Some(&config),
        &[
            "push",
            "--cluster-info",
            info.to_str().unwrap(),
            "--profile",
            "ops",
            "--profile",
            "member",
            "--name",
            "web-*",
        ],
    );
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("123456789012  eu-west-1  ") && out.contains("  web-plain  "), "{out}");
    assert!(out.contains("222222222222  eu-west-1  ") && out.contains("  web-222222222222  "), "{out}");
    // A role that is not an ARN is refused before any call.
    let (code, _, err) = moto.tool(&["push", "--all", "--assume-role", "migrate"]);
    assert_eq!(code, 2);
    assert!(err.contains("`migrate` is not an IAM role ARN"), "{err}");
}

/// A version an earlier run left broken (this tool's description, the source's other fields
/// lost), first as the latest version and then as the default: the next run makes a good one,
/// moves the default off the broken one, and only then deletes it.
#[test]
fn an_earlier_runs_broken_version_is_replaced_then_deleted() {
    let Some(moto) = Moto::start() else { return };
    let info = root().join("fixtures/cluster-info.yaml");
    let info = info.to_str().unwrap();
    let run =
        |extra: &[&str]| moto.tool(&[&["push", "--cluster-info", info, "--name", "web-plain"][..], extra].concat());

    moto.py(&["forge", "web-plain"]);
    let (code, out, _) = run(&["--set-default"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("+ create the AL2023 version and verify it\n    + default version 1 → the new version\n    + delete version 2: an earlier run's version that fails verification"), "{out}");
    let (code, out, _) = run(&["--set-default", "--apply"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("version 3, verified, deleted 2, default"), "{out}");
    let web = moto.dump("web-plain");
    assert_eq!(web["default"], 3);
    assert_eq!(web["versions"].as_object().unwrap().keys().collect::<Vec<_>>(), ["1", "3"]);

    // Now a broken version that is the default: `$Default` is checked against the version it
    // says it was made from, converted again, and the broken default replaced before deletion.
    moto.py(&["set_default", "web-plain", "1"]);
    moto.py(&["forge", "web-plain", "default"]);
    let (code, out, _) = run(&[]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("version 4 was made by eks-userdata from version 1 but fails verification"), "{out}");
    assert!(out.contains("version 1: version 3 is the AL2023 version"), "version 3 is reused, not remade: {out}");
    assert!(out.contains("+ default version 4 → version 3") && out.contains("+ delete version 4"), "{out}");
    let (code, out, _) = run(&["--apply"]);
    assert_eq!(code, 0, "{out}");
    let web = moto.dump("web-plain");
    assert_eq!(web["default"], 3, "{out}");
    assert_eq!(web["versions"].as_object().unwrap().keys().collect::<Vec<_>>(), ["1", "3"]);
    let (_, out, _) = run(&["--set-default", "--apply"]);
    assert!(out.contains("0 to create, 0 to update, 1 unchanged"), "{out}");
}

/// A person's version after the tool's: the re-run finds the tool's version among all versions
/// (no duplicate), says the person's version is not in it, and `rollback --plan` leaves a default
/// the person set alone.
#[test]
fn later_versions_by_people_are_respected() {
    let Some(moto) = Moto::start() else { return };
    let info = root().join("fixtures/cluster-info.yaml");
    let info = info.to_str().unwrap();
    let base = ["push", "--cluster-info", info, "--name", "web-plain"];
    assert_eq!(moto.tool(&[&base[..], &["--apply"]].concat()).0, 0);
    moto.py(&["bump", "web-plain"]);
    let plan_file = tempfile::NamedTempFile::new().unwrap();
    let plan_path = plan_file.path().to_str().unwrap();
    let (code, out, _) = moto.tool(&[&base[..], &["--set-default", "--plan-out", plan_path]].concat());
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("version 2 is the AL2023 version; left to do: default version 1 → version 2"), "{out}");
    assert!(out.contains("version 3 is newer than version 1 and was not made by eks-userdata"), "{out}");
    let (code, out, _) = moto.tool(&["push", "--plan", plan_path, "--apply"]);
    assert_eq!(code, 0, "{out}");
    assert_eq!((moto.dump("web-plain")["default"].clone(), moto.versions("web-plain")), (2.into(), 3));
    // The person makes their version the default; rollback from the plan leaves it.
    moto.py(&["set_default", "web-plain", "3"]);
    let (code, out, _) = moto.tool(&["rollback", "--plan", plan_path]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("skip: the default version 3 was not set by eks-userdata"), "{out}");
    assert_eq!(moto.dump("web-plain")["default"], 3);
    // A repeated --region is one region: one version, not two.
    moto.py(&["set_default", "web-plain", "1"]);
    let (code, out, _) = moto.tool(&[&base[..], &["--region", "eu-west-1", "--region", "eu-west-1"]].concat());
    assert_eq!(code, 0, "{out}");
    assert_eq!(out.matches("web-plain  1").count(), 1, "{out}");
}
