//! Helpers for the unit tests: generated inputs for differential checks between a fast reading
//! and the plain one it stands in for.

/// `count` texts, each a deterministic (xorshift) concatenation of up to `max_pieces` pieces.
pub fn mixed_texts(pieces: &[&str], mut seed: u64, max_pieces: u64, count: usize) -> Vec<String> {
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    (0..count)
        .map(|_| {
            let n = next() % (max_pieces + 1);
            (0..n).filter_map(|_| pieces.get((next() % pieces.len() as u64) as usize).copied()).collect()
        })
        .collect()
}
