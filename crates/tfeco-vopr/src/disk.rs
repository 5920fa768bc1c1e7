//! The simulated disk: the journal's log file, the anchor file and the snapshot folder as bytes in memory,
//! with the difference between what was written (the page cache) and what is durable (synced), and every
//! storage fault the simulator injects, chosen by the seed's random stream:
//!
//! - a **crash** at any I/O point (inside a write: a prefix of it reached the page cache; before a sync;
//!   between the journal's sync and the anchor's write; inside the anchor write): every later I/O fails and
//!   the node must restart;
//! - **power loss** at restart: unsynced bytes are lost, except a random prefix of them (a **torn write**),
//!   whose last bytes may be stale garbage (sectors written out of order);
//! - **failed writes** (nothing or a prefix written) and **failed syncs** (after which the unsynced bytes
//!   may be dropped by the kernel, as Linux does): the journal must stop (fail-stop);
//! - **bit flips** in stored bytes, anywhere: old records, the tail, either anchor slot, a snapshot file;
//! - in the **snapshot folder** (the real `tfeco_server::snapshots` code runs on it): failed and crashed
//!   writes of the temporary file, a failed file sync, a crash before or after the rename, a failed folder
//!   sync; at a power loss the folder is what its last syncs made durable (a rename or a removal not yet
//!   synced is undone).
//!
//! Next to the real bytes the disk keeps a *clean mirror* that receives every write but no flip and no
//! garbage: the copy a standby would hold, used to restore the node after its journal was (rightly) refused.

use std::collections::BTreeMap;
use std::io;
use std::sync::Arc;

use crate::rng::Rng;

/// How often each fault happens, in parts per million per opportunity. A zero rate disables a fault.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FaultRates {
    /// A journal write fails (nothing or a prefix of it written); the node continues until it restarts.
    pub write_fail: u32,
    /// A journal or anchor sync fails.
    pub sync_fail: u32,
    /// The process dies inside a journal write (a prefix reached the page cache).
    pub crash_in_write: u32,
    /// The process dies after a journal write, before its sync.
    pub crash_before_sync: u32,
    /// The process dies after the journal's sync, before or inside the anchor write.
    pub crash_in_anchor: u32,
    /// At a crash, the machine also loses power (unsynced bytes lost, maybe torn).
    pub power_loss: u32,
    /// At a power loss, a prefix of the unsynced bytes survives (a torn write).
    pub torn: u32,
    /// Per simulated step: one bit of the stored bytes flips.
    pub bit_flip: u32,
}

impl FaultRates {
    /// No faults at all (a healthy disk).
    pub const NONE: FaultRates = FaultRates {
        write_fail: 0,
        sync_fail: 0,
        crash_in_write: 0,
        crash_before_sync: 0,
        crash_in_anchor: 0,
        power_loss: 0,
        torn: 0,
        bit_flip: 0,
    };

    /// These rates with every per-opportunity fault `factor` times as frequent (at most one in five);
    /// the chances at a crash (power loss, torn write) are kept.
    pub fn scaled(self, factor: u32) -> FaultRates {
        let scale = |rate: u32| rate.saturating_mul(factor).min(200_000);
        FaultRates {
            write_fail: scale(self.write_fail),
            sync_fail: scale(self.sync_fail),
            crash_in_write: scale(self.crash_in_write),
            crash_before_sync: scale(self.crash_before_sync),
            crash_in_anchor: scale(self.crash_in_anchor),
            bit_flip: scale(self.bit_flip),
            ..self
        }
    }

    /// Rates drawn for one seed: each fault is off for some seeds and frequent for others, so that runs
    /// cover both long healthy stretches and storms of faults.
    pub fn for_seed(rng: &mut Rng) -> FaultRates {
        let mut rate = |max: u32| if rng.chance(250_000) { 0 } else { rng.below(u64::from(max) + 1) as u32 };
        FaultRates {
            write_fail: rate(2_000),
            sync_fail: rate(2_000),
            crash_in_write: rate(3_000),
            crash_before_sync: rate(3_000),
            crash_in_anchor: rate(3_000),
            power_loss: rate(700_000),
            torn: rate(700_000),
            bit_flip: rate(5_000),
        }
    }
}

