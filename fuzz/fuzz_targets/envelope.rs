//! The envelope reader on any bytes (MIME, base64, gzip layers): never a panic, and every part
//! it reports lies inside what it decoded.
#![no_main]
use eks_userdata::userdata::{Envelope, Limits};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let env = Envelope::parse(data, &Limits::default());
    for part in &env.parts {
        assert!(part.start <= part.end && part.end <= env.payload.len(), "part {} outside the payload", part.index);
    }
});
