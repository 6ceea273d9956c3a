//! The request path of revisions: a component's [`ComponentSlot`] holds its
//! current [`Split`] — which [`ServingRevision`]s get which share of its
//! requests — behind an `ArcSwap`, so a request reads it without a lock and
//! a deploy replaces it atomically. A request keeps the revision it picked
//! (an [`InFlight`] mark) until its guest has finished, so a swap never
//! moves a request in flight.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use arc_swap::ArcSwap;
use http::HeaderValue;
use tokio::sync::Notify;

use super::model::{RevisionMeta, Source};
use crate::app::LoadedComponent;

/// How many consecutive requests one turn of a split's schedule spans: shares
/// are whole percents.
const TURN: usize = 100;

/// Answers of a revision: how many, and how many were `5xx`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Counts {
    /// Requests its guest answered (or failed: trap, timeout).
    pub answered: u64,
    /// Of those, answers with a `5xx` status.
    pub errors: u64,
}

impl Counts {
    /// The share of `5xx` answers (0 when nothing was answered).
    pub fn error_ratio(&self) -> f64 {
        if self.answered == 0 { 0.0 } else { self.errors as f64 / self.answered as f64 }
    }

    /// What was counted since `before`.
    pub fn since(&self, before: Counts) -> Counts {
        Counts {
            answered: self.answered.saturating_sub(before.answered),
            errors: self.errors.saturating_sub(before.errors),
        }
    }
}

impl std::ops::Add for Counts {
    type Output = Counts;
    fn add(self, other: Counts) -> Counts {
        Counts { answered: self.answered + other.answered, errors: self.errors + other.errors }
    }
}

/// A compiled revision that can serve: its facts, its code, and what it
/// has served.
pub struct ServingRevision<S: 'static> {
    /// Its immutable facts.
    pub meta: Arc<RevisionMeta>,
    /// The compiled component.
    pub code: Arc<LoadedComponent<S>>,
    /// `x-chaoslab-revision` of its answers, built once.
    header: HeaderValue,
    /// Answers so far (the canary watch compares them).
    answered: AtomicU64,
    /// `5xx` answers so far.
    errors: AtomicU64,
    /// Requests running on it now (it is retired when none are left).
    in_flight: AtomicUsize,
    /// Its answer count at which a canary watch's window closes.
    window_end: AtomicU64,
    /// Wakes the canary watch when the window closes, so the verdict does
    /// not wait for its next look.
    window_closed: Notify,
}

impl<S: 'static> ServingRevision<S> {
    /// A revision ready to serve.
    pub fn new(meta: Arc<RevisionMeta>, code: LoadedComponent<S>) -> Self {
        let header = HeaderValue::try_from(meta.id.as_str()).unwrap_or_else(|_| HeaderValue::from_static("invalid"));
        Self {
            meta,
            code: Arc::new(code),
            header,
            answered: AtomicU64::new(0),
            errors: AtomicU64::new(0),
            in_flight: AtomicUsize::new(0),
            window_end: AtomicU64::new(u64::MAX),
            window_closed: Notify::new(),
        }
    }

    /// Its id as the `x-chaoslab-revision` header value.
    pub fn header(&self) -> &HeaderValue {
        &self.header
    }

    /// Counts one answer of its guest.
    pub fn record(&self, status: u16) {
        if status >= 500 {
            self.errors.fetch_add(1, Ordering::Relaxed);
        }
        let answered = self.answered.fetch_add(1, Ordering::Relaxed) + 1;
        if answered == self.window_end.load(Ordering::Relaxed) {
            self.window_closed.notify_one();
        }
    }

    /// Arms the canary window: [`Self::window_closed`] completes once it has
    /// answered `answers` in all.
    pub fn close_window_at(&self, answers: u64) {
        self.window_end.store(answers, Ordering::Relaxed);
    }

    /// Completes when the armed window closes.
    pub async fn window_closed(&self) {
        self.window_closed.notified().await;
    }

    /// Its answers so far.
    pub fn counts(&self) -> Counts {
        Counts { answered: self.answered.load(Ordering::Relaxed), errors: self.errors.load(Ordering::Relaxed) }
    }

    /// Requests running on it now.
    pub fn in_flight(&self) -> usize {
        self.in_flight.load(Ordering::SeqCst)
    }
}

/// One request running on a revision; dropped when its guest has finished.
pub struct InFlight<S: 'static>(Arc<ServingRevision<S>>);

impl<S: 'static> InFlight<S> {
    fn new(revision: Arc<ServingRevision<S>>) -> Self {
        revision.in_flight.fetch_add(1, Ordering::SeqCst);
        Self(revision)
    }

    /// The revision.
    pub fn revision(&self) -> &Arc<ServingRevision<S>> {
        &self.0
    }
}