/// An append-only file (the journal's log): written bytes, the durable prefix, and the clean mirror.
#[derive(Clone, Debug, Default)]
pub struct LogFile {
    /// What a reader sees (page cache), flips and garbage included.
    pub data: Vec<u8>,
    /// The same writes without flips or garbage.
    pub clean: Vec<u8>,
    /// Length of the durable prefix.
    pub synced: usize,
}

/// A small file written in place (the anchor): page cache and durable copies, and their clean mirrors.
#[derive(Clone, Debug, Default)]
pub struct SlotFile {
    /// What a reader sees.
    pub current: Vec<u8>,
    /// What survives a power loss.
    pub durable: Vec<u8>,
    /// The last unsynced write `(offset, bytes)`: what a torn write may leave a prefix of.
    pub pending: Option<(usize, Vec<u8>)>,
    /// Clean mirror of `current` (no flips).
    pub clean: Vec<u8>,
}

/// A fault rate for snapshot I/O: fifty times the journal's (capped at one in five), because a node
/// writes a snapshot for hundreds of journal writes.
fn for_snapshot(per_million: u32) -> u32 {
    per_million.saturating_mul(50).min(200_000)
}

fn write_into(target: &mut Vec<u8>, offset: usize, bytes: &[u8]) {
    if target.len() < offset + bytes.len() {
        target.resize(offset + bytes.len(), 0);
    }
    target[offset..offset + bytes.len()].copy_from_slice(bytes);
}

/// The snapshot folder: its files as a reader sees them and as they survive a power loss.
#[derive(Clone, Debug, Default)]
pub struct Folder {
    /// What a reader sees.
    pub current: BTreeMap<String, Vec<u8>>,
    /// What survives a power loss.
    pub durable: BTreeMap<String, Vec<u8>>,
}

/// The whole simulated disk of one node, shared (behind [`SharedDisk`]) by the journal, the anchor store
/// and the simulator that injects faults.
#[derive(Debug)]
pub struct Disk {
    /// The journal's log.
    pub log: LogFile,
    /// The anchor file.
    pub anchor: SlotFile,
    /// The snapshot folder.
    pub snapshots: Folder,
    /// The fault rates of this run.
    pub rates: FaultRates,
    rng: Rng,
    /// Set when the process died: every later I/O fails until [`Disk::restart`].
    pub crashed: bool,
    /// Faults injected so far, by kind.
    pub faults: BTreeMap<&'static str, u64>,
    /// Storage faults injected since the last restart that may legitimately make opening refuse the
    /// journal (bit flips, garbage); a refusal without any is a violation.
    pub damaged: bool,
    /// Damage events (bit flips, garbage) since the last restore: two can hide a lost commit from the
    /// anchor (a flipped newest anchor copy and a flipped last commit), which no single check can see.
    pub damage_events: u32,
    /// Injected I/O errors so far (crashes and failures): an opening that failed on one is retried.
    pub io_errors: u64,
    /// The journal's head after its last successful append (what the node acknowledges).
    pub journal_head: tfeco_journal::Head,
}

/// The disk, shared by the journal (which the replica owns, so `Send`), the anchor store and the runner.
pub type SharedDisk = Arc<parking_lot::Mutex<Disk>>;

fn injected(what: &str) -> io::Error {
    io::Error::other(format!("simulated {what}"))
}

impl Disk {
    /// An empty disk whose faults follow `rates` and the random stream `rng`.
    pub fn new(rates: FaultRates, rng: Rng) -> SharedDisk {
        Arc::new(parking_lot::Mutex::new(Disk {
            log: LogFile::default(),
            anchor: SlotFile::default(),
            snapshots: Folder::default(),
            rates,
            rng,
            crashed: false,
            faults: BTreeMap::new(),
            damaged: false,
            damage_events: 0,
            io_errors: 0,
            journal_head: tfeco_journal::Head::EMPTY,
        }))
    }

    /// An injected I/O error (counted in [`Disk::io_errors`]).
    fn fail(&mut self, what: &str) -> io::Error {
        self.io_errors += 1;
        injected(what)
    }

    fn count(&mut self, kind: &'static str) {
        *self.faults.entry(kind).or_insert(0) += 1;
    }

