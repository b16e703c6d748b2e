"""Streaming capacity: the most concurrent paced generations with p99 added latency <= 50 ms.

N sessions (session-cookie auth, spread over several users) each send one `message` to
/ws/ai/course-generation/; the offline provider paces the course placeholder like a model (a
sleep of --interval-ms before each of ~200 chunks of --chunk-size characters). The client
timestamps every `streaming` frame in `data_received` and computes the latency the server
added to each chunk as

    added_0 = arrival_0 - (arrival(started) + interval)
    added_i = arrival_i - (arrival_{i-1} + interval)          (i >= 1)

The offline provider arms each chunk's timer when it has published the previous chunk, so the
ideal emit time of chunk i is the previous emit plus the interval, and whatever the event loop
adds (late timer, queue hop, relay, send) shows up in that chunk's gap. The underestimate is
the previous chunk's own transport latency; the baseline stamps `emitted_at` on its frames, so
the same run reports the exact value for it (`true added`) next to the estimate. Also reported:
`drift`, arrival against the first chunk's arrival + i * interval, which accumulates every
timer overshoot of a relatively paced provider (about 0.4 ms per chunk here even on an idle
loop, 200 times over), and `stretch`, how much longer than nominal a whole stream took.

A step passes when every generation completed, at least 90% of the N streams ran at once (the
server may not start them fast enough: "start-limited"), p99 added <= --p99-ms, and stretch
p99 <= --max-stretch-pct. The last one matters because this provider waits for the server: a
saturated loop makes the stream slower instead of later, so per-chunk latency stays low while
the server delivers fewer chunks per second than a real model (whose clock does not wait)
would send; behind a real model that backlog would grow without bound. Idle streams stretch
about 4%. N grows until a step fails, for the bare `websockets` baseline, daphne and uvicorn,
in the same run.

With `--provider gemini` the chunks come from a model instead: a fake Gemini server in its own
process (bench/upstream.py) streams the same course in the same chunks on its own clock
(--interval-ms apart, the first after one interval), Lectern reads it with AI_PROVIDER=gemini
(its real provider code) and the baseline with a bare asyncio + json reader, so both pay for
the upstream. The added-latency estimate holds as is: a chunk's ideal arrival is still the
previous one's plus the interval.

Usage: python -m bench.streaming [--servers baseline,daphne,uvicorn] [--n 50,100,200,300,400]
       [--provider offline|gemini]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import (
    CHUNK_SIZE,
    COURSE_CONTENT,
    COURSE_PATH,
    Database,
    Sampler,
    Server,
    Workdir,
    add_common_args,
    add_provider_args,
    print_table,
    raise_nofile,
    run_clients,
    split,
    start_generation_server,
)


def start_server(name: str, workdir: Path, args: argparse.Namespace) -> tuple[Server, list[str]]:
    return start_generation_server(name, workdir, args, delay_ms=args.interval_ms)


def run_step(
    server: Server, cookies: list[str], n: int, args: argparse.Namespace
) -> dict[str, Any]:
    interval = args.interval_ms / 1000
    chunks = -(-len_course_text() // args.chunk_size)
    params = [
        {
            "port": server.port,
            "path": COURSE_PATH,
            "n": count,
            "cookies": part_cookies,
            "interval": interval,
            "stagger": args.stagger,
            "content": COURSE_CONTENT,
            "expected_seconds": chunks * interval,
        }
        for count, part_cookies in zip(
            [len(p) for p in split(range(n), args.client_procs)],
            [c or cookies for c in split(cookies, args.client_procs)],
            strict=True,
        )
    ]
    with Sampler(server.pid) as sampler:
        results = run_clients(
            "streaming", params, timeout=args.stagger + chunks * interval * 6 + 300
        )
    return merge(results, sampler)


def merge(results: list[dict[str, Any]], sampler: Sampler) -> dict[str, Any]:
    """One process's result as is; several: sums, and the worst percentile of each (upper bound)."""
    merged = dict(results[0])
    if len(results) > 1:
        for key in ("sessions", "connected", "chunks", "finished", "out_of_order"):
            merged[key] = sum(r[key] for r in results)
        for key in (
            "added",
            "true_added",
            "drift",
            "stretch_pct",
            "emit_lag",
            "message_to_started",
        ):
            merged[key] = {stat: max(r[key][stat] for r in results) for stat in results[0][key]}
        merged["client_cores"] = sum(r["client_cores"] for r in results)
        merged["peak_concurrent"] = sum(r["peak_concurrent"] for r in results)
        merged["window"] = [
            min(r["window"][0] for r in results),
            max(r["window"][1] for r in results),
        ]
    merged["server_cores"] = sampler.cores(*merged["window"])
    merged["other_cores"] = (
        sampler.machine_cores(*merged["window"]) - merged["server_cores"] - merged["client_cores"]
    )
    merged["server_rss_mb"] = sampler.peak_rss_mb()
    return merged


