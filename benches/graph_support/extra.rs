//! The parts of the graph bench added for issue 17: the memory-latency
//! floor and each query's floor model, the bidirectional search baseline,
//! careful SQL on SQLite, and the partitioned simulation.
//!
//! Everything here works on dense positions (`0..n`), as the rest of the
//! bench does; member ids only appear where an answer is compared.

use super::{Baseline, Rng};
use petgraph::graph::NodeIndex;
use pronet::Degree;
use std::collections::{HashMap, HashSet};
use std::hint::black_box;
use std::time::Instant;

/// The input graph as sorted adjacency lists (a compressed sparse row),
/// used to replay a query's access pattern and to simulate partitions.
pub struct Csr {
    offsets: Vec<usize>,
    targets: Vec<u32>,
    /// Cache lines an id-to-slot lookup reads: 1, or 0 when the ids are
    /// sequential in slot order (`base`, `base + 1`, ...), where pronet's
    /// slot is `id - base` and reads no memory.
    pub lookup_lines: u32,
}

impl Csr {
    pub fn new(n: usize, edges: &[(u32, u32)]) -> Self {
        let mut offsets = vec![0usize; n + 1];
        for &(a, b) in edges {
            offsets[a as usize + 1] += 1;
            offsets[b as usize + 1] += 1;
        }
        for i in 0..n {
            offsets[i + 1] += offsets[i];
        }
        let mut fill = offsets.clone();
        let mut targets = vec![0u32; offsets[n]];
        for &(a, b) in edges {
            targets[fill[a as usize]] = b;
            fill[a as usize] += 1;
            targets[fill[b as usize]] = a;
            fill[b as usize] += 1;
        }
        for i in 0..n {
            targets[offsets[i]..offsets[i + 1]].sort_unstable();
        }
        Self {
            offsets,
            targets,
            lookup_lines: 1,
        }
    }

    pub fn of(&self, s: u32) -> &[u32] {
        &self.targets[self.offsets[s as usize]..self.offsets[s as usize + 1]]
    }
}

/// This machine's memory latency, measured in the same run as the queries.
pub struct Floor {
    /// One dependent random access (a pointer chase), ns.
    pub miss_ns: f64,
    /// One random access when eight independent chases run interleaved
    /// (the misses overlap), ns per access.
    pub overlapped_ns: f64,
    pub bytes: usize,
}

/// Chases a random single cycle through `bytes` of cache lines (Sattolo's
/// shuffle, so the chase visits every line before repeating), once alone
/// and once as eight interleaved chases.
pub fn measure_floor(bytes: usize, steps: usize, rng: &mut Rng) -> Floor {
    const LINE: usize = 16; // u32 words per 64-byte line
    let lines = (bytes / 64).max(2);
    let mut order: Vec<u32> = (0..lines as u32).collect();
    for i in (1..lines).rev() {
        let j = rng.below(i);
        order.swap(i, j);
    }
    let mut buf = vec![0u32; lines * LINE];
    for w in 0..lines {
        let (from, to) = (order[w] as usize, order[(w + 1) % lines]);
        buf[from * LINE] = to;
    }
    drop(order);
    // Warm the TLB and page tables a little, then measure.
    let mut at = 0u32;
    for _ in 0..steps / 10 {
        at = buf[at as usize * LINE];
    }
    let t = Instant::now();
    for _ in 0..steps {
        at = buf[at as usize * LINE];
    }
    let miss_ns = t.elapsed().as_nanos() as f64 / steps as f64;
    black_box(at);
    let mut ats: [u32; 8] = std::array::from_fn(|i| (i * lines / 8) as u32);
    let t = Instant::now();
    for _ in 0..steps / 8 {
        for a in &mut ats {
            *a = buf[*a as usize * LINE];
        }
    }
    let overlapped_ns = t.elapsed().as_nanos() as f64 / (steps / 8 * 8) as f64;
    black_box(ats);
    Floor {
        miss_ns,
        overlapped_ns,
        bytes: lines * 64,
    }
}