    fn roll(&mut self, per_million: u32) -> bool {
        per_million > 0 && self.rng.chance(per_million)
    }

    /// Appends `bytes` to the log (page cache). Faults: a failed write or a crash inside it (a random
    /// prefix is written).
    pub fn log_append(&mut self, bytes: &[u8]) -> io::Result<()> {
        if self.crashed {
            return Err(self.fail("I/O after a crash"));
        }
        let fail = self.roll(self.rates.write_fail);
        let crash = !fail && self.roll(self.rates.crash_in_write);
        if fail || crash {
            let prefix = self.rng.index(bytes.len() + 1);
            self.log.data.extend_from_slice(&bytes[..prefix]);
            self.log.clean.extend_from_slice(&bytes[..prefix]);
            self.count(if fail { "write_fail" } else { "crash_in_write" });
            self.crashed |= crash;
            return Err(self.fail(if fail { "write failure" } else { "crash in a write" }));
        }
        self.log.data.extend_from_slice(bytes);
        self.log.clean.extend_from_slice(bytes);
        Ok(())
    }

    /// Cuts the log to `len` bytes (dropping a torn tail or an unacknowledged commit); durable at once.
    pub fn log_truncate(&mut self, len: usize) -> io::Result<()> {
        if self.crashed {
            return Err(self.fail("I/O after a crash"));
        }
        self.log.data.truncate(len);
        self.log.clean.truncate(len);
        self.log.synced = self.log.synced.min(len);
        Ok(())
    }

    /// Makes the log durable. Faults: a crash before the sync; a failed sync, after which the kernel may
    /// have dropped the unsynced pages.
    pub fn log_sync(&mut self) -> io::Result<()> {
        if self.crashed {
            return Err(self.fail("I/O after a crash"));
        }
        if self.roll(self.rates.crash_before_sync) {
            self.count("crash_before_sync");
            self.crashed = true;
            return Err(self.fail("crash before a sync"));
        }
        if self.roll(self.rates.sync_fail) {
            self.count("sync_fail");
            if self.rng.chance(500_000) {
                let synced = self.log.synced;
                self.log.data.truncate(synced);
                self.log.clean.truncate(synced);
            }
            return Err(self.fail("sync failure"));
        }
        self.log.synced = self.log.data.len();
        Ok(())
    }

    /// Writes an anchor slot (page cache). Faults: a crash before it (the journal commit is then durable
    /// but unanchored) or inside it (a torn slot), a failed write.
    pub fn anchor_write(&mut self, bytes: &[u8], offset: usize) -> io::Result<()> {
        if self.crashed {
            return Err(self.fail("I/O after a crash"));
        }
        if self.roll(self.rates.crash_in_anchor) {
            self.count("crash_in_anchor");
            self.crashed = true;
            if self.rng.chance(500_000) {
                let prefix = self.rng.index(bytes.len() + 1);
                write_into(&mut self.anchor.current, offset, &bytes[..prefix]);
                write_into(&mut self.anchor.clean, offset, &bytes[..prefix]);
                self.anchor.pending = Some((offset, bytes[..prefix].to_vec()));
            }
            return Err(self.fail("crash at the anchor write"));
        }
        if self.roll(self.rates.write_fail) {
            self.count("anchor_write_fail");
            return Err(self.fail("anchor write failure"));
        }
        write_into(&mut self.anchor.current, offset, bytes);
        write_into(&mut self.anchor.clean, offset, bytes);
        self.anchor.pending = Some((offset, bytes.to_vec()));
        Ok(())
    }

    /// Makes the anchor durable. Faults: a failed sync.
    pub fn anchor_sync(&mut self) -> io::Result<()> {
        if self.crashed {
            return Err(self.fail("I/O after a crash"));
        }
        if self.roll(self.rates.sync_fail) {
            self.count("anchor_sync_fail");
            return Err(self.fail("anchor sync failure"));
        }
        self.anchor.durable.clone_from(&self.anchor.current);
        self.anchor.pending = None;
        Ok(())
    }

