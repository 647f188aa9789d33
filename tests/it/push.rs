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

struct Moto {
    child: Child,
    url: String,
    setup: Value,
}

impl Moto {
    /// The server with the fixtures made, or `None` (after saying so) on a machine without
    /// moto. Under CI (`CI` set, as `.ci/run` does) a missing moto is a failure, never a skip.
    fn start() -> Option<Moto> {
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

    fn env(&self, cmd: &mut Command) {
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

    fn py(&self, args: &[&str]) -> Value {
        let mut cmd = Command::new("python3");
        cmd.arg(root().join("tests/moto/fixture.py")).args(args);
        self.env(&mut cmd);
        let out = cmd.output().unwrap();
        assert!(out.status.success(), "fixture.py {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        serde_json::from_slice(&out.stdout).unwrap_or(Value::Null)
    }

    fn tool(&self, args: &[&str]) -> (i32, String, String) {
        let mut cmd = bin();
        cmd.args(args);
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
    let (code, out, _) = moto
        .tool(&[&["push", "--cluster-info", info, "--hop-limit", "2", "--plan-out", plan_path][..], &PAIR].concat());
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("-/etc/eks/bootstrap.sh orders-prod \\") && out.contains("+kind: NodeConfig"), "{out}");
    assert!(out.contains("MetadataOptions.HttpPutResponseHopLimit: 1 → 2"), "{out}");
    assert!(out.contains("2 to create, 0 unchanged, 0 skipped, 0 errors. Nothing was written"), "{out}");
    assert_eq!(moto.dump("web-plain")["versions"].as_object().unwrap().len(), 1);
    let plan: Value = serde_json::from_str(&std::fs::read_to_string(plan_path).unwrap()).unwrap();
    assert_eq!(plan["format"], "eks-userdata/push-plan/v1");
    assert_eq!(plan["items"].as_array().unwrap().len(), 2);

    // Apply exactly that plan and make the new versions the default.
    let (code, out, _) = moto.tool(&["push", "--plan", plan_path, "--apply", "--set-default"]);
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
    assert!(out.contains("= eu-west-1 ") && out.contains("(blank) version 1: no user data"), "{out}");
    assert!(out.contains("(broken) version 1: the user data cannot be translated without review"), "{out}");
    assert!(out.contains("error CV405"), "the reason is shown: {out}");
    assert!(out.contains("(modern) version 1: already AL2023 user data"), "{out}");
    assert!(out.contains("2 to create, 1 unchanged, 1 skipped, 1 errors; 2 created and verified."), "{out}");
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
