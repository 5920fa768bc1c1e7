//! The indexing thread: resolves what each event is about, checks the index against the journal at start,
//! rebuilds what is missing by replaying the journal from the genesis, then indexes each durable batch the
//! replica hands over, and publishes every indexed entry to the live subscribers.

use std::collections::{BTreeSet, HashMap};
use std::sync::mpsc;
use std::sync::{Arc, Weak};

use parking_lot::RwLock;
use tfeco_core::request::command_time;
use tfeco_core::{AccountKey, Event, Genesis, PositionId, SignedBody, State};

use super::filter::account_key;
use super::{EventLog, IndexedEntry, IndexedEvent};
use crate::Replica;

/// One durable batch as the replica hands it over: `(seq, timestamp_ms, signer, events)` per entry.
type Batch = Vec<(u64, i64, AccountKey, Vec<Event>)>;

/// Journal entries read per step of a rebuild.
const REBUILD_PAGE: usize = 512;

/// Entries indexed in one transaction at most when durable batches queue up behind the indexer.
const COALESCE_MAX: usize = 4_096;

/// How long the indexer waits for more durable batches before it indexes what it has.
const COALESCE_WAIT: std::time::Duration = std::time::Duration::from_millis(10);

/// What the state tells about the events' objects, plus what the state forgets: the owners of closed
/// exit-pool positions.
#[derive(Default)]
pub struct Resolver {
    position_owners: HashMap<PositionId, AccountKey>,
}

impl Resolver {
    /// A resolver that knows the owners of the positions open in `state`.
    pub fn seeded(state: &State) -> Self {
        let position_owners = state.exit_pool().positions().iter().map(|(id, p)| (*id, p.owner)).collect();
        Resolver { position_owners }
    }

    /// The public events of one entry signed by `signer` with their keys, resolved against `state` (the
    /// state after the entry or later: leases, nodes and farms are never removed). Sealed events are
    /// dropped. An event's accounts: those it names, the signer, a lease's tenant, the owner of the farm of
    /// each node it concerns (a lease's node included), a position's owner.
    pub fn entry(
        &mut self,
        state: &State,
        seq: u64,
        timestamp_ms: i64,
        signer: AccountKey,
        events: Vec<Event>,
    ) -> IndexedEntry {
        let events =
            events.into_iter().filter(|e| !e.is_sealed()).map(|e| self.event(state, signer, e)).collect();
        IndexedEntry { seq, ts: timestamp_ms.div_euclid(1000), events }
    }

    fn event(&mut self, state: &State, signer: AccountKey, event: Event) -> IndexedEvent {
        let touches = event.touches();
        let mut accounts: BTreeSet<AccountKey> = touches.accounts.into_iter().collect();
        accounts.insert(signer);
        let mut nodes: BTreeSet<_> = touches.nodes.into_iter().collect();
        let capacity = state.capacity();
        for lease in touches.leases.iter().filter_map(|id| capacity.leases().get(id)) {
            accounts.insert(lease.tenant);
            nodes.insert(lease.node_id);
        }
        for node in nodes.iter().filter_map(|id| capacity.nodes().get(id)) {
            if let Some(farm) = capacity.farms().get(&node.farm_id) {
                accounts.insert(farm.owner);
            }
        }
        match &event {
            Event::PositionOpened { position_id, owner, .. } => {
                self.position_owners.insert(*position_id, *owner);
            }
            Event::PositionClosed { position_id, .. } => {
                accounts.extend(self.position_owners.get(position_id).copied());
            }
            _ => {}
        }
        let mut keys: Vec<String> = accounts.iter().map(account_key).collect();
        keys.extend(nodes.iter().map(|n| format!("n:{}", n.0)));
        keys.extend(touches.leases.iter().map(|l| format!("l:{}", l.0)));
        keys.push(format!("k:{}", event.kind()));
        keys.sort();
        keys.dedup();
        IndexedEvent { event, keys }
    }
}

/// The indexer, installed as the replica's event sink and not yet running.
pub struct Indexer {
    log: EventLog,
    batches: mpsc::Receiver<Batch>,
    /// The journal head when the sink was installed: every later entry comes through `batches`.
    start_head: u64,
}

impl Indexer {
    /// Installs the sink on `replica` (before it serves).
    pub fn install(log: EventLog, replica: &mut Replica) -> Self {
        let (sender, batches) = mpsc::channel::<Batch>();
        replica.set_event_sink(Box::new(move |batch| {
            // The indexer gone (its thread ended on an index error): nothing is indexed any more.
            let _ = sender.send(batch);
        }));
        Indexer { log, batches, start_head: replica.head_seq() }
    }

    /// Runs the indexer on its own thread: check and rebuild, then index each batch until the replica is
    /// dropped. An index error stops indexing (logged); the node keeps serving.
    ///
    /// The thread holds the replica weakly: the replica owns the sink, and dropping it ends the thread.
    pub fn spawn(self, replica: Arc<RwLock<Replica>>) -> std::thread::JoinHandle<()> {
        let replica = Arc::downgrade(&replica);
        std::thread::Builder::new()
            .name("tfeco-events".to_owned())
            .spawn(move || {
                if let Err(error) = self.run(&replica) {
                    tracing::error!(%error, "the event index stopped; /v1/events and histories no longer advance");
                }
            })
            .expect("spawning the event indexer thread")
    }