    /// Flips one random bit of the stored bytes: of a snapshot file (one time in eight, when there is
    /// one), of the log (three times in four of the rest) or of the anchor. A snapshot's flip does not
    /// count as damage: the node must skip that snapshot, never refuse to open. Returns whether a bit
    /// flipped (an empty file has none).
    pub fn flip_bit(&mut self) -> bool {
        if self.rng.below(8) == 0 && !self.snapshots.current.is_empty() {
            return self.flip_snapshot_bit();
        }
        let in_log = self.rng.below(4) != 0 && !self.log.data.is_empty();
        let target = if in_log { &mut self.log.data } else { &mut self.anchor.current };
        if target.is_empty() {
            return false;
        }
        let at = self.rng.index(target.len());
        let bit = 1u8 << self.rng.below(8);
        target[at] ^= bit;
        if !in_log && at < self.anchor.durable.len() {
            self.anchor.durable[at] ^= bit;
        }
        self.count(if in_log { "bit_flip_log" } else { "bit_flip_anchor" });
        self.damaged = true;
        self.damage_events += 1;
        true
    }

    fn flip_snapshot_bit(&mut self) -> bool {
        let names: Vec<String> = self.snapshots.current.keys().cloned().collect();
        let name = &names[self.rng.index(names.len())];
        let Some(file) = self.snapshots.current.get_mut(name).filter(|f| !f.is_empty()) else { return false };
        let (at, bit) = (self.rng.index(file.len()), 1u8 << self.rng.below(8));
        file[at] ^= bit;
        if let Some(durable) = self.snapshots.durable.get_mut(name).filter(|d| at < d.len()) {
            durable[at] ^= bit;
        }
        self.count("bit_flip_snapshot");
        true
    }

