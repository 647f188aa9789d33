//! Codes of the migration report, one place for their metadata (like the lint registry). Every
//! construct `convert` finds gets one entry with one of these codes.

use crate::diagnostic::RuleMeta;
use crate::diagnostic::Severity;

/// One report code's metadata as a constant (also used by `karpenter::codes`).
macro_rules! code {
    ($id:ident, $code:literal, $name:literal, $sev:ident, $summary:literal, $expl:literal) => {
        pub const $id: RuleMeta =
            RuleMeta { code: $code, name: $name, severity: Severity::$sev, summary: $summary, explanation: $expl };
    };
}
pub(crate) use code;

code!(
    TRANSLATED,
    "CV401",
    "translated",
    Info,
    "an AL2 setting became a NodeConfig field",
    "The flag, environment variable or kubelet flag has an exact AL2023 equivalent and was written to the NodeConfig field the entry names (docs §5.1, §6.1).\n\nFix: nothing to do; review the field if you want to."
);
code!(
    KEPT_FLAG,
    "CV402",
    "kept-kubelet-flag",
    Info,
    "a kubelet flag stays a flag",
    "The kubelet flag has no KubeletConfiguration field (`--node-labels`, `--cert-dir`, …) so it is kept in `spec.kubelet.flags`, unquoted (nodeadm passes flags verbatim, and systemd splits them at whitespace and removes their quotes, docs §6.2).\n\nFix: nothing to do."
);
code!(
    DROPPED,
    "CV403",
    "dropped-no-al2023-meaning",
    Warning,
    "a bootstrap.sh flag has no meaning on AL2023",
    "Some bootstrap.sh flags configured things AL2023 no longer has or does differently: the container runtime is always containerd, there is no Docker, the pause image is cached in the AMI, nodeadm never calls DescribeCluster (so no API retries), and bpffs handling moved. The flag was dropped; the entry says why (docs §5.1).\n\nFix: nothing, unless the entry says what replaces it."
);
code!(
    NODEADM_OWNED,
    "CV404",
    "dropped-kubelet-flag",
    Warning,
    "a kubelet flag nodeadm sets itself, or one the kubelet no longer has",
    "nodeadm sets `--node-ip`, `--hostname-override`, `--cloud-provider`, `--kubeconfig`, `--config`, `providerID`, … itself; a copy appended to `kubelet.flags` would override nodeadm's value and break the node. Flags such as `--pod-infra-container-image` and `--container-runtime` are no longer registered: the kubelet would refuse to start (docs §6.1).\n\nFix: nothing; the flag is dropped."
);
code!(
    UNKNOWN,
    "CV405",
    "unknown-flag",
    Error,
    "a flag that bootstrap.sh or the kubelet does not know",
    "The flag is neither a bootstrap.sh option nor a kubelet flag (for bootstrap.sh, a `--flag=value` form is not recognised either: it becomes a positional argument). It is not guessed at; the output leaves it out and the conversion needs review.\n\nFix: find out what it was meant to do (a custom bootstrap wrapper? a typo?) and configure that in the NodeConfig by hand."
);
code!(
    RUNTIME_VALUE,
    "CV406",
    "runtime-value",
    Error,
    "a value only known at boot",
    "The value comes from a command substitution (`$(curl …)`), a variable set in a branch, or a variable never set in the script. nodeadm does not expand shell in NodeConfig, so the field carries the shell text and needs review.\n\nFix: give the static value (`--cluster-info`, or a literal in the script), or compute the setting at boot with a drop-in in `/etc/eks/nodeadm.d/` (the boot hook)."
);
code!(
    MAP_SEMANTICS,
    "CV407",
    "map-merge-semantics",
    Warning,
    "AL2023 merges a map that the AL2 flag replaced",
    "On AL2 a map flag such as `--kube-reserved` or `--eviction-hard` replaced the whole map: `--kube-reserved=cpu=250m` dropped bootstrap.sh's computed memory and ephemeral-storage reservations. As a `kubelet.config` drop-in the map is merged key by key with nodeadm's defaults, so those keys survive (docs §6.3).\n\nFix: usually nothing (the merge is what most users meant). To keep the AL2 behaviour exactly, convert with `--keep-map-semantics`, which keeps the flag in `kubelet.flags`."
);
code!(
    MISSING_CLUSTER,
    "CV408",
    "missing-cluster-value",
    Error,
    "a required cluster value is missing",
    "nodeadm requires `cluster.name`, `apiServerEndpoint`, `certificateAuthority` and `cidr` (the service CIDR) for self-managed nodes and managed node groups with a custom AMI, and never calls DescribeCluster. AL2's bootstrap.sh looked them up when flags were missing; the translator never guesses them (a wrong service CIDR breaks pod DNS).\n\nFix: pass `--cluster-info FILE` (YAML with name, apiServerEndpoint, certificateAuthority, cidr) or the flags the message names, from `aws eks describe-cluster`."
);
code!(
    BRANCHES,
    "CV409",
    "bootstrap-in-branches",
    Error,
    "bootstrap.sh is called with different arguments in different branches",
    "One static NodeConfig cannot express `if spot; then bootstrap.sh … ; else bootstrap.sh …`. The output uses the first call; the entry names the branches and the settings that differ.\n\nFix: decide per node group, or compute the differing settings at boot with a drop-in (the boot hook)."
);
code!(
    AFTER_BOOTSTRAP,
    "CV410",
    "runs-before-kubelet-now",
    Warning,
    "commands that ran after bootstrap.sh now run before kubelet starts",
    "On AL2 the commands after `bootstrap.sh` ran once kubelet was started. On AL2023 every user-data script runs before nodeadm starts containerd and kubelet (docs §3), so these commands run earlier than they used to.\n\nFix: check each one; anything that needs a running kubelet belongs in a systemd unit ordered `After=nodeadm-run.service`."
);
code!(
    PARSE_ERROR,
    "CV411",
    "script-not-parsed",
    Error,
    "a script does not parse as shell",
    "The translator reads scripts with a real shell parser. This one does not parse (or uses template syntax that was not recognised), so it was not translated; it is kept unchanged and needs review.\n\nFix: correct the syntax, or pass `--template terraform|cloudformation` if it is a template."
);
code!(
    INVALID_VALUE,
    "CV412",
    "invalid-flag-value",
    Error,
    "a kubelet flag value does not parse",
    "The value does not have the type of the flag's KubeletConfiguration field (an integer, a Go duration, `key=value` pairs, a taint `key=value:Effect`, …). The kubelet would have refused it too. It is left out and needs review.\n\nFix: correct the value."
);
code!(
    OMITTED,
    "CV413",
    "supplied-by-target",
    Info,
    "a value left out because EKS or Karpenter supplies it",
    "With `--target mng` EKS appends its own NodeConfig with the cluster section; with `--target karpenter` Karpenter appends one with the cluster section, max pods, labels and taints from the EC2NodeClass and NodePool, and its values win (docs §5.3, peers §8). Values from the AL2 script that those supply are left out and listed here.\n\nFix: make sure the node group or NodePool carries them (labels and taints in the NodePool for Karpenter)."
);
code!(
    CONTAINERD,
    "CV414",
    "containerd-config",
    Warning,
    "a containerd config file became an inline, merged config",
    "`--containerd-config-file` replaced the AMI's containerd config on AL2. On AL2023 `containerd.config` is merged over nodeadm's generated config, and it must use the config schema of the AMI's containerd (version 2 for containerd 1.7 on Kubernetes 1.28–1.29 AMIs, version 3 for containerd 2.x) (docs §5.1). When the script did not write the file, the content is unknown and the entry needs review.\n\nFix: check the merged result with `eks-userdata render`, and move to version 3 keys for current AMIs."
);
code!(
    PATCHED,
    "CV415",
    "bootstrap-sh-patch-not-replayed",
    Error,
    "an edit of /etc/eks/bootstrap.sh that cannot be replayed",
    "The script edits `/etc/eks/bootstrap.sh` (`sed -i`, `>>`, a copy over it) in a way the node model cannot replay: the sed program is outside what is modelled, or it changes lines of bootstrap.sh the model does not hold (al2-node §2; the model keeps the option parsing, the defaults, the kubelet argument lines, the drop-in writes and the kubelet start at their line numbers). What the edit did is unknown, so nothing is translated from it. On AL2023 the file is a stub, so the edit itself does nothing.\n\nFix: read the edit, work out which bootstrap.sh variable it changed, and set the equivalent NodeConfig field."
);
code!(
    NO_CALL,
    "CV416",
    "no-bootstrap-call",
    Warning,
    "no bootstrap.sh call in the input",
    "No script in the input calls `/etc/eks/bootstrap.sh`: it is a fragment (a managed node group's user data, to which EKS appends its own call; a module's pre-bootstrap input, spliced before the module's call) or user data that never joined. Whatever the call that followed it passed (labels, taints, max pods, extra arguments) is not in this input and is not translated. The parts are kept; the AL2 node is judged with a plain call after them (for `--target mng`, the one EKS appends).\n\nFix: nothing for a managed node group; for a module fragment, convert the rendered user data, or set what the module's call passed in the NodeConfig."
);
code!(
    SCRIPT_KEPT,
    "CV417",
    "script-kept",
    Info,
    "the rest of the script is kept as a shell part",
    "Everything in the script other than the bootstrap.sh call is kept, byte for byte, in a `text/x-shellscript` part; the call is replaced by `true` so `|| exit 1` and `if` blocks still parse.\n\nFix: nothing."
);