    fn run(self, weak: &Weak<RwLock<Replica>>) -> Result<(), String> {
        let Some(replica) = weak.upgrade() else { return Ok(()) };
        let genesis = replica.read().genesis_bytes().map_err(|e| e.to_string())?;
        let from = self.check(&replica, &genesis).map_err(|e| e.to_string())?;
        if from <= self.start_head {
            let started = std::time::Instant::now();
            rebuild(&self.log, &replica, &genesis, from, self.start_head)?;
            tracing::info!(from, to = self.start_head, elapsed = ?started.elapsed(), "event index rebuilt");
        }
        let mut resolver = Resolver::seeded(replica.read().state());
        drop(replica);
        while let Ok(batch) = self.batches.recv() {
            let batch = self.coalesce(batch);
            let Some(&(last, ..)) = batch.last() else { continue };
            let Some(replica) = weak.upgrade() else { return Ok(()) };
            let (entries, hash) = {
                let replica = replica.read();
                let entries: Vec<Arc<IndexedEntry>> = batch
                    .into_iter()
                    .map(|(seq, ts, signer, events)| {
                        Arc::new(resolver.entry(replica.state(), seq, ts, signer, events))
                    })
                    .collect();
                (entries, entry_hash(&replica, last)?)
            };
            self.log.store.insert(&entries, last, &hash).map_err(|e| e.to_string())?;
            self.log.publish(&entries);
        }
        Ok(())
    }

    /// `first` and the batches that follow it within [`COALESCE_WAIT`] (at most about [`COALESCE_MAX`]
    /// entries), in journal order: one index transaction for all of them. The index is derived data: under
    /// load it lags the journal by at most that wait, and it commits far fewer transactions.
    fn coalesce(&self, mut batch: Batch) -> Batch {
        let deadline = std::time::Instant::now() + COALESCE_WAIT;
        while batch.len() < COALESCE_MAX {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match self.batches.recv_timeout(left) {
                Ok(more) => batch.extend(more),
                Err(_) => break,
            }
        }
        batch
    }

    /// The first seq the index lacks, after emptying an index of another journal, of a rewritten tail or
    /// ahead of the journal.
    fn check(&self, replica: &Arc<RwLock<Replica>>, genesis: &[u8]) -> Result<u64, rusqlite::Error> {
        let store = &self.log.store;
        let root = blake3::hash(genesis).as_bytes().to_vec();
        let head = store.head()?;
        let same_journal = store.meta("genesis")?.as_deref() == Some(root.as_slice());
        let same_tail = head == 0
            || (head <= self.start_head
                && entry_hash(&replica.read(), head).ok().as_deref() == store.meta("head_hash")?.as_deref());
        if same_journal && same_tail {
            return Ok(head + 1);
        }
        if head > 0 || !same_journal {
            tracing::info!(head, "the event index does not match the journal; rebuilding it");
        }
        store.reset(&root)?;
        Ok(1)
    }
}

fn entry_hash(replica: &Replica, seq: u64) -> Result<Vec<u8>, String> {
    let entries = replica.read_entries(seq, 1).map_err(|e| e.to_string())?;
    entries
        .first()
        .filter(|e| e.seq == seq)
        .map(|e| e.hash.to_vec())
        .ok_or_else(|| format!("no journal entry {seq}"))
}

/// Replays the journal from the genesis and indexes the entries `from ..= to`, page by page (each page
/// one transaction, then published).
fn rebuild(
    log: &EventLog,
    replica: &Arc<RwLock<Replica>>,
    genesis: &[u8],
    from: u64,
    to: u64,
) -> Result<(), String> {
    let mut state = State::new(Genesis::decode(genesis).map_err(|e| e.to_string())?);
    let mut resolver = Resolver::default();
    let mut next = 1;
    while next <= to {
        let page = replica.read().read_entries(next, REBUILD_PAGE).map_err(|e| e.to_string())?;
        let Some(last) = page.last().map(|e| e.seq.min(to)) else { break };
        let mut indexed = Vec::new();
        for entry in page.iter().take_while(|e| e.seq <= to) {
            let body = SignedBody::from_payload(&entry.payload)
                .map_err(|e| format!("entry {}: {e:?}", entry.seq))?;
            let signer = body.body().signer;
            let at = command_time(entry.timestamp_ms, state.now());
            let events =
                state.apply_at(&body.into_envelope(), at).map_err(|r| format!("entry {}: {r}", entry.seq))?;
            let resolved = resolver.entry(&state, entry.seq, entry.timestamp_ms, signer, events);
            if entry.seq >= from {
                indexed.push(Arc::new(resolved));
            }
        }
        let hash = page.iter().find(|e| e.seq == last).map(|e| e.hash.to_vec()).unwrap_or_default();
        if last >= from {
            log.store.insert(&indexed, last, &hash).map_err(|e| e.to_string())?;
            log.publish(&indexed);
        }
        next = last + 1;
    }
    Ok(())
}
