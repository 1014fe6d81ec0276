//! How many times this thread read or parsed each kind of document: the evidence that a run reads every
//! file once ([`crate::project::Project::load`] promises it; a test holds it to that).
//!
//! Counters are per thread, so tests running side by side do not see each other's reads, and cost one
//! increment per document.

use std::cell::Cell;

/// What was read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Read {
    /// A file's bytes, from disk ([`crate::load::documents::load_file`]).
    File,
    /// A rule file or PrometheusRule document turned into rule groups.
    RuleFile,
    /// A rule unit test document turned into test groups.
    TestFile,
    /// An Alertmanager configuration document turned into its typed form.
    AlertmanagerConfig,
    /// A series fixture loaded into a store.
    Fixture,
}

const KINDS: usize = 5;

thread_local! {
    static COUNTS: Cell<[usize; KINDS]> = const { Cell::new([0; KINDS]) };
}

/// Counts one read of `what` on this thread.
pub fn note(what: Read) {
    COUNTS.with(|c| {
        let mut v = c.get();
        v[what as usize] += 1;
        c.set(v);
    });
}

/// The reads of this thread so far.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts([usize; KINDS]);

impl Counts {
    pub fn now() -> Counts {
        Counts(COUNTS.with(Cell::get))
    }

    /// Reads of `what` since `earlier`.
    pub fn since(&self, earlier: &Counts, what: Read) -> usize {
        self.0[what as usize] - earlier.0[what as usize]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_each_kind_on_its_own() {
        let before = Counts::now();
        note(Read::File);
        note(Read::File);
        note(Read::TestFile);
        let after = Counts::now();
        assert_eq!(after.since(&before, Read::File), 2);
        assert_eq!(after.since(&before, Read::TestFile), 1);
        assert_eq!(after.since(&before, Read::RuleFile), 0);
        // Another thread's reads are its own.
        std::thread::spawn(|| note(Read::RuleFile)).join().unwrap();
        assert_eq!(Counts::now().since(&after, Read::RuleFile), 0);
    }
}