code!(
    TEMPLATE_ARGS,
    "CV418",
    "template-arguments",
    Warning,
    "a template placeholder stands for arguments",
    "A placeholder such as `${bootstrap_extra_args}` or `--kubelet-extra-args '${kubelet_extra_args}'` is filled in when the template is rendered, so what it holds cannot be translated here. Kubelet arguments from a placeholder are kept in `spec.kubelet.flags` as the placeholder text (systemd splits the flags nodeadm passes at whitespace and removes balanced quotes, so a rendered string of flags works; an unclosed quote or a backslash in it does not); bootstrap.sh arguments from a placeholder are lost on AL2023.\n\nFix: render the template and convert the result, or move the variable's content into NodeConfig fields in the Terraform/CloudFormation code."
);
code!(
    NOTHING_TO_WRITE,
    "CV419",
    "nothing-to-write",
    Info,
    "the AL2023 user data would be empty",
    "Everything the AL2 user data did is either supplied by the target (EKS for `--target mng`, Karpenter for `--target karpenter`) or has no AL2023 meaning, and no script is left. Nothing is written: the node group or node class needs no user data.\n\nFix: nothing; remove the user data from the launch template or EC2NodeClass."
);

code!(
    ENV_FILE,
    "CV420",
    "env-file-not-read",
    Warning,
    "bootstrap.sh settings written to an env file nobody reads",
    "The script writes a bootstrap.sh variable (`KUBELET_EXTRA_ARGS`, `USE_MAX_PODS`, …) into `/etc/profile.d/`, `/etc/environment` or a shell rc file, and never sources it. cloud-init runs user-data scripts in a non-login shell, so bootstrap.sh never saw these values on AL2 either, and nothing on AL2023 reads them (terraform-aws-eks#3420). They are not translated.\n\nFix: if the setting was meant to apply, pass it as a flag (or export it before the call) and convert again, or set the NodeConfig field directly."
);

