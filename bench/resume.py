"""Resume across processes: time from `resume` on process B to the first replayed frame.

Two server processes (A and B) share REDIS_URL (stream mirror, cancels, rate limits) and one
database (a fresh PostgreSQL database by default, or a shared SQLite file). Each trial: a
client on A sends `message` (a paced generation, 20 ms per chunk) and reads until it has seen
--warm-chunks chunks; a second client connects to B (session cookie, `auth_success`) and sends
`resume` with `after_index` -1; the clock runs from sending `resume` to the arrival of the first
replayed `streaming` frame, and to the frame that catches up with what A had delivered. The
client on A then cancels the generation. Trials run one after another. For comparison, the same
trials with B = A (a resume served from the process's own memory).

Usage: python -m bench.resume [--server daphne] [--trials 200] [--database postgres|sqlite]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import (
    COURSE_CONTENT,
    COURSE_PATH,
    REDIS_URL,
    Database,
    Workdir,
    add_common_args,
    make_sessions,
    postgres_available,
    print_table,
    raise_nofile,
    real_server,
    redis_available,
    run_client,
    server_overrides,
)


def measure(args: argparse.Namespace, workdir: Path, url: str) -> list[dict[str, Any]]:
    env = {
        "REDIS_URL": args.redis_url,
        "OFFLINE_CHUNK_DELAY_MS": "20",
        **server_overrides(args),
    }
    a = real_server(args.server, workdir, database_url=url, **env)
    b = real_server(args.server, workdir, database_url=url, migrate=False, **env)
    cookie = make_sessions(a, 1, prefix="resume")[0]
    rows = []
    try:
        a.start()
        b.start()
        base = {
            "path": COURSE_PATH,
            "cookie": cookie,
            "content": COURSE_CONTENT,
            "warm_chunks": args.warm_chunks,
            "after_index": -1,
        }
        run_client("resume", {**base, "port_a": a.port, "port_b": b.port, "trials": 5}, 300)
        for label, port_b in (("A → B (other process)", b.port), ("A → A (same process)", a.port)):
            result = run_client(
                "resume",
                {**base, "port_a": a.port, "port_b": port_b, "trials": args.trials},
                timeout=args.trials * 5 + 120,
            )
            result["case"] = label
            rows.append(result)
            print(
                f"  {label}: first frame p50 {result['first_frame']['p50']:.1f} ms, p99 "
                f"{result['first_frame']['p99']:.1f} ms; {result['ok']}/{result['trials']} ok, "
                f"problems {result['problems']}",
                flush=True,
            )
    finally:
        a.stop()
        b.stop()
    return rows


def report(rows: list[dict[str, Any]], args: argparse.Namespace) -> str:
    max_age = "0 (default)" if args.conn_max_age is None else args.conn_max_age
    return print_table(
        f"Resume ({args.server}, {args.database}, Redis, DATABASE_CONN_MAX_AGE={max_age}, "
        f"{args.trials} trials): ms from `resume` sent",
        [
            "case",
            "ok",
            "first frame p50",
            "first frame p90",
            "first frame p99",
            "first frame max",
            "caught up p50",
            "caught up p99",
            "reconnect+auth p50",
            "reconnect+auth p99",
        ],
        [
            [
                r["case"],
                f"{r['ok']}/{r['trials']}",
                r["first_frame"]["p50"],
                r["first_frame"]["p90"],
                r["first_frame"]["p99"],
                r["first_frame"]["max"],
                r["caught_up"]["p50"],
                r["caught_up"]["p99"],
                r["reconnect"]["p50"],
                r["reconnect"]["p99"],
            ]
            for r in rows
        ],
    )


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--server", choices=["daphne", "uvicorn"], default="daphne")
    parser.add_argument("--trials", type=int, default=200)
    parser.add_argument("--warm-chunks", type=int, default=5)
    parser.add_argument("--redis-url", default=REDIS_URL)
    add_common_args(parser)
    parser.set_defaults(database="postgres")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    raise_nofile()
    if not redis_available(args.redis_url):
        print(f"skipped: no Redis at {args.redis_url}")
        return {"rows": [], "table": "", "skipped": True}
    if args.database == "postgres" and not postgres_available():
        print("PostgreSQL is not reachable on 127.0.0.1:5432; using a shared SQLite file")
        args.database = "sqlite"
    with (
        Workdir(args.keep, on_disk=args.on_disk) as workdir,
        Database(args.database, workdir) as url,
    ):
        rows = measure(args, workdir, url)
    return {"rows": rows, "table": report(rows, args)}


if __name__ == "__main__":
    main()
