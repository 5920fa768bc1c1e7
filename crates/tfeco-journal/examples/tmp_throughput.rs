//! temporary throughput check (deleted after use)
use std::time::Instant;
use tfeco_journal::*;
fn main() {
    let dir = tempfile::tempdir_in(std::env::args().nth(1).unwrap_or(".".into())).unwrap();
    let (mut j, _) = SqliteJournal::open(dir.path()).unwrap();
    let n_batches = 300;
    let mut ts = 0;
    let batches: Vec<Vec<NewEntry>> = (0..n_batches).map(|b| (0..1000).map(|i| { ts += 1; NewEntry { timestamp_ms: ts, signer: [(b % 251) as u8; 32], payload: vec![i as u8; 150], signature: vec![7; 64] }}).collect()).collect();
    let t = Instant::now();
    for b in &batches { j.append(b).unwrap(); }
    let el = t.elapsed().as_secs_f64();
    eprintln!("append: {:.0} entries/s", (n_batches * 1000) as f64 / el);
    drop(j);
    let (j, _) = SqliteJournal::open(dir.path()).unwrap();
    for _ in 0..2 {
        let t = Instant::now();
        let mut n = 0u64;
        j.replay(1, &mut |e| { n += e.payload.len() as u64; Ok(()) }).unwrap();
        let el = t.elapsed().as_secs_f64();
        eprintln!("replay: {:.0} entries/s", (n_batches * 1000) as f64 / el);
    }
    let mut m = MemoryJournal::new();
    for b in &batches { m.append(b).unwrap(); }
    let t = Instant::now();
    m.replay(1, &mut |_| Ok(())).unwrap();
    eprintln!("memory replay: {:.0} entries/s", (n_batches * 1000) as f64 / t.elapsed().as_secs_f64());
}
