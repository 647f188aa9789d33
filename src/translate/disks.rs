//! Disk commands (issue #4; docs §4): instance-store setups become `instance.localStorage`,
//! data volumes over node state become the safe script of `datavol.rs`, wipes of node state go,
//! and workload disks are kept with what localStorage would do instead.

use super::DataVolumeStyle;
use super::codes;
use super::context::Ctx;
use super::datavol;
use crate::al2::analysis;
use crate::nodeconfig::types::{DisabledMount, LocalStorageStrategy, NodeConfig};
use crate::userdata::mime_write::OutPart;

/// Handles the script's disk commands; returns the commands the output replaces.
pub(super) fn disks(
    cx: &mut Ctx,
    pi: usize,
    a: &analysis::Analysis,
    out: &mut Vec<OutPart>,
    nc: &mut NodeConfig,
) -> Vec<usize> {
    use crate::al2::analysis::{DiskOp, STATE_DIRS};
    let mut replaced = Vec::new();
    let text = cx.text.clone();
    let line_of = |c: usize| {
        let at = a.script.commands.get(c).map_or(0, |cmd| cmd.span.0);
        text.bytes().take(at).filter(|&b| b == b'\n').count() + 1
    };
    for op in &a.disk_ops {
        let Some(cmd) = a.script.commands.get(op.command()) else { continue };
        match op {
            DiskOp::Mount { device, target, .. }
                if STATE_DIRS.contains(&target.as_str()) && !is_instance_store(device) && !static_device(device) =>
            {
                cx.push(
                    &codes::RUNTIME_VALUE,
                    pi,
                    cmd.span,
                    format!("`{device}` is mounted over {target}, but the device is only known at boot, so no safe data-volume script replaces it; kept (on AL2023 this hides the cached pause image)"),
                    Some("give the device as a fixed path or an EBS volume id, or copy the directory's contents onto the volume before mounting".into()),
                );
            }
            DiskOp::Mount { command, device, target }
                if STATE_DIRS.contains(&target.as_str()) && !is_instance_store(device) && static_device(device) =>
            {
                let real = if target == "/var/lib/docker" { "/var/lib/containerd" } else { target.as_str() };
                let mkfs: Vec<(usize, Option<String>)> = a
                    .disk_ops
                    .iter()
                    .filter_map(|o| match o {
                        DiskOp::Mkfs { command, device: d, fstype } if d == device => Some((*command, fstype.clone())),
                        _ => None,
                    })
                    .collect();
                let fstab: Vec<usize> = a
                    .disk_ops
                    .iter()
                    .filter_map(|o| match o {
                        DiskOp::Fstab { command, line }
                            if line.contains(device.as_str()) || line.contains(target.as_str()) =>
                        {
                            Some(*command)
                        }
                        _ => None,
                    })
                    .collect();
                let mut v = datavol::DataVolume::new(&volume_id(device).unwrap_or_else(|| device.clone()), real);
                if let Some(fs) = mkfs.iter().find_map(|(_, f)| f.clone()) {
                    v.fstype = fs;
                }
                cx.data_volumes.push(v.clone());
                out.push(match cx.opts.data_volume {
                    DataVolumeStyle::Script => OutPart::text("text/x-shellscript", datavol::script(&v)),
                    DataVolumeStyle::CloudConfig => OutPart::text("text/cloud-config", datavol::cloud_config(&v)),
                });
                let mut lines: Vec<String> =
                    mkfs.iter().map(|(c, _)| format!("mkfs at line {}", line_of(*c))).collect();
                lines.push(format!("mount at line {}", line_of(*command)));
                lines.extend(fstab.iter().map(|c| format!("fstab entry at line {}", line_of(*c))));
                let docker = if real != target {
                    "; it was for Docker, so it is mounted on /var/lib/containerd now"
                } else {
                    ""
                };
                cx.push(
                    &codes::DATA_VOLUME,
                    pi,
                    cmd.span,
                    format!(
                        "the setup of {device} for {target} ({}) is replaced by a safe data-volume script part{docker}",
                        lines.join(", ")
                    ),
                    Some(
                        "review the generated part; it formats only a blank device and keeps the cached pause image"
                            .into(),
                    ),
                );
                replaced.push(*command);
                replaced.extend(mkfs.iter().map(|(c, _)| *c));
                replaced.extend(fstab);
            }
            DiskOp::Mkfs { command, device, .. }
                if !replaced.contains(command) && !is_instance_store(device) && !in_loop(a, *command, device) =>
            {
                let state_mount = a.disk_ops.iter().any(|o| matches!(o, DiskOp::Mount { device: d, target, .. } if d == device && STATE_DIRS.contains(&target.as_str())));
                let guarded = !cmd.unconditional();
                if !state_mount && !guarded {
                    cx.push(
                        &codes::UNSAFE_MKFS,
                        pi,
                        cmd.span,
                        format!("`mkfs` on {device} runs without checking for an existing filesystem; kept"),
                        None,
                    );
                }
            }
            DiskOp::SetupLocalDisks { command, mode, dir, options } => {
                let span = cmd.span;
                let strategy = match mode.as_str() {
                    "raid0" => Some(LocalStorageStrategy::Raid0),
                    "raid10" => Some(LocalStorageStrategy::Raid10),
                    "mount" => Some(LocalStorageStrategy::Mount),
                    _ => None,
                };
                let unsupported: Vec<&String> = options
                    .iter()
                    .filter(|o| {
                        !matches!(o.as_str(), "--no-bind-containerd" | "--no-bind-pods-logs" | "--no-bind-soci")
                    })
                    .collect();
                match strategy {
                    Some(st) if unsupported.is_empty() => {
                        let ls = &mut nc.spec.instance.local_storage;
                        ls.strategy = Some(st);
                        if let Some(d) = dir {
                            ls.mount_path = d.clone();
                        }
                        for o in options {
                            ls.disabled_mounts.push(match o.as_str() {
                                "--no-bind-containerd" => DisabledMount::Containerd,
                                "--no-bind-pods-logs" => DisabledMount::PodLogs,
                                _ => DisabledMount::Soci,
                            });
                        }
                        let at = dir.as_ref().map(|d| format!(", mountPath {d}")).unwrap_or_default();
                        cx.push(&codes::LOCAL_STORAGE, pi, span, format!("`setup-local-disks {mode}` → spec.instance.localStorage (strategy {mode}{at}); nodeadm runs it"), None);
                        replaced.push(*command);
                    }
                    _ => {
                        let opts: Vec<&str> = unsupported.iter().map(|s| s.as_str()).collect();
                        cx.push(
                            &codes::LOCAL_DISK_SCRIPT,
                            pi,
                            span,
                            format!(
                                "`setup-local-disks {mode} {}` has a mode or options localStorage cannot express; kept",
                                opts.join(" ")
                            ),
                            None,
                        )
                    }
                }
            }
            DiskOp::Raid { command, device, level } => {
                let span = cmd.span;
                let for_state = a.disk_ops.iter().any(|o| match o {
                    DiskOp::Mount { device: d, target, .. } => d == device && STATE_DIRS.contains(&target.as_str()),
                    DiskOp::Fstab { line, .. } => {
                        line.contains(device.as_str()) && STATE_DIRS.iter().any(|s| line.contains(s))
                    }
                    _ => false,
                });
                let strategy = match level.as_str() {
                    "0" => Some(LocalStorageStrategy::Raid0),
                    "10" => Some(LocalStorageStrategy::Raid10),
                    _ => None,
                };
                match (for_state, strategy) {
                    (true, Some(st)) => {
                        nc.spec.instance.local_storage.strategy = Some(st);
                        let related: Vec<usize> = a
                            .disk_ops
                            .iter()
                            .filter_map(|o| match o {
                                DiskOp::Mkfs { command, device: d, .. } | DiskOp::Mount { command, device: d, .. } if d == device => Some(*command),
                                DiskOp::Fstab { command, line } if line.contains(device.as_str()) => Some(*command),
                                _ => None,
                            })
                            .collect();
                        cx.push(
                            &codes::LOCAL_STORAGE,
                            pi,
                            span,
                            format!("a RAID{level} over instance store ({device}) for the node's state → spec.instance.localStorage; the mdadm, mkfs and mount commands are replaced"),
                            None,
                        );
                        replaced.push(*command);
                        replaced.extend(related);
                    }
                    _ => cx.push(
                        &codes::LOCAL_DISK_SCRIPT,
                        pi,
                        span,
                        format!("a RAID{level} ({device}) for a mount point of the workload's own; kept (localStorage mounts its array at <mountPath>/0)"),
                        None,
                    ),
                }
            }
            DiskOp::Mkfs { command, device, .. } if in_loop(a, *command, device) => {
                cx.push(
                    &codes::LOCAL_DISK_SCRIPT,
                    pi,
                    cmd.span,
                    format!("a loop formats every disk it finds ({device}) and mounts each for the workload; kept (localStorage strategy Mount mounts each instance-store disk at <mountPath>/1..N)"),
                    None,
                );
            }
            DiskOp::Wipe { command, path }
                if path.starts_with("/var/lib/containerd") || path.starts_with("/var/lib/kubelet") =>
            {
                cx.push(
                    &codes::WIPE_STATE,
                    pi,
                    cmd.span,
                    format!("`rm -rf {path}` would delete the AMI's cached pause image and node state; removed"),
                    None,
                );
                replaced.push(*command);
            }
            _ => {}
        }
    }
    replaced.sort();
    replaced.dedup();
    replaced
}

/// A `mkfs` of a device found at run time inside a `for` loop: a per-disk format loop.
pub(super) fn in_loop(a: &analysis::Analysis, command: usize, device: &str) -> bool {
    device.contains('$')
        && a.script.commands.get(command).is_some_and(|c| c.branch.iter().any(|b| b.starts_with("for ")))
}

/// A device path known before boot (no shell expansion left in it).
pub(super) fn static_device(device: &str) -> bool {
    device.starts_with("/dev/") && !device.contains(['$', '`', '*'])
}

/// `vol-0123…` from an NVMe by-id link such as
/// `/dev/disk/by-id/nvme-Amazon_Elastic_Block_Store_vol0123…`.
pub(super) fn volume_id(device: &str) -> Option<String> {
    let at = device.find("Amazon_Elastic_Block_Store_vol")? + "Amazon_Elastic_Block_Store_".len();
    let id: String = device.get(at + 3..)?.chars().take_while(|c| c.is_ascii_hexdigit()).collect();
    (!id.is_empty()).then(|| format!("vol-{id}"))
}

pub(super) fn is_instance_store(device: &str) -> bool {
    device.starts_with("/dev/md") || device.contains("Instance_Storage")
}
