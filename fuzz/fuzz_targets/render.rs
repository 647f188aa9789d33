//! `render` on any user data: never a panic, and byte-stable.
#![no_main]
use eks_userdata::render::{Options, render};
use eks_userdata::userdata::{Envelope, Limits};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let env = Envelope::parse(data, &Limits::default());
    let opts = Options { kubernetes_version: Some("1.33".into()), ..Default::default() };
    let a = render(&env, &opts);
    let b = render(&env, &opts);
    assert_eq!(a.yaml(), b.yaml(), "render is not deterministic");
    assert_eq!(format!("{:?}", a.notes), format!("{:?}", b.notes), "render's notes are not deterministic");
});