code!(
    DATA_VOLUME,
    "CV421",
    "data-volume-replaced",
    Warning,
    "a hand-written data volume setup is replaced by a safe script",
    "The script formatted and mounted a volume over a directory the node keeps state in (`/var/lib/containerd`, `/var/lib/kubelet`, …). On AL2023 the AMI pre-caches the pause image under /var/lib/containerd, so mounting an empty filesystem over it makes every pod sandbox fail (amazon-eks-ami #2122), and an unconditional `mkfs` wipes a volume that already has data. The commands are replaced by a generated script part that formats only a blank device, copies the directory's contents onto a fresh filesystem before mounting over it, mounts by UUID with `nofail`, is safe to run again, and fails loudly if the device never appears. A volume meant for /var/lib/docker is mounted on /var/lib/containerd (AL2023 has no Docker).\n\nFix: review the generated part; for instance-store NVMe disks prefer `spec.instance.localStorage`."
);
code!(
    UNSAFE_MKFS,
    "CV422",
    "unconditional-mkfs",
    Warning,
    "mkfs runs without checking for an existing filesystem",
    "`mkfs` on a device that already holds a filesystem destroys its data: a reattached EBS volume, a reused instance-store disk, or a boothook that runs on every boot. The command is kept (the mount point is the workload's, not the node's), but it should check first.\n\nFix: guard it, e.g. `blkid \"$DEV\" || mkfs -t xfs \"$DEV\"`."
);
code!(
    WIPE_STATE,
    "CV423",
    "state-directory-wiped",
    Warning,
    "the script deletes a directory the node needs",
    "`rm -rf /var/lib/containerd/*` (or kubelet's state) deletes what the AL2023 AMI put there, including the cached pause image; every pod sandbox then fails (amazon-eks-ami #2122). The command is removed from the converted script.\n\nFix: nothing, unless the deletion was meant for something else."
);

code!(
    AL2_ONLY,
    "CV424",
    "al2-only-command",
    Warning,
    "a command that only works on Amazon Linux 2",
    "`amazon-linux-extras`, EPEL, 32-bit packages, Docker and its configuration, cgroup v1 kernel switches, `/etc/eks/eni-max-pods.txt` and calling `nodeadm init` by hand have no AL2023 equivalent or work differently; writing the kubeconfig or the cluster CA by hand now lands over the files nodeadm wrote from spec.cluster; eksctl's `/etc/eksctl/*` node files are not written on AL2023, so sourcing one fails. The command is kept and the entry says what AL2023 does instead.\n\nFix: rewrite the command the AL2023 way, or remove it."
);
code!(
    ORPHAN_ENV,
    "CV425",
    "orphan-bootstrap-env",
    Warning,
    "bootstrap.sh settings exported with no bootstrap.sh call",
    "The script exports `KUBELET_EXTRA_ARGS`, `USE_MAX_PODS` or another bootstrap.sh variable but never calls bootstrap.sh (typically a pre-bootstrap part whose call lived in another part, or in EKS's own part). Each part runs as its own process, so a call in another part, or EKS's own part of a managed node group, never read them: on AL2 they did nothing either. Only where the text was inlined before a call in one script (terraform-aws-eks's self-managed template puts `pre_bootstrap_user_data` there) did the call read them; nothing reads them on AL2023 (terraform-aws-eks#3420), so that setting is lost. It is not translated, because which call it was meant for is not in this input.\n\nFix: convert the user data together with the part that called bootstrap.sh, or set the NodeConfig field directly."
);