_TEXT_LENGTH: list[int] = []


def len_course_text() -> int:
    if not _TEXT_LENGTH:
        from bench.baseline import course_text

        _TEXT_LENGTH.append(len(course_text(COURSE_CONTENT)))
    return _TEXT_LENGTH[0]


def capacity(
    name: str, args: argparse.Namespace, workdir: Path
) -> tuple[list[dict[str, Any]], int]:
    """Run the N ladder on one server; return its rows and the highest N within the threshold."""
    server, cookies = start_server(name, workdir, args)
    rows: list[dict[str, Any]] = []
    try:
        run_step(server, cookies, min(10, args.ns[0]), args)  # warm-up: imports, first queries
        best, failed = 0, []
        for n in args.ns:
            row = step(name, server, cookies, n, args)
            rows.append(row)
            if ok(row, args.p99_ms):
                best = max(best, n)
            else:
                failed.append(n)
                if len(failed) >= args.stop_after:
                    break
        if args.refine and failed and best and min(failed) - best > 20:
            n = (best + min(failed)) // 2
            row = step(name, server, cookies, n, args)
            rows.append(row)
            if ok(row, args.p99_ms):
                best = n
    finally:
        server.stop()
    return rows, best


def step(name: str, server: Server, cookies: list[str], n: int, args: argparse.Namespace) -> dict:
    """Run N sessions --repeat times; keep the run with the lowest p99 (see README: noise)."""
    runs = []
    for _ in range(args.repeat):
        row = {"server": name, "n": n, **run_step(server, cookies, n, args)}
        print_row(row, args.p99_ms)
        runs.append(row)
        time.sleep(1)
    best = min(runs, key=lambda r: (not ok(r, args.p99_ms), r[METRIC[0]]["p99"]))
    best["repeats_p99"] = [round(r[METRIC[0]]["p99"], 1) for r in runs]
    return best


def all_complete(row: dict[str, Any]) -> bool:
    return bool(row["outcomes"].get("complete", 0) == row["sessions"])


def ok(row: dict[str, Any], p99_ms: float) -> bool:
    """All completed, 90% streamed at once, p99 within bounds, and the streams kept pace."""
    return all_complete(row) and concurrent(row) and latency_ok(row, p99_ms) and kept_pace(row)


def latency_ok(row: dict[str, Any], p99_ms: float) -> bool:
    return bool(row[METRIC[0]]["p99"] <= p99_ms)


def kept_pace(row: dict[str, Any]) -> bool:
    """The streams lasted at most MAX_STRETCH % longer than nominal (p99 over sessions)."""
    return bool(row["stretch_pct"]["p99"] <= MAX_STRETCH[0])


def concurrent(row: dict[str, Any]) -> bool:
    return bool(row["peak_concurrent"] >= 0.9 * row["sessions"])


def verdict(row: dict[str, Any], p99_ms: float) -> str:
    if ok(row, p99_ms):
        return "yes"
    if not all_complete(row):
        return "no (incomplete)"
    reasons = []
    if not concurrent(row):
        reasons.append("start-limited")
    if not latency_ok(row, p99_ms):
        reasons.append("p99")
    if not kept_pace(row):
        reasons.append("fell behind")
    return f"no ({', '.join(reasons)})"


METRIC = ["added"]  # or "drift" (--metric)
MAX_STRETCH = [15.0]  # --max-stretch-pct


def print_row(row: dict[str, Any], p99_ms: float) -> None:
    print(
        f"  {row['server']:>8} N={row['n']:<4} done={row['outcomes']} "
        f"chunks/session={row['chunks_per_session']:.0f} peak={row['peak_concurrent']} "
        f"added p50/p99={row['added']['p50']:.1f}/{row['added']['p99']:.1f} ms "
        f"drift p99={row['drift']['p99']:.0f} ms "
        f"server={row['server_cores']:.2f} client={row['client_cores']:.2f} "
        f"other={row['other_cores']:.2f} cores "
        f"{verdict(row, p99_ms)}",
        flush=True,
    )


