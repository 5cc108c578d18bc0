//! Making messages on every core. The list is read on one thread, in
//! order, a batch ahead, while the messages of the batch before are made
//! (personalised, built, encoded, signed) in parallel; they are handed on
//! in list order. At most two batches are in memory at once.

use rayon::prelude::*;

/// What one call of `read` found.
#[derive(Debug)]
pub enum Next<T> {
    /// An item to make.
    Item(T),
    /// A row that makes nothing (skipped, already sent, past `--limit`).
    Nothing,
    /// The end of the list.
    End,
}

/// A batch waits through at most this many rows that make nothing, times
/// its size, before it goes as it is (even empty): with `--limit`, or on a
/// re-run past the recipients already sent to, the messages made must not
/// wait for the rest of the list to be read.
const PATIENCE: usize = 8;

/// Whether to go on after an item is handed on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    Continue,
    Stop,
}

/// Up to `size` items read in order, and the error that ended them early.
struct Batch<T> {
    items: Vec<T>,
    error: Option<anyhow::Error>,
    /// `read` said there are no more.
    ended: bool,
}

fn fill<S, T>(
    size: usize,
    state: &mut S,
    read: &mut impl FnMut(&mut S) -> anyhow::Result<Next<T>>,
) -> Batch<T> {
    let mut batch = Batch { items: Vec::with_capacity(size), error: None, ended: false };
    let mut idle = 0;
    while batch.items.len() < size {
        match read(state) {
            Ok(Next::Item(item)) => batch.items.push(item),
            Ok(Next::Nothing) => {
                idle += 1;
                if idle >= size * PATIENCE {
                    break;
                }
            }
            Ok(Next::End) => {
                batch.ended = true;
                break;
            }
            Err(e) => {
                batch.error = Some(e);
                break;
            }
        }
    }
    batch
}

/// Reads items with `read` (which may change `state`) `size` at a time, makes each with `make` on every core, and gives
/// each item and what was made of it to `take` (which may change `state`
/// too), in the order read. An error from `read` is returned once the items
/// read before it have been taken; an error from `take` at once.
pub fn make_in_order<S, T, U>(
    size: usize,
    state: &mut S,
    mut read: impl FnMut(&mut S) -> anyhow::Result<Next<T>> + Send,
    make: impl Fn(&T) -> U + Sync,
    mut take: impl FnMut(&mut S, T, U) -> anyhow::Result<Flow>,
) -> anyhow::Result<()>
where
    S: Send,
    T: Send + Sync,
    U: Send,
{
    let mut batch = fill(size, state, &mut read);
    loop {
        let more = batch.error.is_none() && !batch.ended;
        let (next, made) = rayon::join(
            || more.then(|| fill(size, state, &mut read)),
            || batch.items.par_iter().map(&make).collect::<Vec<U>>(),
        );
        for (item, made) in batch.items.into_iter().zip(made) {
            if take(state, item, made)? == Flow::Stop {
                return Ok(());
            }
        }
        if let Some(error) = batch.error {
            return Err(error);
        }
        match next {
            Some(next) => batch = next,
            None => return Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reads `numbers` as items.
    fn items(numbers: &mut impl Iterator<Item = u64>) -> anyhow::Result<Next<u64>> {
        Ok(numbers.next().map_or(Next::End, Next::Item))
    }

    #[test]
    fn items_are_made_in_parallel_and_taken_in_the_order_read() {
        let mut next = 0..1000u64;
        let mut taken = Vec::new();
        make_in_order(
            64,
            &mut taken,
            |_| items(&mut next),
            |n| n * n,
            |taken, n, square| {
                assert_eq!(square, n * n);
                taken.push(n);
                Ok(Flow::Continue)
            },
        )
        .unwrap();
        assert_eq!(taken, (0..1000).collect::<Vec<_>>());
    }

    #[test]
    fn a_read_error_comes_after_the_items_read_before_it() {
        let mut next = 0..;
        let mut taken = Vec::new();
        let result = make_in_order(
            16,
            &mut taken,
            |_| match next.next() {
                Some(100) => anyhow::bail!("row 100 is bad"),
                Some(n) => Ok(Next::Item(n)),
                None => Ok(Next::End),
            },
            |n| *n,
            |taken, n, _| {
                taken.push(n);
                Ok(Flow::Continue)
            },
        );
        assert_eq!(result.unwrap_err().to_string(), "row 100 is bad");
        assert_eq!(taken, (0..100).collect::<Vec<_>>());
    }

    #[test]
    fn a_few_items_among_many_rows_that_make_nothing_do_not_wait_for_the_end() {
        // Ten items, then a long list of rows past the limit: the ten are
        // taken before the rest is read.
        let mut row = 0u64;
        let mut state = (0u64, Vec::new());
        make_in_order(
            64,
            &mut state,
            |(rows, _)| {
                row += 1;
                *rows = row;
                Ok(match row {
                    1..=10 => Next::Item(row),
                    100_000.. => Next::End,
                    _ => Next::Nothing,
                })
            },
            |n| *n,
            |(rows, taken), n, _| {
                taken.push((n, *rows));
                Ok(Flow::Continue)
            },
        )
        .unwrap();
        assert_eq!(state.1.len(), 10);
        assert!(state.1.iter().all(|&(_, rows)| rows < 64 * 8 * 3), "{:?}", state.1);
    }

    #[test]
    fn stop_ends_the_run_at_once() {
        let mut next = 0..;
        let mut taken = 0;
        make_in_order(
            8,
            &mut taken,
            |_| items(&mut next),
            |n| *n,
            |taken, _, _| {
                *taken += 1;
                Ok(if *taken == 20 { Flow::Stop } else { Flow::Continue })
            },
        )
        .unwrap();
        assert_eq!(taken, 20);
    }
}