code!(
    MAX_PODS_EXPR,
    "CV426",
    "max-pods-expression",
    Warning,
    "max-pods-calculator.sh became a maxPodsExpression",
    "AL2023 has no max-pods-calculator.sh (amazon-eks-ami #1902). Its options become a CEL `spec.kubelet.maxPodsExpression` over `default_enis`, `ips_per_eni` and `max_pods` (docs §5.2): custom networking uses one ENI fewer, `--cni-max-eni` limits ENIs, prefix delegation counts 16 addresses per slot. maxPodsExpression needs AMI release v20251007 or later; older AMIs ignore it. The calculator capped prefix-delegation results at 110 on instances with 30 vCPUs or fewer; the expression cannot see vCPUs and caps at 250. nodeadm computes kubeReserved from the expression's result.\n\nFix: make sure the node group uses an AMI from v20251007 on; check the value on a node in /etc/kubernetes/kubelet/config.json."
);

code!(
    LOCAL_STORAGE,
    "CV427",
    "local-storage",
    Info,
    "instance-store disk setup became spec.instance.localStorage",
    "nodeadm sets up instance-store NVMe disks itself from `spec.instance.localStorage` (docs §4): `strategy` RAID0, RAID10 or Mount, `mountPath`, and `disabledMounts` for the bind mounts of containerd, pod logs and SOCI (kubelet's bind mount cannot be turned off). It runs in nodeadm-run, after user scripts and before containerd starts, and copies the existing contents onto the array. The AMI's `setup-local-disks` call, or a RAID over instance store mounted for the node's state, is replaced by the field.\n\nFix: nothing; check the bind mounts you need."
);
code!(
    LOCAL_DISK_SCRIPT,
    "CV428",
    "instance-store-script-kept",
    Warning,
    "an instance-store disk script for the workload is kept",
    "The script builds a RAID or formats instance-store disks for a mount point of its own (`/local1`, `/data`, …) that the workload uses, with options localStorage does not have (another mount point, filesystem or disk subset). It is kept. Note that user scripts run before nodeadm-run: if you also set localStorage, the array does not exist yet while they run (Karpenter #5981).\n\nFix: if the mount point can move, use `spec.instance.localStorage` with `mountPath` (the array is mounted at `<mountPath>/0`, each disk at `<mountPath>/1..N` in Mount mode) and point the workload there; otherwise keep the script."
);

code!(
    JQ_EDIT,
    "CV429",
    "kubelet-config-edit",
    Info,
    "an edit of kubelet-config.json became spec.kubelet.config keys",
    "On AL2 scripts edited `/etc/kubernetes/kubelet/kubelet-config.json` (jq, sed, a rewrite) to set what `--kubelet-extra-args` could not. The edit is replayed on the AMI's file in script order, bootstrap.sh's own rewrites included (al2-node §3.4: it replaces clusterDNS, evictionHard, kubeReserved, providerID, maxPods with --use-max-pods true, and the cgroup keys). Each key the edit set that the kubelet really ran with becomes a `spec.kubelet.config` key; keys bootstrap.sh overwrote afterwards are reported as dead (CV434). On AL2023 nodeadm writes `/etc/kubernetes/kubelet/config.json` itself and merges `spec.kubelet.config` over it, so the command is removed from the script (amazon-eks-ami #1988).\n\nFix: nothing; a key whose whole map the edit replaced is merged on AL2023 (see CV407)."
);