    /// Reads snapshot file `name`.
    pub fn snapshot_read(&mut self, name: &str) -> io::Result<Vec<u8>> {
        if self.crashed {
            return Err(self.fail("I/O after a crash"));
        }
        let file = self.snapshots.current.get(name).cloned();
        file.ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, format!("no snapshot file {name}")))
    }

    /// Writes and syncs snapshot file `name`. Faults: a failed write or a crash inside it (a prefix
    /// written, not durable), a failed sync (written, not durable).
    pub fn snapshot_write(&mut self, name: &str, bytes: &[u8]) -> io::Result<()> {
        if self.crashed {
            return Err(self.fail("I/O after a crash"));
        }
        let fail = self.roll(for_snapshot(self.rates.write_fail));
        let crash = !fail && self.roll(for_snapshot(self.rates.crash_in_write));
        if fail || crash {
            let prefix = self.rng.index(bytes.len() + 1);
            self.snapshots.current.insert(name.to_owned(), bytes[..prefix].to_vec());
            self.count(if fail { "snapshot_write_fail" } else { "crash_in_snapshot" });
            self.crashed |= crash;
            return Err(self.fail("snapshot write failure"));
        }
        self.snapshots.current.insert(name.to_owned(), bytes.to_vec());
        if self.roll(for_snapshot(self.rates.sync_fail)) {
            self.count("snapshot_sync_fail");
            return Err(self.fail("snapshot sync failure"));
        }
        self.snapshots.durable.insert(name.to_owned(), bytes.to_vec());
        Ok(())
    }

    /// Renames snapshot file `from` to `to` and syncs the folder. Faults: a crash before the rename, or
    /// after it before the folder's sync (the rename is then lost at a power loss), a failed folder sync.
    pub fn snapshot_rename(&mut self, from: &str, to: &str) -> io::Result<()> {
        if self.crashed {
            return Err(self.fail("I/O after a crash"));
        }
        let crash_at =
            if self.roll(for_snapshot(self.rates.crash_before_sync)) { 1 + self.rng.below(2) } else { 0 };
        if crash_at == 1 {
            self.count("crash_at_snapshot_rename");
            self.crashed = true;
            return Err(self.fail("crash before a rename"));
        }
        let Some(file) = self.snapshots.current.remove(from) else {
            return Err(io::Error::new(io::ErrorKind::NotFound, format!("no snapshot file {from}")));
        };
        self.snapshots.current.insert(to.to_owned(), file);
        if crash_at == 2 {
            self.count("crash_at_snapshot_rename");
            self.crashed = true;
            return Err(self.fail("crash before a folder sync"));
        }
        self.snapshot_sync_dir()
    }

    /// Removes snapshot file `name` (durable at the next folder sync).
    pub fn snapshot_remove(&mut self, name: &str) -> io::Result<()> {
        if self.crashed {
            return Err(self.fail("I/O after a crash"));
        }
        self.snapshots.current.remove(name);
        Ok(())
    }

    /// Syncs the snapshot folder: its names (renames, removals) become durable. Faults: a failed sync.
    pub fn snapshot_sync_dir(&mut self) -> io::Result<()> {
        if self.crashed {
            return Err(self.fail("I/O after a crash"));
        }
        if self.roll(for_snapshot(self.rates.sync_fail)) {
            self.count("snapshot_sync_fail");
            return Err(self.fail("snapshot folder sync failure"));
        }
        let Folder { current, durable } = &mut self.snapshots;
        durable.retain(|name, _| current.contains_key(name));
        for (name, bytes) in current.iter() {
            if !durable.contains_key(name) {
                durable.insert(name.clone(), bytes.clone());
            }
        }
        Ok(())
    }

    /// The process restarts after a crash or a storage failure. With `power_loss` the machine also lost
    /// power: unsynced bytes are gone, except (a torn write) a random prefix of them, whose end may be
    /// stale garbage; the snapshot folder is what its syncs made durable.
    pub fn restart(&mut self, power_loss: bool) {
        self.crashed = false;
        if !power_loss {
            return;
        }
        self.count("power_loss");
        self.snapshots.current.clone_from(&self.snapshots.durable);
        let unsynced = self.log.data.len() - self.log.synced;
        let mut keep = self.log.synced;
        if unsynced > 0 && self.roll(self.rates.torn) {
            self.count("torn_write");
            // Half the time every byte reached the disk but the last sectors may be stale (below).
            keep += if self.rng.below(2) == 0 { unsynced } else { self.rng.index(unsynced + 1) };
        }
        self.log.data.truncate(keep);
        self.log.clean.truncate(keep);
        let torn_bytes = keep - self.log.synced;
        if torn_bytes > 0 && self.rng.chance(500_000) {
            self.count("torn_garbage");
            let garbage = 1 + self.rng.index(torn_bytes.min(64));
            for byte in &mut self.log.data[keep - garbage..] {
                *byte = self.rng.next_u64() as u8;
            }
            self.damaged = true;
            self.damage_events += 1;
        }
        self.log.synced = keep;
        self.lose_anchor_cache();
    }

    /// At a power loss the anchor's unsynced write is lost, or a prefix of it survives (torn).
    fn lose_anchor_cache(&mut self) {
        let Some((offset, bytes)) = self.anchor.pending.take() else { return };
        self.anchor.current.clone_from(&self.anchor.durable);
        let mut clean = self.anchor.durable.clone();
        if self.roll(self.rates.torn) {
            self.count("torn_anchor");
            let prefix = self.rng.index(bytes.len() + 1);
            write_into(&mut self.anchor.current, offset, &bytes[..prefix]);
            write_into(&mut clean, offset, &bytes[..prefix]);
        }
        self.anchor.clean = clean;
        self.anchor.durable.clone_from(&self.anchor.current);
    }

    /// Restores the clean mirror (a standby's copy of the node's files) after the journal was refused.
    pub fn restore_clean(&mut self) {
        self.log.data.clone_from(&self.log.clean);
        self.log.synced = self.log.data.len();
        self.anchor.current.clone_from(&self.anchor.clean);
        self.anchor.durable.clone_from(&self.anchor.clean);
        self.anchor.pending = None;
        self.damaged = false;
        self.damage_events = 0;
        self.count("restore");
    }
}

/// The snapshot folder on the simulated disk: the real `tfeco_server::snapshots` code runs on it. When
/// `hidden`, the folder lists no file (a boot that must replay from the genesis).
#[derive(Debug, Clone)]
pub struct SimSnapshotStore {
    /// The disk.
    pub disk: SharedDisk,
    /// List no file.
    pub hidden: bool,
}

