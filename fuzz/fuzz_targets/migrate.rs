//! `migrate`'s Terraform, CloudFormation and eksctl readers, and the `terraform fmt` realignment,
//! on any text: never a panic; their edits
//! never overlap or split a character (they apply), and a second run over the migrated text is a
//! fixed point: it has nothing left to edit that the first run did not already decide.
#![no_main]
use eks_userdata::migrate::{cloudformation, edit, eksctl, terraform, tf_format};
use eks_userdata::translate::{ClusterInfo, Options};
use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let opts = Options {
        cluster: ClusterInfo { cidr: Some("${var.service_ipv4_cidr}".into()), ..Default::default() },
        ..Default::default()
    };
    let path = Path::new("/nonexistent/main.tf");
    let m = terraform::migrate(path, text, &opts);
    let (migrated, placed) = edit::apply_tracked(text, &m.edits).expect("the edits apply");
    // `terraform fmt`'s alignment over the touched runs, as `migrate` does; and over the whole
    // text, where any run may be touched.
    let migrated = tf_format::realign(&migrated, &placed);
    let _ = tf_format::realign(text, &[0..text.len()]);
    let again = terraform::migrate(path, &migrated, &opts);
    let twice = edit::apply(&migrated, &again.edits).expect("the second run's edits apply");
    assert_eq!(migrated, twice, "a second run changed the migrated text");

    let path = Path::new("/nonexistent/template.yaml");
    let m = cloudformation::migrate(path, text, &opts);
    let migrated = edit::apply(text, &m.edits).expect("the template edits apply");
    let again = cloudformation::migrate(path, &migrated, &opts);
    let twice = edit::apply(&migrated, &again.edits).expect("the second run's template edits apply");
    assert_eq!(migrated, twice, "a second run changed the migrated template");

    let m = eksctl::migrate(path, text, &opts);
    let migrated = edit::apply(text, &m.edits).expect("the ClusterConfig edits apply");
    let again = eksctl::migrate(path, &migrated, &opts);
    let twice = edit::apply(&migrated, &again.edits).expect("the second run's ClusterConfig edits apply");
    assert_eq!(migrated, twice, "a second run changed the migrated ClusterConfig");
});