code!(
    BOOT_HOOK,
    "CV431",
    "computed-at-boot",
    Info,
    "settings that differ by instance lifecycle are computed at boot by the boot hook",
    "With `--boot-hook`, bootstrap.sh calls that differ only in max pods, node labels or taints between the spot and the on-demand branch (the lifecycle read from IMDS) no longer force one branch's values (CV409). The common settings stay in the NodeConfig; the differing ones become a boot spec, and a shell part runs `eks-userdata-boot`, which writes them to `/etc/eks/nodeadm.d/` before nodeadm-run (docs §2.3). Drop-ins need AMI v20251023 or later.\n\nFix: on an AMI older than v20251023 there is no drop-in directory, the config phase is not re-run, and `--config-source` takes a single source (docs §1.5, §3). Upgrade the AMI, or use the workaround from amazon-eks-ami #2414: a systemd drop-in for `nodeadm-run.service` whose `ExecStart` runs `nodeadm init` without `--skip config` and with `--config-source file://…` naming one file that holds the whole configuration (the user-data NodeConfig with the hook's values merged in), then `systemctl daemon-reload` from the shell part. Pin the hook's sha256 (`--boot-hook-sha256`) when it is downloaded."
);
code!(
    CLOUD_MOUNT,
    "CV430",
    "cloud-config-mount-over-state",
    Warning,
    "cloud-config mounts a volume over node state",
    "A cloud-config `mounts` entry puts a volume on /var/lib/containerd or /var/lib/kubelet (or /var/lib/docker, which nothing uses on AL2023). cloud-init mounts it without copying what the directory holds, which on AL2023 hides the AMI's cached pause image (amazon-eks-ami #2122). The entry is kept: cloud-config cannot copy before mounting.\n\nFix: drop the entry and create the volume from a shell part; `eks-userdata convert` writes a safe one for a shell script that mounts the volume."
);

code!(
    NEVER_WORKED,
    "CV432",
    "never-worked-on-al2",
    Error,
    "the AL2 node this user data configured never joined",
    "bootstrap.sh refused the call, or the script stopped before the call, so on AL2 the node never started kubelet: no cluster name (`cluster name is not defined!`), an option given last without its value (`$2: unbound variable`), `-h`/`--help`, an `--ip-family` other than ipv4/ipv6, an IPv6 service CIDR with `--ip-family ipv4`, an unknown `--local-disks` mode, a `--flag=value` taken as the cluster name, a CA that is not base64, or a command before the call that fails under `set -e` (al2-node §2.5). This entry comes first in the report because it changes how the rest reads: the AL2023 output configures the node the call describes, which is not a node that ever ran.\n\nFix: decide what the node should be, correct the input, and convert again; do not assume the AL2 fleet ran with these settings."
);

code!(
    FILE_TRANSLATED,
    "CV433",
    "node-file-translated",
    Info,
    "an edit of an AL2 node file became NodeConfig fields",
    "AL2 user data also configured the node through files: kubelet drop-ins in `/etc/systemd/system/kubelet.service.d/` (`Environment=KUBELET_EXTRA_ARGS=…`), patches of `/etc/eks/bootstrap.sh`, the containerd template `/etc/eks/containerd/containerd-config.toml`, `/etc/containerd/config.toml` and `config.d` imports, service drop-ins with proxies. The node model replays every such write in order over the AMI's files, with bootstrap.sh's own writes where it ran (al2-node §2–§4), and what the kubelet or containerd really ran with becomes the NodeConfig field the entry names. On AL2023 those paths are written by nodeadm itself or read by nothing (the path table in `al2/paths.rs` says which for each), so the command is removed from the script and its setting is carried by the NodeConfig field.\n\nFix: nothing; review the field."
);
code!(
    DEAD_ON_AL2,
    "CV434",
    "dead-on-al2",
    Warning,
    "a setting the AL2 node never ran with",
    "The user data set something that did not reach the AL2 kubelet or containerd: bootstrap.sh rewrote the key afterwards, a later drop-in or flag replaced it, systemd ignored the line (an unquoted `Environment=` keeps only its first word; a `'` inside bootstrap.sh's quoted value is trailing garbage that drops the whole assignment), the edit came after the kubelet started and nothing restarted it, code was patched into bootstrap.sh after its `systemctl start kubelet`, `kubelet.service` was edited before the call (bootstrap.sh copied its containerd unit over it), or a sed matched nothing. The AL2 node ran without it, so it is not carried over: carrying it would change the node.\n\nFix: if the setting was meant to apply, set the NodeConfig field yourself; it is a change of behaviour, so test it."
);
code!(
    NOT_REPLAYED,
    "CV435",
    "file-edit-not-replayed",
    Error,
    "an edit of a kubelet or containerd file that cannot be replayed",
    "The script writes a file the AL2 kubelet or containerd read, but what it wrote is not known before boot (a download, a value from `$(…)`, a sed or jq program outside the model). What the node ran with cannot be computed, so nothing is translated from it, and on AL2023 nothing reads that path.\n\nFix: find out what the file held on a running AL2 node and set the NodeConfig field by hand."
);

code!(
    JOIN_STATUS,
    "CV436",
    "join-status-lost",
    Error,
    "code after the call reads its exit status, which AL2023 user data does not have",
    "On AL2 `cfn-signal -e $?`, `RC=$?` or a `PIPESTATUS` check right after `bootstrap.sh` read whether the node had joined, and `bootstrap.sh … || signal-failure` ran only when it had not. On AL2023 the join happens in nodeadm-run, after every user script. With the commands kept inline (`--keep-post-bootstrap-inline`) a `$?` reads the status of the `true` that replaced the call, so a CloudFormation signal or a health check reports success for a node that may never join; a command chained to the call with `||` never runs, and one chained with `&&` runs before the join whatever its result.\n\nFix: convert without `--keep-post-bootstrap-inline` (the moved commands then run after nodeadm-run and `$?` is its result), and report a failed join from a unit ordered after nodeadm-run.service."
);