impl<S: 'static> Drop for InFlight<S> {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Which revisions serve a component, and their shares (whole percents
/// adding up to 100). Requests follow a fixed schedule of [`TURN`] picks in
/// which each revision appears exactly its share of times, spread evenly
/// (smooth weighted round robin): no randomness, and a 20 % canary gets
/// one request in five from the first request on.
pub struct Split<S: 'static> {
    /// The serving revisions and their shares, each above 0.
    entries: Vec<(Arc<ServingRevision<S>>, u8)>,
    /// For each position of a turn, the index of the entry it goes to.
    schedule: Vec<u8>,
    /// Requests picked so far.
    next: AtomicUsize,
}

impl<S: 'static> Split<S> {
    /// A split of `entries`; the caller has checked that the shares are
    /// positive and add up to 100.
    pub fn new(entries: Vec<(Arc<ServingRevision<S>>, u8)>) -> Self {
        debug_assert_eq!(entries.iter().map(|(_, share)| usize::from(*share)).sum::<usize>(), TURN);
        let shares: Vec<u8> = entries.iter().map(|(_, share)| *share).collect();
        Self { entries, schedule: schedule(&shares), next: AtomicUsize::new(0) }
    }

    /// `revision` alone.
    pub fn single(revision: Arc<ServingRevision<S>>) -> Self {
        Self::new(vec![(revision, 100)])
    }

    /// The revision the next request goes to.
    pub fn pick(&self) -> &Arc<ServingRevision<S>> {
        let n = self.next.fetch_add(1, Ordering::Relaxed) % TURN;
        &self.entries[usize::from(self.schedule[n])].0
    }

    /// The serving revisions and their shares.
    pub fn entries(&self) -> &[(Arc<ServingRevision<S>>, u8)] {
        &self.entries
    }

    /// The share of the revision `id` (0 when it is not in the split).
    pub fn share_of(&self, id: &str) -> u8 {
        self.entries.iter().find(|(r, _)| r.meta.id == id).map_or(0, |(_, share)| *share)
    }
}

/// Smooth weighted round robin over `shares` (adding up to [`TURN`]): each
/// step every entry gains its share, the richest is picked and pays the turn.
fn schedule(shares: &[u8]) -> Vec<u8> {
    let mut credit = vec![0_i64; shares.len()];
    (0..TURN)
        .map(|_| {
            for (c, share) in credit.iter_mut().zip(shares) {
                *c += i64::from(*share);
            }
            let best = (0..shares.len()).rev().max_by_key(|&i| credit[i]).unwrap_or(0);
            credit[best] -= TURN as i64;
            u8::try_from(best).unwrap_or(0)
        })
        .collect()
}

/// A routed component and the split its requests follow.
pub struct ComponentSlot<S: 'static> {
    /// The component's id in spin.toml.
    pub id: String,
    /// The current split, swapped atomically.
    serving: ArcSwap<Split<S>>,
}

impl<S: 'static> ComponentSlot<S> {
    /// A slot serving `code`, the manifest's build (`bytes` of `path`), as revision 1.
    pub fn first(code: LoadedComponent<S>, bytes: &[u8], path: &Path) -> Self {
        let source = Source::Manifest { path: path.display().to_string() };
        let meta = Arc::new(RevisionMeta::new(&code.id, 1, Some(bytes), source));
        let id = code.id.clone();
        Self { id, serving: ArcSwap::from_pointee(Split::single(Arc::new(ServingRevision::new(meta, code)))) }
    }

    /// Picks the revision for one request and marks the request in flight on it.
    pub fn pick(&self) -> InFlight<S> {
        InFlight::new(self.serving.load().pick().clone())
    }

    /// The current split.
    pub fn split(&self) -> Arc<Split<S>> {
        self.serving.load_full()
    }

    /// Replaces the split: the next request follows `split`.
    pub(super) fn set(&self, split: Split<S>) {
        self.serving.store(Arc::new(split));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts_per_turn(shares: &[u8]) -> Vec<usize> {
        let order = schedule(shares);
        (0..shares.len()).map(|i| order.iter().filter(|&&e| usize::from(e) == i).count()).collect()
    }

    #[test]
    fn each_revision_gets_exactly_its_share_of_a_turn() {
        assert_eq!(counts_per_turn(&[100]), [100]);
        assert_eq!(counts_per_turn(&[80, 20]), [80, 20]);
        assert_eq!(counts_per_turn(&[90, 9, 1]), [90, 9, 1]);
        assert_eq!(counts_per_turn(&[33, 33, 34]), [33, 33, 34]);
    }

    #[test]
    fn a_canary_share_is_spread_evenly_from_the_first_request() {
        let order = schedule(&[80, 20]);
        for window in order.chunks(5) {
            assert_eq!(window.iter().filter(|&&e| e == 1).count(), 1, "{order:?}");
        }
    }

    #[test]
    fn counts_give_ratios_and_differences() {
        let now = Counts { answered: 10, errors: 4 };
        assert_eq!(now.since(Counts { answered: 5, errors: 1 }), Counts { answered: 5, errors: 3 });
        assert!((now.error_ratio() - 0.4).abs() < 1e-9);
        assert_eq!(Counts::default().error_ratio(), 0.0);
    }
}
