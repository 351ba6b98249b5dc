//! The per-token gate of the rate limiter (`limiter.rs`): a lock with two FIFO lanes,
//! customers first. One caller of a token at a time holds it, waits for its slot and takes it.
//!
//! Why two lanes (`Priority`): a customer's message waiting to reach MG passes before acks,
//! edits and channel calls of the same token, which can wait a little without anyone
//! noticing; within a lane callers pass in arrival order. Stepping back is free: a bulk caller
//! holding the gate has taken nothing while it sleeps for its slot, so when it wakes and finds
//! that a customer came meanwhile it steps back to the head of its lane and the customer takes
//! that very slot. A customer waits at most one slot behind bulk work, and nothing is spent
//! twice.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use tokio::sync::Notify;

/// Which lane of its token's queue a request waits in (see the module doc).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Priority {
    /// Delivering a customer's message to MG: someone is waiting for it in the CRM's chat.
    Customer,
    /// Everything else: acks of operators' messages, edits, reads, channel and template calls.
    #[default]
    Bulk,
}

impl Priority {
    /// The lane's index in `Lanes::waiting`, the more urgent first.
    pub(super) fn lane(self) -> usize {
        match self {
            Self::Customer => 0,
            Self::Bulk => 1,
        }
    }
}

/// A token's gate: a lock with two FIFO lanes of waiters, handed on directly from one holder
/// to the next (customers first), so no newcomer can slip in between.
///
/// Invariant: nobody waits while the gate is free (a leaving holder hands it on at once).
#[derive(Default)]
pub(super) struct Gate {
    pub(super) lanes: Mutex<Lanes>,
}

#[derive(Default)]
pub(super) struct Lanes {
    next_ticket: u64,
    pub(super) holder: Option<Waiter>,
    /// Indexed by `Priority::lane`, each in arrival order.
    pub(super) waiting: [VecDeque<Waiter>; 2],
}

pub(super) struct Waiter {
    ticket: u64,
    /// Woken when it is handed the gate.
    wake: Arc<Notify>,
}

/// One caller's place in a gate, from `Gate::join` until it is dropped: a guard, so a
/// cancelled wait leaves its lane, or hands the gate on if it held it.
pub(super) struct Turn<'a> {
    gate: &'a Gate,
    ticket: u64,
    priority: Priority,
    wake: Arc<Notify>,
}

impl Gate {
    /// Takes the gate if it is free, else queues at the back of `priority`'s lane.
    pub(super) fn join(&self, priority: Priority) -> Turn<'_> {
        let mut lanes = self.lanes.lock().unwrap();
        let ticket = lanes.next_ticket;
        lanes.next_ticket += 1;
        let wake = Arc::new(Notify::new());
        let me = Waiter {
            ticket,
            wake: wake.clone(),
        };
        if lanes.holder.is_none() {
            lanes.holder = Some(me);
        } else {
            lanes.waiting[priority.lane()].push_back(me);
        }
        Turn {
            gate: self,
            ticket,
            priority,
            wake,
        }
    }
}

impl Lanes {
    fn holds(&self, ticket: u64) -> bool {
        self.holder.as_ref().is_some_and(|h| h.ticket == ticket)
    }

    /// Whether someone more urgent than `priority` waits.
    fn outranked(&self, priority: Priority) -> bool {
        self.waiting[..priority.lane()]
            .iter()
            .any(|lane| !lane.is_empty())
    }

    /// The gate is free: hands it to the first of the most urgent lane, if anyone waits.
    fn hand_on(&mut self) {
        debug_assert!(self.holder.is_none());
        let next = self.waiting.iter_mut().find_map(VecDeque::pop_front);
        if let Some(next) = &next {
            // Stored as a permit if it is not polling yet: the grant cannot be missed.
            next.wake.notify_one();
        }
        self.holder = next;
    }
}

impl Turn<'_> {
    /// Returns once this caller holds the gate and nobody more urgent waits. A holder that is
    /// outranked (a customer came while it slept for its slot) steps back to the head of its
    /// own lane, where it came before everyone else, and hands the gate on. It has taken
    /// nothing, and the slot it slept for is the customer's at once: every wait ends at a time
    /// set by the token's window and bucket, not by who holds the gate, so the customer waits
    /// no longer than the bulk caller would have.
    pub(super) async fn lead(&self) {
        loop {
            let woken = self.wake.notified();
            {
                let mut lanes = self.gate.lanes.lock().unwrap();
                if lanes.holds(self.ticket) {
                    if !lanes.outranked(self.priority) {
                        return;
                    }
                    let me = lanes.holder.take().expect("we hold the gate");
                    lanes.waiting[self.priority.lane()].push_front(me);
                    lanes.hand_on();
                }
            }
            woken.await;
        }
    }
}

impl Drop for Turn<'_> {
    fn drop(&mut self) {
        let mut lanes = self.gate.lanes.lock().unwrap();
        if lanes.holds(self.ticket) {
            lanes.holder = None;
            lanes.hand_on();
        } else {
            let lane = &mut lanes.waiting[self.priority.lane()];
            if let Some(index) = lane.iter().position(|w| w.ticket == self.ticket) {
                lane.remove(index);
            }
        }
    }
}