code!(
    NOT_EQUIVALENT,
    "CV437",
    "not-equivalent",
    Warning,
    "the AL2023 node differs from the AL2 node in a field no report entry explains",
    "Every conversion ends with an equivalence check: the AL2 node's effective configuration (the user data replayed over the AMI's files and bootstrap.sh, al2-node §2–§4) against the AL2023 node nodeadm builds from the output (`render`, same target and instance type, `--instance-type`, default m5.large): kubelet configuration with flags folded in, other kubelet arguments, labels, containerd settings, service environment, max pods. A difference made on purpose is explained by the report entry that made it (a nodeadm-owned flag, map-merge semantics, a value the target supplies). This entry is a difference nothing explains: a translation that lost or changed a setting. `convert --verify` exits 1 on it.\n\nFix: compare the two values the entry names and set the field the AL2 node had; if the change is what you want, keep it knowingly."
);

code!(
    TEMPLATE_BOOTSTRAP_ARGS,
    "CV438",
    "template-bootstrap-args",
    Error,
    "a template placeholder stands for bootstrap.sh arguments, which are lost",
    "A placeholder such as `${bootstrap_extra_args}` in the bootstrap.sh call is filled in when the template is rendered, so what it holds cannot be read here. Whatever flags it renders to (`--use-max-pods false`, `--kubelet-extra-args …`, `--dns-cluster-ip …`) reached bootstrap.sh on AL2 and reach nothing on AL2023: the placeholder is not carried into the NodeConfig. The conversion needs review.\n\nFix: render the template and convert the result, or move what the variable holds into NodeConfig fields in the Terraform/CloudFormation code."
);
code!(
    SET_ON_TARGET,
    "CV439",
    "set-on-node-group",
    Warning,
    "a setting the node group or NodePool must carry",
    "With `--target mng` node labels and taints come from the managed node group's `labels` and `taints` (EKS writes them into its own NodeConfig); with `--target karpenter` labels, taints, max pods and cluster DNS come from the NodePool and EC2NodeClass, and Karpenter's values win over user data (peers §8). The value is left out of the user data. EKS rejects labels under `eks.amazonaws.com/` and the kubelet refuses most `kubernetes.io`/`k8s.io` prefixes; such labels are not to be copied, and the entry says so.\n\nFix: set the value on the node group or NodePool as the entry says."
);
code!(
    CALL_IN_BRANCH,
    "CV440",
    "call-in-branch",
    Warning,
    "the only bootstrap.sh call runs inside a branch",
    "The script calls bootstrap.sh only inside `if`, `case`, a loop or a function. On AL2 a path that skipped the call left the node unjoined; the NodeConfig on AL2023 applies on every boot path, because nodeadm-run always runs.\n\nFix: check that every path of the script was meant to join; if some were not, gate nodeadm-run yourself."
);

code!(
    IMDS_V1,
    "CV441",
    "imds-without-token",
    Warning,
    "an instance metadata call without a session token (IMDSv1)",
    "AL2023 AMIs are registered with `ImdsSupport: v2.0`: instances launched from them require IMDSv2 unless the launch template sets `HttpTokens: optional`, so `curl http://169.254.169.254/latest/meta-data/…` without an `X-aws-ec2-metadata-token` header gets 401 and the script reads an error page or nothing (a spot/on-demand branch then silently takes the wrong side). A plain `curl` call is rewritten to fetch a token first (`PUT /latest/api/token`) and send it; `wget`, calls inside single quotes or templates are reported.\n\nFix: for a reported call, fetch a token and pass it as the header, or use `ec2-metadata`."
);

code!(
    TARGET_MISMATCH,
    "CV442",
    "target-mismatch",
    Warning,
    "the input says who consumes the user data, and it is not --target",
    "The host document names the consumer: an eksctl `managedNodeGroups` entry is a managed node group (`--target mng`), one with `ami:` runs a custom AMI, so EKS merges no NodeConfig and the user data must carry the cluster section (`--target mng-custom-ami`); an eksctl `nodeGroups` entry is self-managed. The conversion follows `--target`, so fields may be left out that the node needs, or written that the target supplies.\n\nFix: convert again with the target the entry names."
);

