//! Invitation throughput (BENCH.md): send then accept for many distinct
//! pairs, with `MemoryStore` and `ManualClock`, on one thread.
//!
//! `PRONET_BENCH_PAIRS` sets the number of pairs (default 100,000; BENCH.md's
//! full run is 1,000,000). Prints `summary throughput=send_accept_memory ...`,
//! then runs a short criterion measurement of one send+accept.
//!
//! With the `sqlite` feature (`cargo bench --features sqlite --bench
//! invitations`), the same over a `SqliteStore` on a file in WAL mode:
//! `PRONET_BENCH_SQLITE_PAIRS` pairs (default 20,000), each send and each
//! accept one committed transaction, printing
//! `summary throughput=send_accept_sqlite ...` (BENCH.md's target: 10,000
//! committed operations per second), then `summary query=degree_during_write
//! ...`: the latency of `Network::degree` (which follows the store's feed
//! first) while another connection holds the file's write lock, median and
//! p99, beside the same with the lock free; then `summary
//! query=degree_parallel ...`: degree queries a second on one reader thread
//! and on two, while a third thread keeps sending and accepting
//! invitations through the same `Network` (target: two readers at least
//! 1.7 times one: reads never wait on writes), with the CPU each side got
//! (reader and writer cores, reads per CPU-second, the machine's idle
//! share), so the ratio can be read against what the cores allowed.
//!
//! With the `postgres` feature and `PRONET_POSTGRES_URL` set, the same over
//! a `PostgresStore` (a fresh schema, dropped afterwards; the server's own
//! durability settings) with 1 thread and with 8 threads sharing one
//! `Network`, `PRONET_BENCH_POSTGRES_PAIRS` pairs each (default 4,000):
//! `summary throughput=send_accept_postgres threads=N
//! synchronous_commit=server ...` (issue 14's target: 5,000 committed
//! operations per second with 8 threads on loopback), then the same with
//! `synchronous_commit=off` set for the store's connections (a crash may
//! lose the last acknowledged commits; see the README). Each row also says
//! where the CPU went per operation (`client_cpu_us_per_op`: this process;
//! `rest_cpu_us_per_op`: the rest of the machine, the server when nothing
//! else runs) and the throughput the cores allow at that cost
//! (`cpu_bound_ops_per_sec`), and, measured just before on the same
//! server with as many connections, the floor (`floor_ops_per_sec`: one
//! read by key and one write an operation, nothing else; see
//! `postgres_floor`) with pronet's share of it (`of_floor`). Without a server
//! it prints a note and skips. Measured figures, with the commands and
//! the machine's load: the README's Benchmarks section ("Writes, and reads
//! while writing") and its PostgreSQL section.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use criterion::Criterion;
use pronet::{
    Email, ManualClock, Member, MemberId, MemoryStore, Network, Policy, Profile, SendOutcome,
    Store, Timestamp,
};
use std::hint::black_box;
use std::time::Instant;

type Net<S = MemoryStore> = Network<S, ManualClock>;

/// A network with `2 * pairs` members, each with an email address so that
/// email proof makes every pair eligible.
fn network(pairs: u64) -> (Net, Vec<Email>) {
    network_over(MemoryStore::new(), pairs)
}

fn network_over<S: Store>(store: S, pairs: u64) -> (Net<S>, Vec<Email>) {
    let clock = ManualClock::new(Timestamp::from_micros(1_767_225_600_000_000));
    let net = Network::open(store, clock, Policy::default()).unwrap();
    let mut emails = Vec::with_capacity(2 * pairs as usize);
    for i in 0..2 * pairs {
        let email = Email::parse(&format!("member{i}@example.com")).unwrap();
        let member = Member::person(MemberId::new(i), Profile::named(format!("M{i}")))
            .with_email(email.clone(), false);
        let _ = net.register(member).unwrap();
        emails.push(email);
    }
    (net, emails)
}

fn send_accept<S: Store>(net: &Net<S>, emails: &[Email], pair: u64) {
    let (a, b) = (MemberId::new(2 * pair), MemberId::new(2 * pair + 1));
    let sent = net
        .send(
            pronet::SendRequest::new(a, b)
                .note("Hello!")
                .proof(&emails[b.get() as usize]),
        )
        .unwrap();
    let SendOutcome::Sent(id) = sent.outcome else {
        panic!("expected a new invitation")
    };
    let _ = black_box(net.accept(b, id).unwrap());
}

