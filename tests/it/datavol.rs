//! The generated data-volume script, run for real as root: a loop device on a sparse file,
//! inside a private mount namespace (`unshare -m`), with a stand-in target directory holding a
//! marker file (the cached pause image in real life). Skipped, with the reason printed, where
//! the machine cannot do that (not root, no losetup/unshare/mkfs.xfs).

use eks_userdata::translate::datavol::{DataVolume, script};
use std::path::Path;
use std::process::Command;

fn have(cmd: &str) -> bool {
    Command::new("sh").args(["-c", &format!("command -v {cmd}")]).output().is_ok_and(|o| o.status.success())
}

pub(crate) fn can_run() -> Result<(), String> {
    let uid = Command::new("id").arg("-u").output().map_err(|e| e.to_string())?;
    if String::from_utf8_lossy(&uid.stdout).trim() != "0" {
        return Err("not root".into());
    }
    for c in ["losetup", "unshare", "mkfs.xfs", "mkfs.ext4", "blkid", "findmnt", "mountpoint"] {
        if !have(c) {
            return Err(format!("{c} is not installed"));
        }
    }
    let probe = Command::new("unshare").args(["-m", "true"]).status().map_err(|e| e.to_string())?;
    if !probe.success() {
        return Err("unshare -m is not permitted".into());
    }
    Ok(())
}

/// A loop device on a sparse file, detached on drop.
pub(crate) struct Loop(pub(crate) String);

impl Loop {
    pub(crate) fn new(dir: &Path, name: &str, size: &str) -> Loop {
        let img = dir.join(name);
        assert!(Command::new("truncate").args(["-s", size, img.to_str().unwrap()]).status().unwrap().success());
        let out = Command::new("losetup").args(["-f", "--show", img.to_str().unwrap()]).output().unwrap();
        assert!(out.status.success(), "losetup: {}", String::from_utf8_lossy(&out.stderr));
        Loop(String::from_utf8(out.stdout).unwrap().trim().to_string())
    }
}

impl Drop for Loop {
    fn drop(&mut self) {
        let _ = Command::new("losetup").args(["-d", &self.0]).status();
    }
}

