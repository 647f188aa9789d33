//! `preflight`: what the cluster must have before any node moves to AL2023, checked from a
//! kubeconfig (the Kubernetes API), AWS credentials (EKS and EC2), or both (issue #18, from the
//! migration guide's check-compatibility script). Reading is separate from judging:
//! `inventory` is what was read, `checks` are pure functions over it, one file per check, with
//! their codes and explanations in `codes`; `kube` and `aws` read a live cluster (`aws` feature).

pub mod checks;
pub mod codes;
#[cfg(feature = "aws")]
pub mod eks;
pub mod inventory;
#[cfg(feature = "aws")]
pub mod kube;
pub mod output;

use crate::diagnostic::{RuleMeta, Severity};
use serde::Serialize;

/// How sure a finding drawn from names and versions is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Confidence {
    Possible,
    Likely,
    Certain,
}

/// One result: a code, how bad, what was looked at, what was found, what to do.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    pub code: &'static str,
    pub name: &'static str,
    pub severity: Severity,
    /// What it looked at (`DaemonSet kube-system/aws-node`, `node group ng-1`, `cluster`).
    pub subject: String,
    pub message: String,
    /// What to do; the code's explanation has the long form.
    pub fix: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub confidence: Option<Confidence>,
}

impl Finding {
    pub fn new(
        meta: &'static RuleMeta,
        severity: Severity,
        subject: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        let fix = meta.explanation.rsplit_once("Fix: ").map_or("", |(_, f)| f).trim().to_string();
        Finding {
            code: meta.code,
            name: meta.name,
            severity,
            subject: subject.into(),
            message: message.into(),
            fix,
            confidence: None,
        }
    }

    pub fn with_confidence(mut self, c: Confidence) -> Self {
        self.confidence = Some(c);
        self
    }
}

/// The report: which sources were read, and every finding, worst first.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub cluster: Option<String>,
    pub kubernetes: bool,
    pub aws: bool,
    pub findings: Vec<Finding>,
}

impl Report {
    pub fn errors(&self) -> usize {
        self.findings.iter().filter(|f| f.severity == Severity::Error).count()
    }
}

/// Runs every check over what was read.
pub fn run(inv: &inventory::Inventory) -> Report {
    let mut findings = checks::all(inv);
    let rank = |s: Severity| match s {
        Severity::Error => 0,
        Severity::Warning => 1,
        Severity::Info => 2,
    };
    findings.sort_by(|a, b| (rank(a.severity), a.code, &a.subject).cmp(&(rank(b.severity), b.code, &b.subject)));
    Report {
        cluster: inv.aws.as_ref().map(|a| a.cluster.clone()),
        kubernetes: inv.kubernetes.is_some(),
        aws: inv.aws.is_some(),
        findings,
    }
}
