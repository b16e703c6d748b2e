"""Handshake + authentication per second, with a session cookie and with Firebase ID tokens.

A client keeps --concurrency connection attempts in flight; each one opens a WebSocket to
/ws/ai/course-generation/, authenticates and waits for `auth_success`, then closes (close
handshake). Reported: completed handshakes per second, latency from TCP connect to
`auth_success` (p50/p99), and CPU.

- cookie: the handshake carries a Django session cookie (sockets/session.py's
  SessionUserMiddleware loads the session and the user from the database on every connection).
- firebase: no cookie; the first frame is `{"type": "auth", "token": ...}` with a real RS256 ID
  token, verified by firebase-admin against certificates served by tests/fakes/firebase.py's
  FakeFirebaseServer, which runs inside this process (the server gets
  LECTERN_TEST_FIREBASE_CERTS_URL and FIREBASE_PROJECT_ID). The certificates are cached after
  the warm-up (max-age 3600), and every uid has signed in once, so the measured path is
  verification plus the uid-to-user lookup. The table says how many certificate fetches the
  fake served during the measurement.

The baseline accepts any cookie or token without checking either (the bare WebSocket cost).

Usage: python -m bench.handshake [--servers baseline,daphne,uvicorn] [--auth cookie,firebase]
       [--total 2000] [--concurrency 20]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import (
    COURSE_PATH,
    Database,
    Sampler,
    Server,
    Workdir,
    add_common_args,
    baseline_server,
    make_sessions,
    print_table,
    raise_nofile,
    real_server,
    run_client,
    server_overrides,
)


class Firebase:
    """The fake Firebase of the test suite, run here, and tokens for --users uids."""

    def __init__(self, users: int) -> None:
        from tests.fakes.firebase import (
            PROJECT_ID,
            FakeFirebaseServer,
            FirebaseSigner,
            signing_keys,
        )

        self.server = FakeFirebaseServer()
        key, other = signing_keys()
        self.signer = FirebaseSigner(self.server, key, other)
        self.project_id = PROJECT_ID
        self.tokens = [
            self.signer.token(uid=f"bench-uid-{i}", email=f"fb{i}@example.com", name=f"User {i}")
            for i in range(users)
        ]

    def env(self) -> dict[str, str]:
        return {
            "FIREBASE_PROJECT_ID": self.project_id,
            "LECTERN_TEST_FIREBASE_CERTS_URL": self.server.cert_url,
            "LECTERN_TEST_FIREBASE_TOOLKIT_URL": self.server.toolkit_url,
        }

    def cert_fetches(self) -> int:
        return sum(1 for method, path in self.server.state.requests if path == "/certs")

    def close(self) -> None:
        self.server.close()


def start(
    name: str, workdir: Path, args: argparse.Namespace, firebase: Firebase | None
) -> tuple[Server, list[str]]:
    if name == "baseline":
        return baseline_server(workdir).start(), ["sessionid=baseline"]
    env = {**server_overrides(args), **(firebase.env() if firebase else {})}
    server = real_server(name, workdir, database_url=args.database_url, **env)
    cookies = make_sessions(server, args.users)
    return server.start(), cookies


def measure(
    name: str, auth: str, workdir: Path, args: argparse.Namespace, firebase: Firebase | None
) -> dict[str, Any]:
    server, cookies = start(name, workdir, args, firebase)
    params: dict[str, Any] = {"port": server.port, "path": COURSE_PATH}
    if auth == "cookie":
        params["cookies"] = cookies
    else:
        assert firebase is not None
        params["tokens"] = firebase.tokens
    try:
        # Warm-up: every user signs in once (Firebase users are created), certificates cached.
        run_client("handshake", {**params, "total": max(args.users, 50), "concurrency": 5}, 300)
        fetches_before = firebase.cert_fetches() if firebase else 0
        with Sampler(server.pid) as sampler:
            result = run_client(
                "handshake",
                {**params, "total": args.total, "concurrency": args.concurrency},
                timeout=args.total / 10 + 120,
            )
        window = result["window"]
        result["server_cores"] = sampler.cores(*window)
        result["other_cores"] = (
            sampler.machine_cores(*window) - result["server_cores"] - result["client_cores"]
        )
        result["cert_fetches"] = (firebase.cert_fetches() - fetches_before) if firebase else 0
    finally:
        server.stop()
    result.update(server=name, auth=auth)
    print(
        f"  {name:>8} {auth:>8}: {result['per_second']:,.0f}/s, p50 "
        f"{result['latency']['p50']:.1f} ms, p99 {result['latency']['p99']:.1f} ms, "
        f"server {result['server_cores']:.2f} cores, client {result['client_cores']:.2f}, "
        f"other {result['other_cores']:.2f}, errors {result['errors']}",
        flush=True,
    )
    return result


def report(rows: list[dict[str, Any]], args: argparse.Namespace) -> str:
    return print_table(
        f"Handshake + authentication ({args.concurrency} in flight, {args.total} per row)",
        [
            "server",
            "auth",
            "ok",
            "per second",
            "latency p50 ms",
            "latency p99 ms",
            "server cores",
            "server CPU ms per handshake",
            "client cores",
            "other cores",
            "cert fetches",
        ],
        [
            [
                r["server"],
                r["auth"],
                r["ok"],
                r["per_second"],
                r["latency"]["p50"],
                r["latency"]["p99"],
                r["server_cores"],
                r["server_cores"] / r["per_second"] * 1000 if r["per_second"] else "-",
                r["client_cores"],
                r["other_cores"],
                r["cert_fetches"] if r["auth"] == "firebase" and r["server"] != "baseline" else "-",
            ]
            for r in rows
        ],
    )


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--servers", default="baseline,daphne,uvicorn")
    parser.add_argument("--auth", default="cookie,firebase")
    parser.add_argument("--total", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--users", type=int, default=50)
    add_common_args(parser)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    raise_nofile()
    rows = []
    auths = args.auth.split(",")
    firebase = Firebase(args.users) if "firebase" in auths else None
    try:
        with (
            Workdir(args.keep, on_disk=args.on_disk) as workdir,
            Database(args.database, workdir) as url,
        ):
            args.database_url = url
            for auth in auths:
                for name in args.servers.split(","):
                    rows.append(measure(name, auth, workdir, args, firebase))
    finally:
        if firebase:
            firebase.close()
    return {"rows": rows, "table": report(rows, args)}


if __name__ == "__main__":
    main()