/// A query's floor under the memory model: `levels` dependent misses (each
/// waits for the one before) plus every other random cache line it must
/// read, at the overlapped cost.
#[derive(Clone, Copy, Default)]
pub struct Model {
    pub levels: u32,
    pub lines: u32,
}

impl Model {
    pub fn ns(&self, f: &Floor) -> f64 {
        f64::from(self.levels) * f.miss_ns
            + f64::from(self.lines.saturating_sub(self.levels)) * f.overlapped_ns
    }
}

/// Cache lines of a list of `len` u32 neighbours.
fn data_lines(len: usize) -> u32 {
    len.div_ceil(16) as u32
}

/// The accesses pronet's degree query cannot avoid for the pair `(a, b)`:
/// the two id lookups (slot table; none for sequential ids, see
/// [`Csr::lookup_lines`]), the two list headers, the two lists;
/// past the second degree, the headers of both sides' connections (to pick
/// the cheaper side), then the lines of the lists on the scanned side up to
/// the first link to the marked side (the lists after it are not read).
/// The marks bitset (128 KiB per million members) stays in cache and is
/// not counted.
pub fn degree_model(csr: &Csr, a: u32, b: u32, answer: Degree) -> Model {
    let (na, nb) = (csr.of(a), csr.of(b));
    // The lookup level and its two lines, when ids need one.
    let (lookup, ids) = (csr.lookup_lines, 2 * csr.lookup_lines);
    match answer {
        Degree::Yourself => Model {
            levels: 1,
            lines: 1,
        },
        Degree::First => {
            let short = na.len().min(nb.len());
            Model {
                levels: 2 + lookup,
                lines: ids
                    + 2
                    + data_lines(short).min((usize::BITS - short.leading_zeros()).max(1)),
            }
        }
        Degree::Second => Model {
            levels: 2 + lookup,
            lines: ids + 2 + data_lines(na.len()) + data_lines(nb.len()),
        },
        Degree::Third | Degree::OutOfNetwork => {
            let cost = |l: &[u32]| l.iter().map(|&x| csr.of(x).len()).sum::<usize>();
            let (marked, scanned) = if cost(na) <= cost(nb) {
                (nb, na)
            } else {
                (na, nb)
            };
            let mut lines = ids
                + 2
                + data_lines(na.len())
                + data_lines(nb.len())
                + (na.len() + nb.len()) as u32;
            let marked: HashSet<u32> = marked.iter().copied().collect();
            for &x in scanned {
                let list = csr.of(x);
                match list.iter().position(|z| marked.contains(z)) {
                    Some(at) => {
                        lines += data_lines(at + 1);
                        break;
                    }
                    None => lines += data_lines(list.len()),
                }
            }
            Model {
                levels: 4 + lookup,
                lines,
            }
        }
    }
}

/// The accesses of a mutual count: two id lookups (none for sequential
/// ids), two headers, both lists.
pub fn mutual_model(csr: &Csr, a: u32, b: u32) -> Model {
    Model {
        levels: 2 + csr.lookup_lines,
        lines: 2 * csr.lookup_lines + 2 + data_lines(csr.of(a).len()) + data_lines(csr.of(b).len()),
    }
}

