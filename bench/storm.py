"""Reconnect storm: --total clients (default 10,000) reconnect at once after a deploy, each with
the browser client's jittered exponential backoff (ai_chat/static/ai_chat/lectern-client.js:
a delay in [ceiling / 2, ceiling], ceiling = min(30 s, 500 ms x 2^attempt)), signing in with a
session cookie (--sessions distinct sessions; the sign-in cache answers a session seen in the
last AUTH_CACHE_SECONDS). Measured end to end: seconds from the storm's start until 50%, 99%
and all clients are signed in, attempts per client, failures by kind; the baseline in the same
run.

Usage: python -m bench.storm [--servers baseline,uvicorn] [--total 10000] [--sessions 2000]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import (
    COURSE_PATH,
    Database,
    Sampler,
    Workdir,
    add_common_args,
    baseline_server,
    fmt,
    make_sessions,
    print_table,
    raise_nofile,
    real_server,
    run_client,
    server_overrides,
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--servers", default="baseline,uvicorn")
    parser.add_argument("--total", type=int, default=10_000)
    parser.add_argument("--sessions", type=int, default=2_000)
    add_common_args(parser)
    args = parser.parse_args()
    raise_nofile()
    rows = []
    for name in args.servers.split(","):
        with (
            Workdir(args.keep, on_disk=args.on_disk) as workdir,
            Database(args.database, workdir) as database_url,
        ):
            if name == "baseline":
                server, cookies = baseline_server(workdir), ["sessionid=baseline"]
            else:
                server = real_server(
                    name, workdir, database_url=database_url, **server_overrides(args)
                )
                cookies = make_sessions(server, args.sessions)
            server.start()
            try:
                with Sampler(server.pid) as sampler:
                    result = run_client(
                        "storm",
                        {"port": server.port, "path": COURSE_PATH, "total": args.total,
                         "cookies": cookies},
                        timeout=600,
                    )  # fmt: skip
                start, end = result["window"]
                cores, other = sampler.cores(start, end), sampler.machine_cores(start, end)
                peak = sampler.peak_rss_mb()
            finally:
                server.stop()
        print(f"  {name}: {result}", flush=True)
        rows.append(
            [name, f"{result['ok']:,} / {result['total']:,}", fmt(result["t50"]),
             fmt(result["t99"]), fmt(result["t100"]), result["attempts"], result["failures"],
             fmt(cores, 2), fmt(other - cores, 2), fmt(peak)]
        )  # fmt: skip
    print_table(
        f"Reconnect storm: {args.total:,} clients, jittered backoff, {args.sessions:,} sessions",
        ["server", "signed in", "50% at s", "99% at s", "all at s", "attempts per client",
         "failures", "server cores", "other cores", "server peak RSS MB"],
        rows,
    )  # fmt: skip


if __name__ == "__main__":
    main()
