"""Run every benchmark with modest defaults (what `make bench` calls) and print a summary.

Each benchmark prints its own table as it goes; the summary at the end puts the headline number
of each next to the baseline's. The defaults keep the whole run under about 10 minutes on a
2-core machine; run the scripts one by one for the full-size numbers in bench/README.md.

Usage: python bench/run_all.py [--quick]
       [--only streaming,burst,connections,handshake,resume,provider_cpu]
"""

from __future__ import annotations

import argparse
import importlib
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import fmt, machine_note, print_table

DEFAULTS = {
    "streaming": ["--n", "100,200,300,400,600", "--repeat", "2"],
    "burst": ["--duration", "8"],
    "connections": ["--n", "4000"],
    "handshake": ["--total", "1500"],
    "resume": ["--trials", "100"],
    "provider_cpu": ["--requests", "100"],
}
QUICK = {
    "streaming": ["--n", "20,50", "--repeat", "1"],
    "burst": ["--duration", "3", "--warmup", "1"],
    "connections": ["--n", "500", "--deflate", "no"],
    "handshake": ["--total", "200"],
    "resume": ["--trials", "10"],
    "provider_cpu": ["--requests", "20", "--rounds", "1", "--concurrency", "10"],
}
# Imported when run (provider_cpu sets Django up in its own process's way).
MODULES = ["streaming", "burst", "connections", "handshake", "resume", "provider_cpu"]


def ratio(value: float, base: float | None) -> str:
    return f"{value / base:.2f}" if base else "-"


def summarise(results: dict[str, dict[str, Any]]) -> list[list[Any]]:
    rows: list[list[Any]] = []
    if "streaming" in results:
        best = results["streaming"]["best"]
        base = best.get("baseline")
        for name, n in best.items():
            rows.append(["streaming: highest N within bounds", name, n, ratio(n, base), "≥ 0.8"])
    if "burst" in results:
        burst_rows = results["burst"]["rows"]
        base = next((r["chunks_per_second"] for r in burst_rows if r["server"] == "baseline"), None)
        for r in burst_rows:
            rows.append(
                ["burst: chunks/s, one process", r["server"], fmt(r["chunks_per_second"], 0),
                 ratio(r["chunks_per_second"], base), "≥ 0.7"]
            )  # fmt: skip
    if "connections" in results:
        for r in results["connections"]["rows"]:
            offered = "deflate offered" if r["deflate_offered"] else "no deflate"
            rows.append(
                [f"connections: KiB per idle connection ({offered})", r["server"],
                 fmt(r["kb_per_connection"]), "-", f"{r['opened']} opened"]
            )  # fmt: skip
    if "handshake" in results:
        hs_rows = results["handshake"]["rows"]
        for r in hs_rows:
            base = next(
                (b["per_second"] for b in hs_rows
                 if b["server"] == "baseline" and b["auth"] == r["auth"]),
                None,
            )  # fmt: skip
            rows.append(
                [f"handshake+auth per second ({r['auth']})", r["server"],
                 fmt(r["per_second"], 0), ratio(r["per_second"], base),
                 f"p99 {fmt(r['latency']['p99'])} ms"]
            )  # fmt: skip
    if "provider_cpu" in results:
        for r in results["provider_cpu"]["rows"]:
            if r["reader"].startswith("lectern ("):
                rows.append(
                    [f"provider CPU per request, {r['concurrency']} streams ({r['provider']})",
                     r["reader"], f"{fmt(r['cpu_per_request_ms'])} ms", fmt(r["ratio"]), "≤ 2"]
                )  # fmt: skip
    if "resume" in results:
        for r in results["resume"]["rows"]:
            rows.append(
                [f"resume: first frame p99 ms, {r['case']}", "daphne",
                 fmt(r["first_frame"]["p99"]), "-", "< 100 ms"]
            )  # fmt: skip
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="tiny sizes: a smoke run")
    parser.add_argument("--only", default=",".join(MODULES))
    args = parser.parse_args()
    chosen = QUICK if args.quick else DEFAULTS
    print(f"Lectern benchmarks, {time.strftime('%Y-%m-%d %H:%M')}, {machine_note()}")
    results: dict[str, dict[str, Any]] = {}
    started = time.monotonic()
    for name in args.only.split(","):
        print(f"\n== {name} ({' '.join(chosen[name])})", flush=True)
        t0 = time.monotonic()
        try:
            module = importlib.import_module(f"bench.{name}")
            results[name] = module.main(chosen[name])
        except Exception as exc:  # one failing benchmark does not hide the others' numbers
            print(f"{name} failed: {type(exc).__name__}: {exc}")
        print(f"({name}: {time.monotonic() - t0:.0f} s)", flush=True)
    print_table(
        f"Summary ({time.monotonic() - started:.0f} s)",
        ["measure", "server", "value", "ratio to baseline", "target / note"],
        summarise(results),
    )


if __name__ == "__main__":
    main()