code!(
    BASH_STOPPED,
    "CV443",
    "bash-stopped",
    Error,
    "bash stops at a syntax error partway through the script",
    "bash reads and runs one complete command at a time, so at a syntax error (an unterminated quote, an `if` without `fi`) every command before the faulty one has already run and nothing from it on does; the script exits 2 (bash(1); al2-node §6.3). The translator does the same: it translates the commands that ran on AL2 and keeps the rest of the text as it is, where it stops bash the same way on AL2023. When the bootstrap.sh call comes after the error, the AL2 node never joined, and the entry comes first in the report.\n\nFix: correct the syntax; the node then runs what follows, which it never did before, so review it."
);
code!(
    OPEN_HEREDOC,
    "CV444",
    "open-heredoc",
    Warning,
    "a heredoc whose delimiter line never comes",
    "bash only warns about a here-document delimited by end-of-file and takes the rest of the script as its body, so nothing after the `<<TAG` line runs as a command: often an indented or mistyped delimiter (`<<-EOT` strips tabs, not spaces). The node ran (and will run) without those commands.\n\nFix: put the delimiter alone at the start of its line (tabs only with `<<-`)."
);
code!(
    CRLF,
    "CV445",
    "crlf-line-endings",
    Info,
    "the script has CRLF line endings, which cloud-init converts",
    "cloud-init converts a script's CRLF line endings to LF before running it when its first line ends in CRLF (`util.dos2unix`, on AL2 and AL2023 alike), so every line ran clean. The output is written with LF, which is what cloud-init ran.\n\nFix: nothing; saving scripts with LF line endings avoids the question."
);
code!(
    CRLF_MIXED,
    "CV446",
    "crlf-lines-kept",
    Error,
    "lines with CRLF endings that cloud-init did not convert",
    "cloud-init converts CRLF to LF only when the script's first line ends in CRLF (`util.dos2unix`). Here the first line ends in LF and later lines in CRLF, so the carriage returns stayed and bash read them as part of the last word of those lines (`cmd\\r: command not found`, a cluster name `c\\r`): those lines never worked as written on AL2. The output is written with LF, so on AL2023 they run as intended for the first time.\n\nFix: check those lines; save scripts with LF line endings."
);

code!(
    NO_SHEBANG,
    "CV447",
    "no-shebang",
    Warning,
    "a script part without `#!` at byte 0",
    "cloud-init writes a shell part to a file and executes it directly, with no `/bin/sh` fallback, so a part that does not start with `#!` fails with Exec format error; non-MIME user data is treated as a script only when it starts with `#!` (cloud-init `handlers`, `util.runparts`; al2-node §6.3). AL2's patched cloud-init reportedly ran such parts (hyp3#1901, viya4-iac-aws#317; unverified here); AL2023's does not. The output adds `#!/bin/bash`, so on AL2023 the part runs: if it never ran on AL2, that is new behaviour.\n\nFix: check that the part should run; start scripts with `#!` at byte 0."
);

code!(
    STRAY_DELIMITER,
    "CV448",
    "stray-delimiter",
    Warning,
    "a line in a part starts with the MIME boundary but is not a delimiter",
    "A delimiter line is `--BOUNDARY` or `--BOUNDARY--` followed only by whitespace (RFC 2046 §5.1.1; Python's `email` parser that cloud-init uses, and Go's `mime/multipart` that nodeadm uses, both require it). A line such as `--BOUNDARY--\\` (a stray character after a close delimiter) is not one: the parsers keep it in the part's body, so cloud-init wrote it into the script, where bash ran it as a command that fails (`command not found`), and the multipart had no close delimiter. The output keeps the line, so the script does the same on AL2023, and writes a proper close delimiter.\n\nFix: delete the line (or the stray character) so the part ends where it was meant to."
);

code!(
    TEMPLATE_BRANCH,
    "CV449",
    "template-branch-setting",
    Warning,
    "a setting translated from inside a template `%{ if }` (or a CloudFormation `Fn::If`) applies to every rendering",
    "Terraform's `%{ if cond }…%{ endif }` decides which lines the rendered user data has. A file edit or calculator inside such a branch configured only the AL2 nodes whose template rendered the branch. The translation puts the setting in the NodeConfig part, which has no such condition, so every AL2023 node rendered from the template gets it. A CloudFormation `Fn::If` in a `Fn::Sub` variable map is read with its true branch, so the output is the user data of the stacks where the condition holds.\n\nFix: if the condition is ever false, wrap the NodeConfig field in the same `%{ if }` in the output template, or set the field per node group; for `Fn::If`, convert the other case too and use each output where it applies."
);

code!(
    AFTER_CLOSE,
    "CV450",
    "after-close-delimiter",
    Warning,
    "text after the multipart's closing delimiter",
    "Everything after `--BOUNDARY--` is the multipart's epilogue (RFC 2046 §5.1.1): cloud-init's parser and nodeadm's discard it, so none of it ran on AL2 or configures anything. It is often something meant for the last part, appended by a template (`\"${local.userdata} --kubelet-extra-args …\"`). The output leaves it out.\n\nFix: if it was meant to apply, put it inside the part it belongs to (for bootstrap.sh arguments: translate them into the NodeConfig part)."
);