/// The bidirectional (meet-in-the-middle) degree search networkx's
/// `shortest_path_length` runs: grow the smaller frontier one level at a
/// time, with a depth map per side, stopping at the first member both sides
/// reached, and never past three steps in all.
pub fn bidirectional_degree(g: &Baseline, a: NodeIndex, b: NodeIndex) -> Degree {
    if a == b {
        return Degree::Yourself;
    }
    let mut depth_a: HashMap<NodeIndex, u8> = HashMap::from([(a, 0)]);
    let mut depth_b: HashMap<NodeIndex, u8> = HashMap::from([(b, 0)]);
    let (mut front_a, mut front_b) = (vec![a], vec![b]);
    let (mut da, mut db) = (0u8, 0u8);
    while da + db < 3 && !front_a.is_empty() && !front_b.is_empty() {
        let forward = front_a.len() <= front_b.len();
        let (front, depth, other, d) = if forward {
            (&mut front_a, &mut depth_a, &depth_b, &mut da)
        } else {
            (&mut front_b, &mut depth_b, &depth_a, &mut db)
        };
        let mut next = Vec::new();
        let mut best: Option<u8> = None;
        for &x in front.iter() {
            for y in g.neighbors(x) {
                if let Some(&dy) = other.get(&y) {
                    let len = *d + 1 + dy;
                    best = Some(best.map_or(len, |b| b.min(len)));
                }
                if let std::collections::hash_map::Entry::Vacant(e) = depth.entry(y) {
                    e.insert(*d + 1);
                    next.push(y);
                }
            }
        }
        if let Some(len) = best {
            return match len {
                1 => Degree::First,
                2 => Degree::Second,
                3 => Degree::Third,
                _ => Degree::OutOfNetwork,
            };
        }
        *front = next;
        *d += 1;
    }
    Degree::OutOfNetwork
}

/// Careful SQL on SQLite: `connection(a, b)` with both directions,
/// primary key `(a, b)`, `WITHOUT ROWID`, in memory (no disk in the way).
#[cfg(feature = "sqlite")]
pub struct Sql {
    db: rusqlite::Connection,
}

#[cfg(feature = "sqlite")]
impl Sql {
    pub const DEGREE: &'static str = "SELECT CASE \
        WHEN ?1 = ?2 THEN 0 \
        WHEN EXISTS (SELECT 1 FROM connection WHERE a = ?1 AND b = ?2) THEN 1 \
        WHEN EXISTS (SELECT 1 FROM connection x JOIN connection y ON y.a = ?2 AND y.b = x.b \
            WHERE x.a = ?1 LIMIT 1) THEN 2 \
        WHEN EXISTS (SELECT 1 FROM connection x JOIN connection y ON y.a = x.b \
            WHERE x.a = ?1 AND y.b IN (SELECT b FROM connection WHERE a = ?2) LIMIT 1) THEN 3 \
        ELSE 4 END";
    pub const MUTUAL: &'static str = "SELECT count(*) FROM connection x \
        JOIN connection y ON y.b = x.b WHERE x.a = ?1 AND y.a = ?2";
    pub const SECOND: &'static str = "SELECT count(*) FROM (\
        SELECT y.b FROM connection x JOIN connection y ON y.a = x.b \
            WHERE x.a = ?1 AND y.b <> ?1 \
        EXCEPT SELECT b FROM connection WHERE a = ?1)";

    /// Loads every connection in both directions, in key order, in one
    /// transaction.
    pub fn load(ids: &[pronet::MemberId], csr: &Csr) -> rusqlite::Result<Self> {
        let db = rusqlite::Connection::open_in_memory()?;
        db.execute_batch(
            "PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; PRAGMA cache_size = -4000000;
             CREATE TABLE connection (a INTEGER NOT NULL, b INTEGER NOT NULL,
                 PRIMARY KEY (a, b)) WITHOUT ROWID;",
        )?;
        let tx = db.unchecked_transaction()?;
        {
            let mut insert = tx.prepare("INSERT INTO connection (a, b) VALUES (?1, ?2)")?;
            // Ids ascend with positions in the bench's inputs, and each list
            // is sorted, so rows arrive in key order.
            let mut order: Vec<u32> = (0..ids.len() as u32).collect();
            order.sort_by_key(|&p| ids[p as usize]);
            for &p in &order {
                let mut row: Vec<u64> = csr.of(p).iter().map(|&q| ids[q as usize].get()).collect();
                row.sort_unstable();
                for q in row {
                    insert.execute((ids[p as usize].get() as i64, q as i64))?;
                }
            }
        }
        tx.commit()?;
        Ok(Self { db })
    }

