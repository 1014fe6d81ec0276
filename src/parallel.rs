//! Running independent pieces of work on the machine's cores: scoped threads taking items in turn, so
//! unequal items (one rule far costlier than another) still spread evenly. No pool and no dependency; a
//! command spawns threads only around work large enough to be worth it.
//!
//! `RULETEST_THREADS` sets the number of threads (1 runs everything on the calling thread, as benchmarks
//! of CPU time want); the default is the number of cores.

use std::cell::Cell;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

thread_local! {
    static OVERRIDE: Cell<Option<usize>> = const { Cell::new(None) };
}

/// Runs `f` with [`map`] calls made on this thread limited to `n` threads (tests compare thread counts).
pub fn with_threads<R>(n: usize, f: impl FnOnce() -> R) -> R {
    let before = OVERRIDE.with(|o| o.replace(Some(n.max(1))));
    let r = f();
    OVERRIDE.with(|o| o.set(before));
    r
}

/// How many threads [`map`] uses at most.
pub fn threads() -> usize {
    if let Some(n) = OVERRIDE.with(Cell::get) {
        return n;
    }
    std::env::var("RULETEST_THREADS")
        .ok()
        .and_then(|v| v.trim().parse::<usize>().ok())
        .filter(|&n| n > 0)
        .unwrap_or_else(|| {
            std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1)
        })
}

/// `f` applied to every item, results in the items' order. Runs on up to [`threads`] threads.
pub fn map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let n = threads().min(items.len());
    if n <= 1 {
        return items.iter().map(f).collect();
    }
    let next = AtomicUsize::new(0);
    let slots: Vec<Mutex<Option<R>>> = items.iter().map(|_| Mutex::new(None)).collect();
    std::thread::scope(|scope| {
        for _ in 0..n {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(item) = items.get(i) else { break };
                let r = f(item);
                if let Ok(mut slot) = slots[i].lock() {
                    *slot = Some(r);
                }
            });
        }
    });
    slots
        .into_iter()
        .map(|m| {
            m.into_inner()
                .ok()
                .flatten()
                .expect("every item is taken by exactly one thread, which stores its result")
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_keep_the_order_of_the_items() {
        let items: Vec<u64> = (0..1000).collect();
        let out = map(&items, |&x| {
            // Unequal work, so threads finish out of order.
            let mut a = x;
            for _ in 0..(x % 7) * 1000 {
                a = std::hint::black_box(a);
            }
            a
        });
        assert_eq!(out, items);
    }

    #[test]
    fn empty_and_single_inputs() {
        let none: Vec<u8> = Vec::new();
        assert!(map(&none, |&x| x).is_empty());
        assert_eq!(map(&[5u8], |&x| x * 2), vec![10]);
    }
}
