#!/usr/bin/env python3
"""report.py - turns compare.sh's raw figures into the benchmark table: the median over the
rounds of each figure for each server, and their ratio. Writes Markdown to the output file
and prints the table. Figures only, never a verdict.
    report.py results.tsv meta.tsv out.md"""
import statistics
import sys
from collections import defaultdict

results_path, meta_path, out_path = sys.argv[1:4]
vals = defaultdict(list)  # (server, workload, key) -> [values over rounds]
for line in open(results_path):
    parts = line.rstrip("\n").split("\t")
    if len(parts) != 5 or parts[4] == "":
        continue
    _, server, workload, key, value = parts
    vals[(server, workload, key)].append(float(value))
meta = {}
for line in open(meta_path):
    k, _, v = line.rstrip("\n").partition("\t")
    meta[k] = v


def med(server, workload, key):
    v = vals.get((server, workload, key))
    return statistics.median(v) if v else None


def fmt(x, unit=""):
    if x is None:
        return "-"
    if abs(x) >= 100:
        s = f"{x:,.0f}"
    elif abs(x) >= 10:
        s = f"{x:.1f}"
    else:
        s = f"{x:.2f}"
    return s + unit


def ratio(ours, ref, higher_is_better):
    if ours is None or ref is None or ours == 0 or ref == 0:
        return "-"
    r = ours / ref if higher_is_better else ref / ours
    return f"{r:.1f}×" if r >= 1 else f"{r:.2g}×"  # 0.03×, not 0.0×


rows = []


def row(label, workload, key, unit="", higher=True, ref_key=None):
    o = med("ours", workload, key)
    r = med("ref", workload, ref_key or key)
    rows.append((label, fmt(o, unit), fmt(r, unit), ratio(o, r, higher)))


for n in (1, 8, 64):
    c = "client" if n == 1 else "clients"
    row(f"createRecord, {n} {c}: records/s", f"create{n}", "rps")
    row(f"createRecord, {n} {c}: p99", f"create{n}", "p99", " ms", higher=False)
    # wrk's p99 is over every response; a server shedding load answers some fast with 503
    o_f, r_f = med("ours", f"create{n}", "failed"), med("ref", f"create{n}", "failed")
    if o_f or r_f:
        secs = float(meta.get("secs", "0") or 0) or None
        rows.append(
            (
                f"createRecord, {n} {c}: refused (non-2xx, in the p99 above) per s",
                fmt(o_f / secs if secs and o_f is not None else o_f),
                fmt(r_f / secs if secs and r_f is not None else r_f),
                "",
            )
        )
for n in (1, 8, 64):
    o_srv = med("ours", f"create{n}", "cpu_srv")
    o_db = med("ours", f"create{n}", "cpu_db")
    r_srv = med("ref", f"create{n}", "cpu_srv")
    total = (o_srv or 0) + (o_db or 0) if o_srv is not None else None
    rows.append(
        (
            f"CPU per write, {n} {'client' if n == 1 else 'clients'} (server + database)",
            f"{fmt(o_srv, ' µs')} + {fmt(o_db, ' µs')} PostgreSQL",
            f"{fmt(r_srv, ' µs')} (one process, SQLite inside)",
            ratio(total, r_srv, False),
        )
    )
for w, name in (("getrecord", "getRecord"), ("listrecords", "listRecords (limit 50)")):
    row(f"{name}, 8 connections: requests/s", w, "rps")
    row(f"{name}, 8 connections: p99", w, "p99", " ms", higher=False)
o_bytes, r_bytes = med("ours", "getrepo", "bytes"), med("ref", "getrepo", "bytes")
rows.append(
    (
        "getRepo of the records repository: MB/s",
        f"{fmt(med('ours', 'getrepo', 'mbps'))} ({fmt(o_bytes and o_bytes / 1e6, ' MB')})",
        f"{fmt(med('ref', 'getrepo', 'mbps'))} ({fmt(r_bytes and r_bytes / 1e6, ' MB')})",
        ratio(med("ours", "getrepo", "mbps"), med("ref", "getrepo", "mbps"), True),
    )
)
subs = sorted({int(w[2:]) for (_, w, _) in vals if w.startswith("fh")})
for n in subs:
    row(f"firehose, {n} subscribers: writes/s achieved", f"fh{n}", "rate")
    row(f"firehose, {n} subscribers: lag p50", f"fh{n}", "p50", " ms", higher=False)
    row(f"firehose, {n} subscribers: lag p99", f"fh{n}", "p99", " ms", higher=False)
