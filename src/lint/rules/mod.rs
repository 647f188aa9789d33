//! One rule per file. Codes: `UD1xx` the user-data envelope (MIME, encodings, size),
//! `NC2xx` NodeConfig documents, `AL3xx` AL2 leftovers.

pub mod al2_environment;
pub mod api_version;
pub mod bootstrap_sh_call;
pub mod ca_not_pem;
pub mod cloud_config_as_nodeconfig;
pub mod cluster_dns_outside_cidr;
pub mod duplicate_content_type;
pub mod duplicate_label;
pub mod epilogue;
pub mod extra_documents;
pub mod flag_should_be_config;
pub mod flag_whitespace;
/// Shared walk over `kubelet.flags` items (not a rule).
pub mod flags;
pub mod invalid_base64;
pub mod invalid_gzip;
pub mod invalid_utf8;
pub mod invalid_value;
pub mod local_storage_paths;
pub mod malformed_content_type;
pub mod missing_blank_line;
pub mod missing_boundary;
pub mod missing_close_delimiter;
pub mod missing_cluster_field;
pub mod missing_content_type;
pub mod mount_over_state;
pub mod near_size_limit;
pub mod nested_multipart;
pub mod newer_than_ami;
pub mod no_nodeconfig;
pub mod nodeadm_owned_flag;
pub mod nodeconfig_wrong_content_type;
pub mod not_a_mapping;
pub mod not_multipart;
pub mod outpost_id_missing;
pub mod placeholder;
pub mod restricted_label;
pub mod sandbox_image;
pub mod state_wipe;
pub mod too_large;
pub mod unconditional_mkfs;
pub mod unknown_field;
pub mod wrong_kind;
pub mod yaml11_boolean;
pub mod yaml_syntax;