/// Runs `body` (a bash snippet) in a private mount namespace; returns (status, stdout, stderr).
pub(crate) fn in_namespace(body: &str) -> (i32, String, String) {
    let out = Command::new("unshare").args(["-m", "--propagation", "private", "bash", "-c", body]).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn setup(dir: &Path, device: &str) -> (String, String) {
    let target = dir.join("var-lib-containerd");
    std::fs::create_dir_all(target.join("io.containerd.content.v1.content")).unwrap();
    std::fs::write(target.join("io.containerd.content.v1.content/pause-marker"), "cached pause image").unwrap();
    let mut v = DataVolume::new(device, target.to_str().unwrap());
    v.fstab = dir.join("fstab").to_str().unwrap().to_string();
    v.wait_seconds = 3;
    let path = dir.join("datavol.sh");
    std::fs::write(&path, script(&v)).unwrap();
    (path.to_str().unwrap().to_string(), target.to_str().unwrap().to_string())
}

#[test]
fn formats_a_blank_volume_once_and_keeps_the_cached_contents() {
    if let Err(why) = can_run() {
        eprintln!("skipped: loop-device test needs root, losetup, unshare and mkfs: {why}");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let dev = Loop::new(dir.path(), "blank.img", "320M");
    let (s, target) = setup(dir.path(), &dev.0);
    let (code, out, err) = in_namespace(&format!(
        "bash {s} && bash {s} && cat {target}/io.containerd.content.v1.content/pause-marker && findmnt -rn -o SOURCE,FSTYPE --target {target}"
    ));
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("formatting blank") && err.contains("copying the existing contents"), "{err}");
    assert!(err.contains("is already on"), "the second run does nothing: {err}");
    assert!(out.contains("cached pause image"), "{out}");
    assert!(out.contains(&format!("{} xfs", dev.0)), "{out}");
    let fstab = std::fs::read_to_string(dir.path().join("fstab")).unwrap();
    assert_eq!(fstab.lines().count(), 1, "one fstab entry: {fstab}");
    assert!(fstab.starts_with("UUID=") && fstab.contains("nofail"), "{fstab}");
    // A reboot: a new namespace, the filesystem is there, it is mounted again, not reformatted.
    let (code, out, err) =
        in_namespace(&format!("bash {s} && cat {target}/io.containerd.content.v1.content/pause-marker"));
    assert_eq!(code, 0, "{err}");
    assert!(!err.contains("formatting") && !err.contains("copying"), "{err}");
    assert!(out.contains("cached pause image"));
    assert_eq!(
        std::fs::read_to_string(dir.path().join("fstab")).unwrap().lines().count(),
        1,
        "no duplicate fstab entry"
    );
}

#[test]
fn never_reformats_a_volume_that_has_a_filesystem() {
    if let Err(why) = can_run() {
        eprintln!("skipped: loop-device test needs root, losetup, unshare and mkfs: {why}");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let dev = Loop::new(dir.path(), "used.img", "64M");
    assert!(Command::new("mkfs.ext4").args(["-q", &dev.0]).status().unwrap().success());
    let (code, _, err) =
        in_namespace(&format!("m=$(mktemp -d) && mount {d} $m && echo precious > $m/data.txt && umount $m", d = dev.0));
    assert_eq!(code, 0, "{err}");
    let (s, target) = setup(dir.path(), &dev.0);
    let (code, out, err) = in_namespace(&format!("bash {s} && cat {target}/data.txt && ls {target}"));
    assert_eq!(code, 0, "{err}");
    assert!(!err.contains("formatting"), "{err}");
    assert!(out.contains("precious"), "the data is still there: {out}");
    assert!(!out.contains("io.containerd.content.v1.content"), "nothing is copied onto a volume that has data: {out}");
}

#[test]
fn refuses_a_volume_with_a_partition_table_and_a_missing_device() {
    if let Err(why) = can_run() {
        eprintln!("skipped: loop-device test needs root, losetup, unshare and mkfs: {why}");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    // An MBR with one partition entry and the 55AA signature: data that is not a filesystem.
    let img = dir.path().join("parted.img");
    let mut bytes = vec![0u8; 1024 * 1024];
    bytes[446 + 4] = 0x83;
    bytes[446 + 8..446 + 12].copy_from_slice(&2048u32.to_le_bytes());
    bytes[446 + 12..446 + 16].copy_from_slice(&1024u32.to_le_bytes());
    bytes[510] = 0x55;
    bytes[511] = 0xaa;
    std::fs::write(&img, &bytes).unwrap();
    assert!(Command::new("truncate").args(["-s", "64M", img.to_str().unwrap()]).status().unwrap().success());
    let out = Command::new("losetup").args(["-f", "--show", img.to_str().unwrap()]).output().unwrap();
    let dev = Loop(String::from_utf8(out.stdout).unwrap().trim().to_string());
    let (s, _) = setup(dir.path(), &dev.0);
    let (code, _, err) = in_namespace(&format!("bash {s}"));
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("refusing to format"), "{err}");
    let (s, _) = setup(dir.path(), "/dev/eks-userdata-no-such-device");
    let (code, _, err) = in_namespace(&format!("bash {s}"));
    assert_eq!(code, 1);
    assert!(err.contains("did not appear within 3 seconds"), "{err}");
}

#[test]
fn cloud_config_variant_binds_after_copying() {
    if let Err(why) = can_run() {
        eprintln!("skipped: loop-device test needs root, losetup, unshare and mkfs: {why}");
        return;
    }
    use eks_userdata::translate::datavol::bind_snippet;
    let dir = tempfile::tempdir().unwrap();
    let dev = Loop::new(dir.path(), "cc.img", "320M");
    let (_, target) = setup(dir.path(), &dev.0);
    let staging = dir.path().join("staging");
    let mut v = DataVolume::new(&dev.0, &target);
    v.fstab = dir.path().join("fstab").to_str().unwrap().to_string();
    v.staging = Some(staging.to_str().unwrap().to_string());
    let snippet = dir.path().join("runcmd.sh");
    std::fs::write(&snippet, bind_snippet(&v)).unwrap();
    let st = staging.to_str().unwrap();
    // What cloud-init's fs_setup and mounts do first, then runcmd twice (a re-run).
    let (code, out, err) = in_namespace(&format!(
        "mkfs.xfs -q {d} && mkdir -p {st} && mount {d} {st} && sh {s} && sh {s} && cat {target}/io.containerd.content.v1.content/pause-marker && findmnt -rn -o SOURCE --target {target}",
        d = dev.0,
        s = snippet.to_str().unwrap()
    ));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("cached pause image"), "{out}");
    assert!(out.contains(&dev.0), "the target is now on the volume: {out}");
    let fstab = std::fs::read_to_string(dir.path().join("fstab")).unwrap();
    assert_eq!(fstab.lines().count(), 1, "{fstab}");
    assert!(fstab.contains("none bind,nofail"), "{fstab}");
    // Without the staging mount (the volume never attached), runcmd says so and leaves the target.
    let (code, _, err) = in_namespace(&format!("sh {}", snippet.to_str().unwrap()));
    assert_eq!(code, 1);
    assert!(err.contains("is not mounted"), "{err}");
}