o_n, r_n = med("ours", "accounts", "count"), med("ref", "accounts", "count")
rows.append(
    (
        "creating the accounts (8 at a time): seconds",
        f"{fmt(med('ours', 'accounts', 'seconds'), ' s')} for {fmt(o_n)}",
        f"{fmt(med('ref', 'accounts', 'seconds'), ' s')} for {fmt(r_n)}",
        ratio(
            o_n / med("ours", "accounts", "seconds") if o_n else None,
            r_n / med("ref", "accounts", "seconds") if r_n else None,
            True,
        ),
    )
)
for key, label in (("idle", "idle"), ("load", "under load (createRecord, 8 clients)")):
    o, pg, r = med("ours", "rss", key), med("ours", "rss", "pg_" + key), med("ref", "rss", key)
    rows.append(
        (
            f"server RSS after creating the accounts, {label}",
            f"{fmt(o, ' MB')} (+ PostgreSQL {fmt(pg, ' MB')} PSS)",
            fmt(r, " MB"),
            ratio(o, r, False),
        )
    )
row("disk bytes per record (createRecord runs)", "disk", "bytes_per_record", " B", higher=False)

table = ["| workload | this server | reference PDS | ratio |", "| --- | --- | --- | --- |"]
table += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows]

doc = f"""# Benchmarks

Produced by `bench/compare.sh` ({meta.get('mode', '')}), which runs this server and the
reference PDS side by side on the same machine in one run, each workload alternately on both,
and reports the median over the rounds. Figures, not a verdict. Re-run it rather than quoting
these figures on other hardware: only the ratios travel.

## Machine and versions

| | |
| --- | --- |
| cores | {meta.get('cores', '?')} × {meta.get('model', '?')} |
| memory | {meta.get('memory', '?')} |
| disk | {meta.get('fsync', '?')} |
| kernel | {meta.get('kernel', '?')} |
| this server | {meta.get('ours', '?')}, PostgreSQL {meta.get('postgres', '?')} (its own cluster, fsync and synchronous_commit on) |
| reference | {meta.get('reference', '?')} on Node {meta.get('node', '?')}, SQLite {meta.get('sqlite', '?')} in WAL mode as shipped |
| whole run | {meta.get('elapsed', '?')} |

## Results

The ratio is this server's figure over the reference's for rates, and the reference's over
this server's for times, latencies, memory and bytes: above 1× this server does better.

{chr(10).join(table)}

## How each figure is made

- **createRecord**: `wrk` with one thread and one kept-alive connection per client, each client
  writing to its own account, a different post body each request; {meta.get('mode', '')}.
  records/s counts 200 responses only. CPU per write is the processes' user+system time
  (`/proc/<pid>/stat`) over the run divided by the records written: this server's process,
  and separately every process of its PostgreSQL cluster (backends, WAL writer, checkpointer;
  the postmaster's reaped-children time included); the reference is one Node process with
  SQLite in it.
- **getRecord / listRecords**: `wrk`, 2 threads, 8 connections, one public post (getRecord)
  or the first 50 posts of a {meta.get('repo_records', '?')}-record repository (listRecords).
- **getRepo**: `curl` downloads the CAR of a repository whose posts were written by
  applyWrites in batches of 200, three times per round.
- **firehose**: `bench/firehose` (`firehose_bench`): N WebSocket subscribers on
  subscribeRepos while 16 writers create posts aiming at the target rate; lag is receipt time
  minus the event's `time`. A server that cannot write at the target rate is measured at the
  rate it reached (the writes/s row).
- **accounts and memory**: createAccount 8 at a time (each hashes a password: argon2id here,
  scrypt in the reference); then RSS (`VmRSS`) 5 s later, and the peak while 8 clients write.
  PostgreSQL's memory is the sum of its processes' PSS, so shared buffers count once.
- **disk bytes per record**: growth of the data directory over all createRecord runs divided by
  the records they wrote, after a checkpoint on both (PostgreSQL's `pg_wal` excluded, as it is
  recycled; SQLite's WAL files truncated by `wal_checkpoint(TRUNCATE)`).
- The reference runs with its defaults (logging off); this server with `LOG_LEVEL=warn`.
"""
with open(out_path, "w") as f:
    f.write(doc)
print("\n".join(table))