def report(rows: list[dict[str, Any]], best: dict[str, int], args: argparse.Namespace) -> str:
    table = print_table(
        f"Paced streaming ({args.provider} provider), {args.interval_ms} ms pacing, "
        f"{len_course_text()}-character course "
        f"in {args.chunk_size}-character chunks: latency added per chunk (ms)",
        [
            "server",
            "N",
            "peak streams",
            "added p50",
            "added p90",
            "added p99",
            "p99 of repeats",
            "added max",
            "true added p99",
            "drift p50",
            "drift p99",
            "stretch p99 %",
            "msg→started p99",
            "starts/s",
            "server cores",
            "client cores",
            "other cores",
            "client loop lag p99",
            "within bounds",
        ],
        [
            [
                r["server"],
                r["n"],
                r["peak_concurrent"],
                r["added"]["p50"],
                r["added"]["p90"],
                r["added"]["p99"],
                " / ".join(str(v) for v in r["repeats_p99"]),
                r["added"]["max"],
                r["true_added"]["p99"],
                r["drift"]["p50"],
                r["drift"]["p99"],
                r["stretch_pct"]["p99"],
                r["message_to_started"]["p99"],
                r["starts_per_second"],
                r["server_cores"],
                r["client_cores"],
                r["other_cores"],
                r["client_loop_lag_p99_ms"],
                verdict(r, args.p99_ms),
            ]
            for r in rows
        ],
    )
    base = best.get("baseline")
    peaks = {
        name: max(
            (r["peak_concurrent"] for r in rows
             if r["server"] == name and all_complete(r) and latency_ok(r, args.p99_ms)),
            default=0,
        )
        for name in best
    }  # fmt: skip
    base, base_peak = best.get("baseline"), peaks.get("baseline")
    table += print_table(
        f"Streaming capacity (p99 {METRIC[0]} ≤ {args.p99_ms:.0f} ms, stretch p99 ≤ "
        f"{MAX_STRETCH[0]:.0f} %, ≥ 90% of N streaming at once)",
        ["server", "highest N within all bounds", "ratio to baseline",
         "most streams at once with p99 ≤ bound (latency only)", "ratio to baseline"],
        [
            [name, f"{n}" + (" (ladder top)" if n == max(args.ns) else ""),
             (n / base) if base else "-", peaks[name],
             (peaks[name] / base_peak) if base_peak else "-"]
            for name, n in best.items()
        ],
    )  # fmt: skip
    return table


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--servers", default="baseline,daphne,uvicorn")
    parser.add_argument("--n", default="50,100,200,300,400", help="ladder of session counts")
    parser.add_argument("--interval-ms", type=int, default=20)
    parser.add_argument("--chunk-size", type=int, default=CHUNK_SIZE)
    parser.add_argument(
        "--stagger",
        type=float,
        default=1.0,
        help="spread the N `message` frames over this many seconds",
    )
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--p99-ms", type=float, default=50.0)
    parser.add_argument(
        "--max-stretch-pct",
        type=float,
        default=15.0,
        help="a step also fails when streams ran this much longer than nominal (p99)",
    )
    parser.add_argument(
        "--metric",
        choices=["added", "drift"],
        default="added",
        help="which lag the threshold applies to (see above)",
    )
    parser.add_argument("--client-procs", type=int, default=1)
    parser.add_argument(
        "--repeat",
        type=int,
        default=2,
        help="runs per step; the best one counts (noise only slows things down)",
    )
    parser.add_argument(
        "--stop-after",
        type=int,
        default=1,
        help="stop a server's ladder after this many steps out of bounds",
    )
    parser.add_argument(
        "--refine", action="store_true", help="after the first failing step, try the midpoint once"
    )
    add_common_args(parser)
    add_provider_args(parser)
    args = parser.parse_args(argv)
    args.ns = [int(x) for x in args.n.split(",")]
    return args


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    METRIC[0] = args.metric
    MAX_STRETCH[0] = args.max_stretch_pct
    raise_nofile()
    rows: list[dict[str, Any]] = []
    best: dict[str, int] = {}
    with (
        Workdir(args.keep, on_disk=args.on_disk) as workdir,
        Database(args.database, workdir) as url,
    ):
        args.database_url = url
        for name in args.servers.split(","):
            server_rows, best[name] = capacity(name, args, workdir)
            rows += server_rows
    table = report(rows, best, args)
    return {"rows": rows, "best": best, "table": table}


if __name__ == "__main__":
    main()
