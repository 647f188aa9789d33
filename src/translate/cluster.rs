//! `spec.cluster` from the cluster values given on the command line (`--cluster-info`, flags):
//! they fill what the script did not give, and replace what it did with a warning. A value no
//! one gives is an error naming what gives it; nothing is guessed (docs §5.1: a wrong service
//! CIDR breaks pod DNS).

use super::Options;
use super::codes;
use crate::diagnostic::{Diagnostic, Severity, Span};
use crate::nodeconfig::types::NodeConfig;

/// Fills and overrides `spec.cluster` from `opts.cluster` (for targets whose user data carries it).
pub(super) fn fill(nc: &mut NodeConfig, opts: &Options, entries: &mut Vec<Diagnostic>) {
    let target = opts.target;
    if opts.supplies_cluster() {
        let ci = &opts.cluster;
        let c = &mut nc.spec.cluster;
        for (slot, given, field, flag) in [
            (&mut c.name, &ci.name, "name", "--cluster-name"),
            (&mut c.api_server_endpoint, &ci.api_server_endpoint, "apiServerEndpoint", "--api-server-endpoint"),
            (
                &mut c.certificate_authority,
                &ci.certificate_authority,
                "certificateAuthority",
                "--certificate-authority",
            ),
            (&mut c.cidr, &ci.cidr, "cidr", "--service-cidr"),
        ] {
            if let Some(v) = given {
                let d = if !slot.is_empty() && slot != v {
                    Diagnostic::new(
                        &codes::TRANSLATED,
                        format!("spec.cluster.{field}: the cluster info given (`{v}`) replaces the script's `{slot}`"),
                    )
                    .with_severity(Severity::Warning)
                } else {
                    Diagnostic::new(
                        &codes::TRANSLATED,
                        format!("`{field}` from the cluster info given → spec.cluster.{field}"),
                    )
                };
                entries.push(d.with_span(Span::payload(0, 0)));
                *slot = v.clone();
            } else if slot.is_empty() {
                let script_flag = match field {
                    "name" => "bootstrap.sh's cluster-name argument",
                    "apiServerEndpoint" => "--apiserver-endpoint",
                    "certificateAuthority" => "--b64-cluster-ca",
                    _ => "--service-ipv4-cidr (the SERVICE CIDR, not the VPC CIDR)",
                };
                entries.push(
                    Diagnostic::new(&codes::MISSING_CLUSTER, format!("spec.cluster.{field} is required for --target {target} and nothing gives it"))
                        .with_help(format!("pass {flag} or `--cluster-info FILE` (from `aws eks describe-cluster`), or add {script_flag} to the script"))
                        .with_span(Span::payload(0, 0)),
                );
            }
        }
    }
}
