//! Scenario seeds: every command kind, under the same faults. One seed in eight
//! ([`is_scenario_seed`]) plays `tfeco_testkit::every_command_kind` (an accepted command of each of the
//! 45 kinds: exit positions and rounds, the exchange, standing bids, capacity requests, farming pools,
//! uptime reports and minting, governance, ...) through the node on the simulated disk, with crashes,
//! power loss, torn writes, bit flips and failed I/O, and noise the node must refuse (replayed requests,
//! requests by a key that never registered). The reference is the fault-free core itself: the script's
//! state hash after each of its commands, computed in memory beforehand; after every acknowledged batch and
//! every restart the node's state hash must be the one at the script's position. The reference model
//! ([`crate::model`]) does not take part: it covers the kinds the simulated clients send.

use tfeco_core::{AccountKey, Command, Envelope, Genesis, RequestBody, SignedBody, State};
use tfeco_server::replica::{BatchItem, SignedRequest};

use crate::model::Prediction;
use crate::rng::Rng;

/// `true` for the seeds that play the scenario (one in eight).
pub fn is_scenario_seed(seed: u64) -> bool {
    seed % 8 == 7
}

/// The scenario, its commands' times and the fault-free state hashes.
pub struct Script {
    /// The genesis the scenario starts from.
    pub genesis: Genesis,
    /// The accepted commands, in order, each with its journaled time (unix seconds).
    entries: Vec<(Envelope, i64)>,
    /// `hashes[i]`: the state hash after the first `i` commands (`hashes[0]`: the genesis state's).
    hashes: Vec<String>,
    /// Commands acknowledged so far.
    next: usize,
}

impl Script {
    /// The scenario of every command kind, replayed once in memory for its state hashes.
    pub fn every_command_kind() -> Script {
        let harness = tfeco_testkit::every_command_kind();
        let entries: Vec<(Envelope, i64)> = harness.accepted.into_iter().zip(harness.accepted_at).collect();
        let mut state = State::new(harness.genesis.clone());
        let mut hashes = vec![state.state_hash()];
        for (envelope, at) in &entries {
            state.apply_at(envelope, *at).expect("the scenario's commands are accepted");
            hashes.push(state.state_hash());
        }
        Script { genesis: harness.genesis, entries, hashes, next: 0 }
    }

    /// From the start again (a new node).
    pub fn restart(&mut self) {
        self.next = 0;
    }

    /// `true` once every command was acknowledged.
    pub fn done(&self) -> bool {
        self.next == self.entries.len()
    }

    /// Commands acknowledged so far.
    pub fn position(&self) -> usize {
        self.next
    }

    /// The fault-free state hash at the current position.
    pub fn expected_hash(&self) -> &str {
        &self.hashes[self.next]
    }

    /// The next batch: up to `size` of the script's next commands that share one time (returned, unix
    /// milliseconds), with noise mixed in that the node must refuse (an acknowledged command sent again; a
    /// command signed by `stranger`, a key that never registers). Predictions: accept, refuse.
    pub fn batch(
        &self,
        rng: &mut Rng,
        size: usize,
        stranger: [u8; 32],
    ) -> (Vec<BatchItem>, Vec<Prediction>, i64) {
        let at = self.entries[self.next].1;
        let (mut items, mut predictions) = (Vec::new(), Vec::new());
        let mut index = self.next;
        while items.len() < size && index < self.entries.len() && self.entries[index].1 == at {
            if rng.below(3) == 0 {
                items.push(self.noise(rng, stranger, at));
                predictions.push(Prediction::Refuse);
            }
            items.push(request(&self.entries[index].0, at));
            predictions.push(Prediction::Accept);
            index += 1;
        }
        (items, predictions, at * 1000)
    }

    fn noise(&self, rng: &mut Rng, stranger: [u8; 32], at: i64) -> BatchItem {
        let (envelope, _) = &self.entries[rng.index(self.entries.len())];
        if self.next > 0 && rng.below(2) == 0 {
            // An acknowledged command again: its nonce is used.
            return request(&self.entries[rng.index(self.next)].0, at);
        }
        let command = match envelope.command {
            Command::RegisterAccount {} => Command::Tick { now: at },
            ref other => other.clone(),
        };
        request(&Envelope { signer: AccountKey(stranger), nonce: 1 + rng.below(5), command }, at)
    }

    /// The batch was acknowledged (or its first commands were kept at a restart): `accepted` script
    /// commands are in the journal.
    pub fn acknowledged(&mut self, accepted: usize) {
        self.next += accepted;
    }
}

/// A trusted request (dummy signature) of `envelope`, expiring a minute after `at`.
fn request(envelope: &Envelope, at: i64) -> BatchItem {
    let body = RequestBody {
        signer: envelope.signer,
        nonce: envelope.nonce,
        expiry: at + 60,
        command: envelope.command.clone(),
    };
    BatchItem::Signed(SignedRequest { body: SignedBody::encode(body), signature: vec![0; 64] })
}
