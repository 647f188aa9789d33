//! A small per-thread memo for parses of the same text. `convert` reads its own output twice,
//! once as `lint` does and once as the equivalence check does (`render`, the command timing);
//! both parse the same NodeConfig YAML and the same shell parts, which is a third of a
//! conversion's time. Keeping the last few results per thread makes the second reading free
//! while each reader still goes through the one parser. Keys are compared in full (no hash
//! collisions), and the memo holds at most `CAP` entries of texts the input limits bound.

use std::cell::RefCell;
use std::thread::LocalKey;

/// Entries kept per memo: the input's and the output's parts of one conversion.
const CAP: usize = 8;

/// What a `thread_local!` memo holds.
pub type Slot<K, V> = RefCell<Memo<K, V>>;

pub struct Memo<K, V> {
    entries: Vec<(K, V)>,
}

impl<K, V> Default for Memo<K, V> {
    fn default() -> Self {
        Memo { entries: Vec::new() }
    }
}

/// The value for `key`, computed by `f` on a miss; the most recently used entries are kept.
pub fn get_or<K: PartialEq, V: Clone>(
    memo: &'static LocalKey<RefCell<Memo<K, V>>>,
    key: K,
    f: impl FnOnce(&K) -> V,
) -> V {
    let hit = memo.with(|m| {
        let mut m = m.borrow_mut();
        let i = m.entries.iter().position(|(k, _)| *k == key)?;
        let e = m.entries.remove(i);
        let v = e.1.clone();
        m.entries.push(e);
        Some(v)
    });
    if let Some(v) = hit {
        return v;
    }
    let v = f(&key);
    memo.with(|m| {
        let mut m = m.borrow_mut();
        if m.entries.len() >= CAP {
            m.entries.remove(0);
        }
        m.entries.push((key, v.clone()));
    });
    v
}

/// serde_json's reading of a JSON text (`None` when it is not JSON). kubelet-config.json is read
/// several times per conversion, nearly always as the AMI wrote it.
pub fn json(text: &str) -> Option<serde_json::Value> {
    thread_local! {
        static MEMO: Slot<String, Option<serde_json::Value>> = Default::default();
    }
    get_or(&MEMO, text.to_string(), |t| serde_json::from_str(t).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    thread_local! {
        static M: RefCell<Memo<String, usize>> = RefCell::new(Memo::default());
    }

    #[test]
    fn hits_return_the_stored_value_and_misses_compute_it() {
        let mut calls = 0;
        let a = get_or(&M, "abc".to_string(), |k| {
            calls += 1;
            k.len()
        });
        let b = get_or(&M, "abc".to_string(), |_| {
            calls += 1;
            0
        });
        assert_eq!((a, b, calls), (3, 3, 1));
    }

    #[test]
    fn the_oldest_entry_goes_when_full() {
        for i in 0..CAP + 1 {
            get_or(&M, format!("k{i}"), |_| i);
        }
        // k0 was evicted: recomputed.
        assert_eq!(get_or(&M, "k0".to_string(), |_| 99), 99);
        assert_eq!(get_or(&M, format!("k{CAP}"), |_| 0), CAP);
    }
}