impl tfeco_server::snapshots::SnapshotStore for SimSnapshotStore {
    fn path(&self, name: &str) -> std::path::PathBuf {
        std::path::Path::new("sim/snapshots").join(name)
    }
    fn names(&mut self) -> Vec<String> {
        let disk = self.disk.lock();
        if self.hidden || disk.crashed {
            return Vec::new();
        }
        disk.snapshots.current.keys().cloned().collect()
    }
    fn read(&mut self, name: &str) -> io::Result<Vec<u8>> {
        self.disk.lock().snapshot_read(name)
    }
    fn write_synced(&mut self, name: &str, bytes: &[u8]) -> io::Result<()> {
        self.disk.lock().snapshot_write(name, bytes)
    }
    fn rename_synced(&mut self, from: &str, to: &str) -> io::Result<()> {
        self.disk.lock().snapshot_rename(from, to)
    }
    fn remove(&mut self, name: &str) -> io::Result<()> {
        self.disk.lock().snapshot_remove(name)
    }
    fn sync_dir(&mut self) -> io::Result<()> {
        self.disk.lock().snapshot_sync_dir()
    }
}

/// The anchor file on the simulated disk: the real [`tfeco_journal::AnchorFile`] runs on it.
#[derive(Debug, Clone)]
pub struct SimAnchorStore(pub SharedDisk);

impl tfeco_journal::AnchorStore for SimAnchorStore {
    fn write_at(&mut self, bytes: &[u8], offset: u64) -> io::Result<()> {
        self.0.lock().anchor_write(bytes, offset as usize)
    }
    fn sync(&mut self) -> io::Result<()> {
        self.0.lock().anchor_sync()
    }
    fn read_all(&mut self) -> io::Result<Vec<u8>> {
        let mut disk = self.0.lock();
        if disk.crashed {
            return Err(disk.fail("I/O after a crash"));
        }
        Ok(disk.anchor.current.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn power_loss_drops_unsynced_bytes_and_keeps_synced_ones() {
        let disk = Disk::new(FaultRates::NONE, Rng::new(1));
        let mut d = disk.lock();
        d.log_append(b"durable").expect("write");
        d.log_sync().expect("sync");
        d.log_append(b"lost").expect("write");
        d.restart(true);
        assert_eq!(d.log.data, b"durable");
        d.anchor_write(b"slot", 0).expect("write");
        d.anchor_sync().expect("sync");
        d.anchor_write(b"SL", 0).expect("write");
        d.restart(true);
        assert_eq!(d.anchor.current, b"slot");
    }

    #[test]
    fn the_snapshot_folder_keeps_at_a_power_loss_only_what_its_syncs_made_durable() {
        let disk = Disk::new(FaultRates::NONE, Rng::new(3));
        let mut d = disk.lock();
        d.snapshot_write("a.tmp", b"first").expect("write");
        d.snapshot_rename("a.tmp", "a").expect("rename");
        d.snapshot_write("b.tmp", b"second").expect("write");
        d.snapshot_remove("a").expect("remove");
        d.restart(true);
        // The removal was never synced; the temporary file's content was.
        assert_eq!(d.snapshot_read("a").expect("a survives"), b"first");
        assert_eq!(d.snapshot_read("b.tmp").expect("synced"), b"second");
        d.snapshot_remove("a").expect("remove");
        d.snapshot_sync_dir().expect("sync");
        d.restart(true);
        assert!(d.snapshot_read("a").is_err());
        assert!(d.flip_snapshot_bit());
        assert_ne!(d.snapshot_read("b.tmp").expect("still there"), b"second");
    }

    #[test]
    fn a_crash_fails_every_io_until_restart_and_flips_spare_the_clean_mirror() {
        let rates = FaultRates { crash_in_write: 1_000_000, ..FaultRates::NONE };
        let disk = Disk::new(rates, Rng::new(2));
        let mut d = disk.lock();
        assert!(d.log_append(b"abcdef").is_err());
        assert!(d.crashed && d.log_sync().is_err());
        d.restart(false);
        d.rates = FaultRates::NONE;
        d.log_append(b"xyz").expect("write");
        assert!(d.flip_bit());
        assert_ne!(d.log.data, d.log.clean);
        d.restore_clean();
        assert_eq!(d.log.data, d.log.clean);
        assert_eq!(d.faults.get("crash_in_write"), Some(&1));
    }
}