    pub fn degree(&self, a: u64, b: u64) -> Degree {
        let d: i64 = self
            .db
            .prepare_cached(Self::DEGREE)
            .and_then(|mut s| s.query_row((a as i64, b as i64), |r| r.get(0)))
            .expect("degree statement runs");
        match d {
            0 => Degree::Yourself,
            1 => Degree::First,
            2 => Degree::Second,
            3 => Degree::Third,
            _ => Degree::OutOfNetwork,
        }
    }

    pub fn count(&self, sql: &str, a: u64, b: Option<u64>) -> usize {
        let mut s = self.db.prepare_cached(sql).expect("statement prepares");
        let n: i64 = match b {
            Some(b) => s.query_row((a as i64, b as i64), |r| r.get(0)),
            None => s.query_row((a as i64,), |r| r.get(0)),
        }
        .expect("count statement runs");
        n as usize
    }
}

/// Counts of one simulated query: partitions it touches and member ids that
/// cross between machines (requests and answers).
#[derive(Clone, Copy, Default)]
pub struct Traffic {
    pub parts: u32,
    pub ids: u64,
}

/// Members partitioned by a hash of their position into `p` parts, each
/// part holding its members' adjacency lists; a query runs at the part of
/// its (first) member and asks others for what it does not hold.
pub struct Partitioned<'a> {
    pub csr: &'a Csr,
    pub p: u32,
}

impl Partitioned<'_> {
    pub fn part(&self, s: u32) -> u32 {
        ((u64::from(s).wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 32) % u64::from(self.p)) as u32
    }

    /// Mutual count: `b`'s list comes to `a`'s part (unless it is there).
    pub fn mutual(&self, a: u32, b: u32) -> Traffic {
        if self.part(a) == self.part(b) {
            Traffic { parts: 1, ids: 0 }
        } else {
            Traffic {
                parts: 2,
                ids: self.csr.of(b).len() as u64,
            }
        }
    }

    /// Degree: `b`'s list comes to `a`'s part (first and second degree are
    /// answered there); for the third degree, the smaller side's list is sent
    /// to every part holding a connection of the other side, which answers
    /// one bit: whether one of its members links to the list.
    pub fn degree(&self, a: u32, b: u32, answer: Degree) -> Traffic {
        let mut t = self.mutual(a, b);
        if matches!(answer, Degree::Third | Degree::OutOfNetwork) {
            let (na, nb) = (self.csr.of(a), self.csr.of(b));
            let (sent, scanned) = if na.len() <= nb.len() {
                (na, nb)
            } else {
                (nb, na)
            };
            let home = self.part(a);
            let mut parts: HashMap<u32, u64> = HashMap::new();
            for &x in scanned {
                *parts.entry(self.part(x)).or_default() += 1;
            }
            for (&q, &held) in &parts {
                if q != home {
                    // Which of its members to scan, the list to look for, one answer.
                    t.ids += held + sent.len() as u64 + 1;
                }
            }
            parts.insert(home, 0);
            parts.insert(self.part(b), 0);
            t.parts = parts.len() as u32;
        }
        t
    }

    /// People you may know: each part holding connections of `v` counts the
    /// connections of those connections and returns its partial counts (one
    /// id and one count per candidate it saw) to `v`'s part.
    pub fn pymk(&self, v: u32) -> Traffic {
        let home = self.part(v);
        let mut by_part: HashMap<u32, Vec<u32>> = HashMap::new();
        for &x in self.csr.of(v) {
            by_part.entry(self.part(x)).or_default().push(x);
        }
        let mut ids = 0u64;
        for (&q, xs) in &by_part {
            if q == home {
                continue;
            }
            let mut seen: HashSet<u32> = HashSet::new();
            for &x in xs {
                seen.extend(self.csr.of(x).iter().copied());
            }
            ids += xs.len() as u64 + 2 * seen.len() as u64;
        }
        by_part.entry(home).or_default();
        Traffic {
            parts: by_part.len() as u32,
            ids,
        }
    }
}

/// This process's resident memory in bytes (Linux `/proc/self/statm`; 0
/// elsewhere), for a cross-check of the heap estimates.
pub fn resident_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1)?.parse::<u64>().ok())
        .map_or(0, |pages| pages * 4096)
}
