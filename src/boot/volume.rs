//! Data volumes at boot, the safe way (the disks issue, docs §4): wait for the device, by name or
//! by EBS volume id (on Nitro an EBS volume is an NVMe device whose serial is the id without its
//! dash, linked as `/dev/disk/by-id/nvme-Amazon_Elastic_Block_Store_vol…`); format it only if it
//! holds no signature at all; copy what the target directory already holds onto a fresh
//! filesystem first (the AMI's cached pause image lives under /var/lib/containerd, #2122); mount
//! by UUID with `nofail` in fstab. Running it again changes nothing. The filesystem tools
//! (`blkid`, `mkfs`, `mount`, `cp`) are the system's, as in the script `convert` writes.

use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Volume {
    /// `/dev/xvdb`, `/dev/nvme1n1`, or an EBS volume id `vol-0123…`.
    pub device: String,
    /// The directory the volume takes over, e.g. `/var/lib/containerd`.
    pub target: String,
    #[serde(default = "default_fstype")]
    pub fstype: String,
    #[serde(default = "default_wait")]
    pub wait_seconds: u64,
}

fn default_fstype() -> String {
    "xfs".into()
}

fn default_wait() -> u64 {
    120
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum VolumeError {
    #[error("device {0} did not appear within {1}s")]
    NoDevice(String, u64),
    #[error("{0} has data but no filesystem (a partition table?); refusing to format it")]
    NotBlank(String),
    #[error("{0} is already a mount point of another device; not mounting {1} over it")]
    Occupied(String, String),
    #[error("`{0}` failed: {1}")]
    Tool(String, String),
}

fn run(cmd: &str, args: &[&str]) -> Result<String, VolumeError> {
    let out = Command::new(cmd).args(args).output().map_err(|e| VolumeError::Tool(cmd.into(), e.to_string()))?;
    if !out.status.success() {
        return Err(VolumeError::Tool(
            format!("{cmd} {}", args.join(" ")),
            String::from_utf8_lossy(&out.stderr).trim().to_string(),
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

fn find(device: &str, by_id: &Path) -> Option<PathBuf> {
    let p = Path::new(device);
    if p.exists() {
        return std::fs::canonicalize(p).ok();
    }
    let id = device.strip_prefix("vol-")?;
    let prefix = format!("nvme-Amazon_Elastic_Block_Store_vol{id}");
    std::fs::read_dir(by_id)
        .ok()?
        .flatten()
        .find(|e| e.file_name().to_string_lossy().starts_with(&prefix))
        .and_then(|e| std::fs::canonicalize(e.path()).ok())
}

/// What happened, for the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Done {
    AlreadyMounted,
    Mounted { formatted: bool, copied: bool },
}

/// Sets up one volume. `fstab` and `by_id` are parameters so tests can point them elsewhere.
pub fn setup(v: &Volume, fstab: &Path, by_id: &Path) -> Result<Done, VolumeError> {
    let deadline = Instant::now() + Duration::from_secs(v.wait_seconds);
    let dev = loop {
        if let Some(d) = find(&v.device, by_id) {
            break d;
        }
        if Instant::now() >= deadline {
            return Err(VolumeError::NoDevice(v.device.clone(), v.wait_seconds));
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    let dev_s = dev.to_string_lossy().into_owned();
    // `blkid -p` exits 2 when it finds nothing at all: that, and only that, is a blank device.
    let probe = Command::new("blkid")
        .args(["-p", "-o", "export", &dev_s])
        .output()
        .map_err(|e| VolumeError::Tool("blkid".into(), e.to_string()))?;
    let signatures = String::from_utf8_lossy(&probe.stdout).into_owned();
    let mut fs = signatures.lines().find_map(|l| l.strip_prefix("TYPE=")).map(str::to_string);
    let mut formatted = false;
    if signatures.trim().is_empty() {
        run("mkfs", &["-t", &v.fstype, &dev_s])?;
        fs = Some(v.fstype.clone());
        formatted = true;
    }
    let Some(fs) = fs else { return Err(VolumeError::NotBlank(dev_s)) };
    let uuid = run("blkid", &["-p", "-o", "value", "-s", "UUID", &dev_s])?.trim().to_string();
    if uuid.is_empty() {
        return Err(VolumeError::Tool("blkid".into(), format!("{dev_s} has no filesystem UUID")));
    }
    std::fs::create_dir_all(&v.target).map_err(|e| VolumeError::Tool("mkdir".into(), e.to_string()))?;
    if Command::new("mountpoint").args(["-q", &v.target]).status().is_ok_and(|s| s.success()) {
        let source = run("findmnt", &["-rn", "-o", "SOURCE", "--target", &v.target]).unwrap_or_default();
        let mounted_uuid = run("findmnt", &["-rn", "-o", "UUID", "--target", &v.target]).unwrap_or_default();
        if source.trim() == dev_s || mounted_uuid.trim() == uuid {
            return Ok(Done::AlreadyMounted);
        }
        return Err(VolumeError::Occupied(v.target.clone(), dev_s));
    }
    // Copy what the directory holds onto a fresh filesystem before hiding it under the mount.
    let staging = std::env::temp_dir().join(format!("eks-userdata-volume.{}", std::process::id()));
    std::fs::create_dir_all(&staging).map_err(|e| VolumeError::Tool("mkdir".into(), e.to_string()))?;
    let staging_s = staging.to_string_lossy().into_owned();
    run("mount", &["-t", &fs, &dev_s, &staging_s])?;
    let empty_fs =
        std::fs::read_dir(&staging).map(|d| d.flatten().all(|e| e.file_name() == "lost+found")).unwrap_or(false);
    let has_content = std::fs::read_dir(&v.target).map(|mut d| d.next().is_some()).unwrap_or(false);
    let copied = empty_fs && has_content;
    let copy = if copied {
        run("cp", &["-a", &format!("{}/.", v.target), &format!("{staging_s}/")]).map(|_| ())
    } else {
        Ok(())
    };
    let unmounted = run("umount", &[&staging_s]);
    let _ = std::fs::remove_dir(&staging);
    copy?;
    unmounted?;
    let line = format!("UUID={uuid} {} {fs} defaults,nofail,x-systemd.device-timeout=30s 0 2\n", v.target);
    let current = std::fs::read_to_string(fstab).unwrap_or_default();
    if !current.lines().any(|l| l.starts_with(&format!("UUID={uuid} "))) {
        if let Some(dir) = fstab.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        let mut next = current;
        if !next.is_empty() && !next.ends_with('\n') {
            next.push('\n');
        }
        next.push_str(&line);
        super::dropin::write(fstab, &next).map_err(|e| VolumeError::Tool("fstab".into(), e.to_string()))?;
    }
    run("mount", &["-t", &fs, &dev_s, &v.target])?;
    Ok(Done::Mounted { formatted, copied })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_ebs_volumes_by_nvme_serial_and_gives_up_in_time() {
        let dir = tempfile::tempdir().unwrap();
        let dev = dir.path().join("nvme1n1");
        std::fs::write(&dev, "").unwrap();
        std::os::unix::fs::symlink(&dev, dir.path().join("nvme-Amazon_Elastic_Block_Store_vol0123456789abcdef0"))
            .unwrap();
        assert_eq!(find("vol-0123456789abcdef0", dir.path()), Some(std::fs::canonicalize(&dev).unwrap()));
        assert_eq!(find("vol-0fffffffffffffff0", dir.path()), None);
        let v =
            Volume { device: "/dev/does-not-exist".into(), target: "/x".into(), fstype: "xfs".into(), wait_seconds: 0 };
        assert_eq!(
            setup(&v, &dir.path().join("fstab"), dir.path()),
            Err(VolumeError::NoDevice("/dev/does-not-exist".into(), 0))
        );
    }
}
