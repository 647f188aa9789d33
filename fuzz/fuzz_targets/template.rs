//! Templates and the files that hold user data: Terraform templates and `.tf` hosts,
//! CloudFormation templates, Go format strings, read through `lint_file` as the CLI does.
//! Never a panic, and every location is inside the file.
#![no_main]
use eks_userdata::lint::{LintOptions, lint_file};
use eks_userdata::Source;
use libfuzzer_sys::fuzz_target;

const NAMES: [&str; 5] = ["userdata.tftpl", "main.tf", "template.yaml", "template.json", "userdata.go.txt"];

fuzz_target!(|data: &[u8]| {
    let Some((&pick, bytes)) = data.split_first() else { return };
    let name = NAMES[usize::from(pick) % NAMES.len()];
    let report = lint_file(&Source::new(name, bytes), &LintOptions::default());
    for f in &report.findings {
        if let Some(l) = f.location.as_ref().filter(|l| l.within.is_none()) {
            assert!(l.byte_start <= l.byte_end && l.byte_end <= bytes.len(), "{} at {l:?}", f.diagnostic.code);
        }
    }
});
