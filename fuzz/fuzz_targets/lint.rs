//! `lint` on any text: the envelope, the NodeConfig YAML reading, the schema and every rule.
//! Never a panic; the same input gives the same findings; every location is inside the input.
#![no_main]
use eks_userdata::lint::{LintOptions, lint};
use eks_userdata::{Source, Target};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // The first byte picks the target (rules differ by target); the rest is the user data.
    let Some((&pick, bytes)) = data.split_first() else { return };
    let target = [Target::SelfManaged, Target::Mng, Target::Karpenter][usize::from(pick % 3)];
    let opts = LintOptions { target, ..Default::default() };
    let source = Source::new("fuzz.yaml", bytes);
    let a = lint(&source, &opts);
    for f in &a.findings {
        if let Some(l) = f.location.as_ref().filter(|l| l.within.is_none()) {
            assert!(l.byte_start <= l.byte_end && l.byte_end <= bytes.len(), "{} at {l:?}", f.diagnostic.code);
        }
    }
    let b = lint(&source, &opts);
    assert_eq!(a.findings.len(), b.findings.len(), "lint is not deterministic");
});