code!(
    WARM_POOL_GATE,
    "CV451",
    "warm-pool-gate",
    Error,
    "the join is gated on the Auto Scaling lifecycle state (a warm pool)",
    "With an EC2 Auto Scaling warm pool, an instance first boots as `Warmed:*`, is stopped, and boots again when it enters service. AL2 user data that called bootstrap.sh only when IMDS `autoscaling/target-lifecycle-state` said `InService` (often with cloud-init's `scripts-user` set to run on every boot) kept warmed instances out of the cluster. A NodeConfig has no condition: nodeadm-config and nodeadm-run apply it on every boot, so a warmed instance joins the cluster while it is being prepared, and is then stopped under the scheduler's feet.\n\nFix: keep the gate on AL2023: a boothook that writes a drop-in for `nodeadm-run.service` with `ExecCondition=` checking the lifecycle state, or prepare warmed instances with `--target` images that need no warm-up; the conversion does not write this for you."
);

code!(
    STARTS_KUBELET,
    "CV452",
    "starts-kubelet-itself",
    Error,
    "the user data starts the kubelet itself, without bootstrap.sh",
    "Before bootstrap.sh (2019), and in eksctl's legacy override and some custom AMIs, user data configured the kubelet through its own files (`/etc/eksctl/kubelet.env`, `sed` over placeholders in `kubelet.service`, `/etc/sysconfig/kubelet`) and then ran `systemctl start kubelet`. What such a node ran with comes from files and AMI contents this conversion does not model, so it is not the plain bootstrap.sh node the other findings assume, and the settings those files held (labels, taints, max pods) are not carried over.\n\nFix: read what the script put in those files and set the NodeConfig fields (`kubelet.config`, `--node-labels`, `registerWithTaints`) yourself; drop the kubelet start, which nodeadm-run does on AL2023."
);

/// Every code, for `explain` and uniqueness tests.
pub static ALL: &[&RuleMeta] = &[
    &TRANSLATED,
    &KEPT_FLAG,
    &DROPPED,
    &NODEADM_OWNED,
    &UNKNOWN,
    &RUNTIME_VALUE,
    &MAP_SEMANTICS,
    &MISSING_CLUSTER,
    &BRANCHES,
    &AFTER_BOOTSTRAP,
    &PARSE_ERROR,
    &INVALID_VALUE,
    &OMITTED,
    &CONTAINERD,
    &PATCHED,
    &NO_CALL,
    &SCRIPT_KEPT,
    &TEMPLATE_ARGS,
    &NOTHING_TO_WRITE,
    &ENV_FILE,
    &DATA_VOLUME,
    &UNSAFE_MKFS,
    &WIPE_STATE,
    &AL2_ONLY,
    &ORPHAN_ENV,
    &MAX_PODS_EXPR,
    &LOCAL_STORAGE,
    &LOCAL_DISK_SCRIPT,
    &JQ_EDIT,
    &CLOUD_MOUNT,
    &BOOT_HOOK,
    &NEVER_WORKED,
    &FILE_TRANSLATED,
    &DEAD_ON_AL2,
    &NOT_REPLAYED,
    &JOIN_STATUS,
    &NOT_EQUIVALENT,
    &TEMPLATE_BOOTSTRAP_ARGS,
    &SET_ON_TARGET,
    &CALL_IN_BRANCH,
    &IMDS_V1,
    &TARGET_MISMATCH,
    &BASH_STOPPED,
    &OPEN_HEREDOC,
    &CRLF,
    &CRLF_MIXED,
    &NO_SHEBANG,
    &STRAY_DELIMITER,
    &TEMPLATE_BRANCH,
    &AFTER_CLOSE,
    &WARM_POOL_GATE,
    &STARTS_KUBELET,
];

#[cfg(test)]
#[allow(clippy::string_slice)]
mod tests {
    use super::*;

    #[test]
    fn every_code_defined_here_is_listed_once() {
        let src = include_str!("codes.rs");
        let mut defined: Vec<&str> = src
            .match_indices("    \"CV")
            .map(|(i, _)| &src[i + 5..i + 10])
            .filter(|c| c[2..].chars().all(|d| d.is_ascii_digit()))
            .collect();
        defined.sort();
        defined.dedup();
        let mut listed: Vec<&str> = ALL.iter().map(|m| m.code).collect();
        listed.sort();
        let n = listed.len();
        listed.dedup();
        assert_eq!(n, listed.len(), "a code is listed twice");
        assert_eq!(defined, listed, "every code! must be in ALL (explain, docs/rules.md, SARIF)");
    }
}
