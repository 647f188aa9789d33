use crate::diagnostic::Severity;
#[derive(Debug)]
pub struct RuleMeta { pub code: &'static str, pub name: &'static str, pub severity: Severity, pub summary: &'static str, pub explanation: &'static str }