fn main() {
    let pairs: u64 = std::env::var("PRONET_BENCH_PAIRS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let (net, emails) = network(pairs);
    let start = Instant::now();
    for pair in 0..pairs {
        send_accept(&net, &emails, pair);
    }
    let elapsed = start.elapsed().as_secs_f64();
    let ops = 2 * pairs;
    println!(
        "summary throughput=send_accept_memory ops={ops} ops_per_sec={:.0}",
        ops as f64 / elapsed
    );
    assert_eq!(net.graph().connection_count() as u64, pairs);
    drop(net);

    #[cfg(feature = "sqlite")]
    sqlite_throughput();
    #[cfg(feature = "postgres")]
    postgres_throughput();

    let mut criterion = Criterion::default()
        .sample_size(10)
        .measurement_time(std::time::Duration::from_secs(2))
        .configure_from_args();
    criterion.bench_function("send_accept_memory", |b| {
        // Every iteration needs a pair that has never met: build a fresh
        // network per sample, outside the timed part.
        b.iter_custom(|iters| {
            let (net, emails) = network(iters);
            let start = Instant::now();
            for pair in 0..iters {
                send_accept(&net, &emails, pair);
            }
            start.elapsed()
        });
    });
    criterion.final_summary();
}

/// Send+accept over a `SqliteStore` on a fresh file (WAL): each operation
/// one committed transaction.
#[cfg(feature = "sqlite")]
fn sqlite_throughput() {
    let pairs: u64 = std::env::var("PRONET_BENCH_SQLITE_PAIRS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000);
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    let path = dir.join(format!("bench-send-accept-{}.db", std::process::id()));
    let remove = || {
        for suffix in ["", "-wal", "-shm"] {
            let mut name = path.clone().into_os_string();
            name.push(suffix);
            let _ = std::fs::remove_file(name);
        }
    };
    remove();
    let store = pronet::SqliteStore::open(&path).unwrap();
    let (net, emails) = network_over(store, pairs);
    let start = Instant::now();
    for pair in 0..pairs {
        send_accept(&net, &emails, pair);
    }
    let elapsed = start.elapsed().as_secs_f64();
    let ops = 2 * pairs;
    println!(
        "summary throughput=send_accept_sqlite ops={ops} ops_per_sec={:.0}",
        ops as f64 / elapsed
    );
    assert_eq!(net.graph().connection_count() as u64, pairs);
    degree_during_write(&net, &path, 2 * pairs);
    degree_parallel(&net, &emails, 2 * pairs);
    drop(net);
    remove();
}

/// Send+accept over a `PostgresStore`, with 1 and with 8 threads.
#[cfg(feature = "postgres")]
fn postgres_throughput() {
    let Ok(url) = std::env::var("PRONET_POSTGRES_URL") else {
        println!(
            "note: send_accept_postgres skipped: set PRONET_POSTGRES_URL=postgres://user:password@host/db"
        );
        return;
    };
    let pairs: u64 = std::env::var("PRONET_BENCH_POSTGRES_PAIRS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(4_000);
    // The server's own durability settings first; then the same with
    // `synchronous_commit = off` for the store's connections (a crash may
    // lose the last acknowledged commits, never reorder or corrupt them;
    // README, PostgreSQL section).
    for (threads, synchronous) in [(1_u64, true), (8, true), (1, false), (8, false)] {
        let schema = format!("bench_{}_{threads}_{synchronous}", std::process::id());
        let mut config: postgres::Config = url.parse().unwrap();
        if !synchronous {
            let options = match config.get_options() {
                Some(given) => format!("{given} -c synchronous_commit=off"),
                None => "-c synchronous_commit=off".to_owned(),
            };
            config.options(&options);
        }
        let store =
            pronet::PostgresStore::open_in_schema(config.clone(), &schema, threads as u32 + 1)
                .unwrap();
        let clock = ManualClock::new(Timestamp::from_micros(1_767_225_600_000_000));
        let net = Network::open(store, clock, Policy::default()).unwrap();
        let emails: Vec<Email> = (0..2 * pairs)
            .map(|i| Email::parse(&format!("member{i}@example.com")).unwrap())
            .collect();
        // Registering is set-up, on all threads, and not measured.
        let per = 2 * pairs / threads;
        std::thread::scope(|scope| {
            for t in 0..threads {
                let (net, emails) = (&net, &emails);
                scope.spawn(move || {
                    for i in t * per..(t + 1) * per {
                        let member =
                            Member::person(MemberId::new(i), Profile::named(format!("M{i}")))
                                .with_email(emails[i as usize].clone(), false);
                        let _ = net.register(member).unwrap();
                    }
                });
            }
        });
        let per = pairs / threads;
        let floor = postgres_floor(&config, &schema, threads, 2 * per);
        let (machine_before, client_before) = (machine_ticks(), process_ticks());
        let start = Instant::now();
        std::thread::scope(|scope| {
            for t in 0..threads {
                let (net, emails) = (&net, &emails);
                scope.spawn(move || {
                    for pair in t * per..(t + 1) * per {
                        send_accept(net, emails, pair);
                    }
                });
            }
        });
        let elapsed = start.elapsed().as_secs_f64();
        let machine = machine_ticks().since(machine_before);
        let client = process_ticks() - client_before;
        let ops = 2 * per * threads;
        // Where the CPU went, per operation: this process (the client) and
        // the rest of the machine's busy time (on an otherwise idle machine,
        // the server); `cpu_bound_ops_per_sec` is what the machine's cores
        // allow at that cost, the ceiling whatever the waits.
        let tick_us = 1e6 / TICKS_PER_SEC;
        let client_us = client as f64 * tick_us / ops as f64;
        let rest_us = machine.busy().saturating_sub(client) as f64 * tick_us / ops as f64;
        let cores = std::thread::available_parallelism().map_or(1, usize::from) as f64;
        println!(
            "summary throughput=send_accept_postgres threads={threads} synchronous_commit={} \
             ops={ops} ops_per_sec={:.0} client_cpu_us_per_op={client_us:.0} \
             rest_cpu_us_per_op={rest_us:.0} machine_idle={:.2} cores={cores} \
             cpu_bound_ops_per_sec={:.0} floor_ops_per_sec={floor:.0} of_floor={:.2}",
            if synchronous { "server" } else { "off" },
            ops as f64 / elapsed,
            machine.idle_share(),
            cores * 1e6 / (client_us + rest_us).max(1.0),
            ops as f64 / elapsed / floor,
        );
        assert_eq!(net.graph().connection_count() as u64, per * threads);
        drop(net);
        let mut client = config.connect(postgres::NoTls).unwrap();
        client
            .batch_execute(&format!("DROP SCHEMA \"{schema}\" CASCADE"))
            .unwrap();
    }
}

/// The floor beside pronet's PostgreSQL figure, in the same run: what the
/// server allows, with `threads` connections, a client that does the
/// least any store over a database must do per operation (read records
/// by key in one statement, then write in one statement) and nothing
/// else: per operation, one read of 7 keys and one insert of 4 records of
/// a send's size into a table shaped as `PostgresStore`'s, with a
/// position from a sequence. No decision, no secondary entries, no
/// expected versions, no feed: a bound pronet's figure cannot pass, not a
/// rival. Answers operations a second; `ops` in all.
#[cfg(feature = "postgres")]
fn postgres_floor(config: &postgres::Config, schema: &str, threads: u64, ops: u64) -> f64 {
    let floor = format!("{schema}_floor");
    let mut setup = config.connect(postgres::NoTls).unwrap();
    setup
        .batch_execute(&format!(
            "CREATE SCHEMA \"{floor}\";
             CREATE TABLE \"{floor}\".record (key text COLLATE \"C\" PRIMARY KEY,
                 version bigint NOT NULL, pos bigint NOT NULL, value text NOT NULL);
             CREATE UNIQUE INDEX ON \"{floor}\".record (pos);
             CREATE SEQUENCE \"{floor}\".pos;"
        ))
        .unwrap();
    let read = format!("SELECT key, version, value FROM \"{floor}\".record WHERE key = ANY ($1)");
    let write = format!(
        "INSERT INTO \"{floor}\".record (key, version, pos, value)
         SELECT k, 1, nextval('\"{floor}\".pos'), v FROM unnest($1::text[], $2::text[]) AS u(k, v)"
    );
    let value = format!(
        "{{\"Invitation\":{{\"note\":\"Hello!\",\"padding\":\"{}\"}}}}",
        "x".repeat(120)
    );
    let per = ops / threads;
    let clients: Vec<postgres::Client> = (0..threads)
        .map(|_| config.connect(postgres::NoTls).unwrap())
        .collect();
    let start = Instant::now();
    std::thread::scope(|scope| {
        for (t, mut client) in clients.into_iter().enumerate() {
            let (read, write, value) = (&read, &write, &value);
            scope.spawn(move || {
                let (read, write) = (
                    client.prepare(read).unwrap(),
                    client.prepare(write).unwrap(),
                );
                for op in 0..per {
                    let key = |part: u64| format!("{t}:{op}:{part}");
                    let keys: Vec<String> = (0..7).map(key).collect();
                    let _ = black_box(client.query(&read, &[&keys]).unwrap());
                    let values = vec![value.clone(); 4];
                    client.execute(&write, &[&&keys[..4], &values]).unwrap();
                }
            });
        }
    });
    let elapsed = start.elapsed().as_secs_f64();
    setup
        .batch_execute(&format!("DROP SCHEMA \"{floor}\" CASCADE"))
        .unwrap();
    (per * threads) as f64 / elapsed
}

/// Degree queries (each following the store's feed first, as the default
/// freshness does) while another connection holds the file's write lock,
/// and the same with the lock free, for comparison.
#[cfg(feature = "sqlite")]
fn degree_during_write(net: &Net<pronet::SqliteStore>, path: &std::path::Path, members: u64) {
    let queries: u64 = std::env::var("PRONET_BENCH_DEGREE_QUERIES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000);
    let run = || {
        let mut micros: Vec<f64> = (0..queries)
            .map(|q| {
                let (a, b) = (
                    MemberId::new(q % members),
                    MemberId::new((q * 7919) % members),
                );
                let start = Instant::now();
                let _ = black_box(net.degree(a, b).unwrap());
                start.elapsed().as_secs_f64() * 1e6
            })
            .collect();
        micros.sort_by(f64::total_cmp);
        let at = |q: f64| micros[((micros.len() - 1) as f64 * q) as usize];
        (at(0.5), at(0.99))
    };
    let (idle_median, idle_p99) = run();
    let writer = rusqlite::Connection::open(path).unwrap();
    writer
        .execute_batch(
            "BEGIN IMMEDIATE; UPDATE meta SET value = value WHERE name = 'schema_version';",
        )
        .unwrap();
    let (median, p99) = run();
    writer.execute_batch("ROLLBACK").unwrap();
    println!(
        "summary query=degree_during_write queries={queries} median_us={median:.1} \
         p99_us={p99:.1} idle_median_us={idle_median:.1} idle_p99_us={idle_p99:.1}"
    );
}

/// Degree queries (each following the store's feed first) on 1 and then on
/// 2 reader threads while a third thread keeps sending and accepting
/// invitations through the same `Network`, each reader running `queries`
/// queries: reads must never wait on writes, so two readers should answer
/// nearly twice as many queries a second as one.
#[cfg(feature = "sqlite")]
fn degree_parallel(net: &Net<pronet::SqliteStore>, emails: &[Email], members: u64) {
    use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
    let queries: u64 = std::env::var("PRONET_BENCH_DEGREE_QUERIES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000);
    // The writer's next pair: member 2i invites member 2i + 2k + 1, a
    // pair that never met (members are connected only as 2p, 2p + 1).
    let next = AtomicU64::new(0);
    let writes = AtomicU64::new(0);
    let run = |readers: u64| -> Shares {
        let stop = AtomicBool::new(false);
        let written_before = writes.load(Ordering::SeqCst);
        let machine_before = machine_ticks();
        let (elapsed, writer_cpu, readers_cpu) = std::thread::scope(|scope| {
            let writer = scope.spawn(|| {
                let cpu = thread_cpu_secs();
                while !stop.load(Ordering::SeqCst) {
                    let n = next.fetch_add(1, Ordering::SeqCst);
                    let half = members / 2;
                    let (i, k) = (n % (half - 1), 1 + n / (half - 1));
                    let (a, b) = (2 * i, (2 * i + 2 * k + 1) % members);
                    let sent = net
                        .send(
                            pronet::SendRequest::new(MemberId::new(a), MemberId::new(b))
                                .proof(&emails[b as usize]),
                        )
                        .unwrap();
                    if let SendOutcome::Sent(id) = sent.outcome {
                        let _ = net.accept(MemberId::new(b), id).unwrap();
                    }
                    writes.fetch_add(2, Ordering::SeqCst);
                }
                thread_cpu_secs() - cpu
            });
            let start = Instant::now();
            let handles: Vec<_> = (0..readers)
                .map(|r| {
                    scope.spawn(move || {
                        let cpu = thread_cpu_secs();
                        for q in 0..queries {
                            let q = q + r * queries;
                            let (a, b) = (
                                MemberId::new(q % members),
                                MemberId::new((q * 7919) % members),
                            );
                            let _ = black_box(net.degree(a, b).unwrap());
                        }
                        thread_cpu_secs() - cpu
                    })
                })
                .collect();
            let readers_cpu: f64 = handles.into_iter().map(|h| h.join().unwrap()).sum();
            let elapsed = start.elapsed().as_secs_f64();
            stop.store(true, Ordering::SeqCst);
            (elapsed, writer.join().unwrap(), readers_cpu)
        });
        let machine = machine_ticks().since(machine_before);
        Shares {
            qps: (readers * queries) as f64 / elapsed,
            writes: writes.load(Ordering::SeqCst) - written_before,
            readers_cores: readers_cpu / elapsed,
            writer_cores: writer_cpu / elapsed,
            idle: machine.idle_share(),
            reads_per_cpu_sec: (readers * queries) as f64 / readers_cpu,
        }
    };
    let one = run(1);
    let two = run(2);
    // The CPU the readers got, beside their throughput: when the readers
    // answer as many queries per CPU-second with two threads as with one,
    // they do not wait on each other or on the writer, and the ratio is
    // what the machine's cores leave them (`machine_idle` near 0: no core
    // was free).
    println!(
        "summary query=degree_parallel readers=2 writers=1 queries={queries} \
         one_reader_qps={:.0} two_readers_qps={:.0} ratio={:.2} \
         writes_during_one={} writes_during_two={} \
         reader_cores_one={:.2} reader_cores_two={:.2} cpu_ratio={:.2} \
         writer_cores_one={:.2} writer_cores_two={:.2} \
         reads_per_cpu_sec_one={:.0} reads_per_cpu_sec_two={:.0} \
         machine_idle_one={:.2} machine_idle_two={:.2} cores={}",
        one.qps,
        two.qps,
        two.qps / one.qps,
        one.writes,
        two.writes,
        one.readers_cores,
        two.readers_cores,
        two.readers_cores / one.readers_cores,
        one.writer_cores,
        two.writer_cores,
        one.reads_per_cpu_sec,
        two.reads_per_cpu_sec,
        one.idle,
        two.idle,
        std::thread::available_parallelism().map_or(0, usize::from),
    );
}

/// What one `degree_parallel` run measured: throughput, and the CPU each
/// side got (in cores: CPU-seconds per second of the run).
#[cfg(feature = "sqlite")]
struct Shares {
    qps: f64,
    writes: u64,
    readers_cores: f64,
    writer_cores: f64,
    /// The machine's idle share over the run (0: every core busy).
    idle: f64,
    reads_per_cpu_sec: f64,
}

/// The CPU time this thread has run, in seconds: the first field of
/// `/proc/thread-self/schedstat` (nanoseconds on the CPU); 0 where the
/// file is missing (not Linux), which the summary then shows as such.
#[cfg(feature = "sqlite")]
fn thread_cpu_secs() -> f64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse::<u64>().ok())
        .map_or(0.0, |ns| ns as f64 / 1e9)
}

/// The machine's clock ticks so far, all and idle (idle and iowait), from
/// the first line of `/proc/stat`.
#[cfg(any(feature = "sqlite", feature = "postgres"))]
#[derive(Clone, Copy, Default)]
struct Ticks {
    all: u64,
    idle: u64,
}

#[cfg(any(feature = "sqlite", feature = "postgres"))]
impl Ticks {
    fn since(self, before: Ticks) -> Ticks {
        Ticks {
            all: self.all - before.all,
            idle: self.idle - before.idle,
        }
    }

    fn idle_share(self) -> f64 {
        self.idle as f64 / self.all.max(1) as f64
    }

    #[cfg(feature = "postgres")]
    fn busy(self) -> u64 {
        self.all - self.idle
    }
}

/// `/proc`'s clock ticks per second (`USER_HZ`, 100 on Linux's usual builds).
#[cfg(feature = "postgres")]
const TICKS_PER_SEC: f64 = 100.0;

/// This process's CPU so far, user and system, in `/proc` ticks: fields 14
/// and 15 of `/proc/self/stat` (counted after the command name, which may
/// hold spaces); 0 where the file is missing.
#[cfg(feature = "postgres")]
fn process_ticks() -> u64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after_name = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    after_name
        .split_whitespace()
        .skip(11)
        .take(2)
        .filter_map(|f| f.parse::<u64>().ok())
        .sum()
}

#[cfg(any(feature = "sqlite", feature = "postgres"))]
fn machine_ticks() -> Ticks {
    let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let fields: Vec<u64> = stat
        .lines()
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .skip(1)
        .filter_map(|f| f.parse().ok())
        .collect();
    Ticks {
        all: fields.iter().sum(),
        idle: fields.get(3).copied().unwrap_or(0) + fields.get(4).copied().unwrap_or(0),
    }
}
