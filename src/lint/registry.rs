//! Every rule, in code order. The metadata sits beside each check in its own file; this list is
//! the one place that enumerates them, for `lint`, `explain` and the docs.

use super::{Context, rules::*};
use crate::diagnostic::Diagnostic;
use crate::diagnostic::RuleMeta;

pub struct Rule {
    pub meta: &'static RuleMeta,
    pub check: fn(&Context, &mut Vec<Diagnostic>),
}

macro_rules! rules {
    ($($m:ident),* $(,)?) => { &[$(Rule { meta: &$m::META, check: $m::check }),*] };
}

pub static RULES: &[Rule] = rules![
    not_multipart,
    missing_blank_line,
    missing_boundary,
    missing_close_delimiter,
    epilogue,
    duplicate_content_type,
    missing_content_type,
    invalid_base64,
    invalid_gzip,
    no_nodeconfig,
    invalid_utf8,
    too_large,
    nodeconfig_wrong_content_type,
    nested_multipart,
    malformed_content_type,
    near_size_limit,
    cloud_config_as_nodeconfig,
    crlf_script,
    template_engine_mix,
    no_parts,
    script_without_shebang,
    terraform_reference,
    yaml_syntax,
    not_a_mapping,
    api_version,
    wrong_kind,
    unknown_field,
    invalid_value,
    missing_cluster_field,
    outpost_id_missing,
    extra_documents,
    flag_should_be_config,
    nodeadm_owned_flag,
    flag_whitespace,
    restricted_label,
    duplicate_label,
    cluster_dns_outside_cidr,
    sandbox_image,
    placeholder,
    yaml11_boolean,
    ca_not_pem,
    newer_than_ami,
    containerd_schema,
    containerd_toml,
    max_pods_without_expression,
    removed_feature_gate,
    cluster_dns_not_ip,
    unknown_feature_gate,
    bootstrap_sh_call,
    state_wipe,
    unconditional_mkfs,
    mount_over_state,
    local_storage_paths,
    al2_environment,
    al2_only_command,
    before_join,
];

/// A rule by code (`NC205`) or name (`unknown-field`), case-insensitively.
pub fn find_rule(key: &str) -> Option<&'static Rule> {
    RULES.iter().find(|r| r.meta.code.eq_ignore_ascii_case(key) || r.meta.name.eq_ignore_ascii_case(key))
}

#[cfg(test)]
#[allow(clippy::string_slice)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn codes_and_names_are_unique_and_well_formed() {
        let mut codes = HashSet::new();
        let mut names = HashSet::new();
        for r in RULES {
            assert!(codes.insert(r.meta.code), "duplicate code {}", r.meta.code);
            assert!(names.insert(r.meta.name), "duplicate name {}", r.meta.name);
            let c = r.meta.code;
            assert!(
                c.len() == 5
                    && c[..2].chars().all(|c| c.is_ascii_uppercase())
                    && c[2..].chars().all(|c| c.is_ascii_digit()),
                "{c}"
            );
            assert!(r.meta.name.chars().all(|c| c.is_ascii_lowercase() || c == '-' || c.is_ascii_digit()));
            assert!(
                !r.meta.summary.is_empty() && r.meta.explanation.contains("Fix"),
                "{c} needs a summary and a Fix paragraph"
            );
        }
        let mut sorted: Vec<_> = RULES.iter().map(|r| r.meta.code).collect();
        sorted.sort_by_key(|c| &c[2..]);
        assert_eq!(sorted, RULES.iter().map(|r| r.meta.code).collect::<Vec<_>>(), "registry is in code order");
    }

    #[test]
    fn finds_rules_by_code_or_name() {
        assert_eq!(find_rule("nc205").unwrap().meta.name, "unknown-field");
        assert_eq!(find_rule("bootstrap-sh-call").unwrap().meta.code, "AL301");
        assert!(find_rule("XX999").is_none());
    }
}
