//! The free units of a basket as a Fenwick tree over positions `0..n`, taken one by one, with
//! counting and "the k-th free position" in O(log n) each. The engine lays units out product by
//! product, so the k-th free unit of a product or of a line is one query.

use std::cell::Cell;

pub(super) struct FreeSet {
    /// 1-based Fenwick tree: `tree[i]` counts the free positions in `(i - lowbit(i), i]`.
    tree: Vec<u32>,
    /// The largest power of two not above `n`, where selection starts its descent.
    top: usize,
    /// Tree nodes visited, for the engine's work count.
    steps: Cell<u64>,
}

impl FreeSet {
    /// Positions `0..n`, free where `free` says so. `n` must fit in `u32`.
    pub(super) fn new(free: impl ExactSizeIterator<Item = bool>) -> FreeSet {
        let n = free.len();
        let mut tree = vec![0u32; n + 1];
        for (i, f) in free.enumerate() {
            tree[i + 1] = u32::from(f);
        }
        // Built bottom-up in one pass: each node passes its count on to its parent.
        for i in 1..=n {
            let parent = i + (i & i.wrapping_neg());
            if parent <= n {
                tree[parent] += tree[i];
            }
        }
        let top = if n == 0 { 0 } else { 1 << n.ilog2() };
        FreeSet { tree, top, steps: Cell::new(n as u64) }
    }

    /// Marks `pos` as taken; it must be free.
    pub(super) fn take(&mut self, pos: usize) {
        let mut i = pos + 1;
        while i < self.tree.len() {
            debug_assert!(self.tree[i] > 0, "position {pos} is taken twice");
            self.tree[i] -= 1;
            i += i & i.wrapping_neg();
            self.step();
        }
    }

    /// Free positions in `0..end`.
    pub(super) fn prefix(&self, end: usize) -> usize {
        let mut i = end;
        let mut count = 0usize;
        while i > 0 {
            count += self.tree[i] as usize;
            i &= i - 1;
            self.step();
        }
        count
    }

    /// The position of the free position of rank `k` (0-based, in position order); there must
    /// be more than `k` free positions.
    pub(super) fn select(&self, k: usize) -> usize {
        let mut pos = 0usize;
        let mut left = k + 1;
        let mut step = self.top;
        while step > 0 {
            let next = pos + step;
            if next < self.tree.len() && (self.tree[next] as usize) < left {
                pos = next;
                left -= self.tree[next] as usize;
            }
            step >>= 1;
            self.step();
        }
        debug_assert!(pos < self.tree.len() - 1, "fewer than {} free positions", k + 1);
        pos
    }

    pub(super) fn steps(&self) -> u64 {
        self.steps.get()
    }

    fn step(&self) {
        self.steps.set(self.steps.get() + 1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn select_and_prefix_follow_the_taken_positions() {
        let mut set = FreeSet::new(std::iter::repeat_n(true, 10));
        for pos in [0, 3, 4, 9] {
            set.take(pos);
        }
        let free: Vec<usize> = (0..6).map(|k| set.select(k)).collect();
        assert_eq!(free, vec![1, 2, 5, 6, 7, 8]);
        assert_eq!((set.prefix(0), set.prefix(4), set.prefix(10)), (0, 2, 6));
    }

    #[test]
    fn a_set_built_with_taken_positions_skips_them() {
        let set = FreeSet::new([false, true, true, false, true].into_iter());
        assert_eq!(((0..3).map(|k| set.select(k)).collect::<Vec<_>>(), set.prefix(5)), (vec![1, 2, 4], 3));
    }

    #[test]
    fn every_size_selects_every_position() {
        for n in 1..40 {
            let set = FreeSet::new(std::iter::repeat_n(true, n));
            assert!((0..n).all(|k| set.select(k) == k), "n = {n}");
            assert_eq!(set.prefix(n), n);
        }
    }
}
