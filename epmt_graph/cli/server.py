"""``epmt-graph server start | stop | status | provision``."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from epmt_graph.cli.commands import SUMMARY
from epmt_graph.cli.fetching import showing_fetch
from epmt_graph.cli.warming import warm_up_started
from epmt_graph.config import NEO4J_VERSION, server_home
from epmt_graph.server import LocalServer, ServerSettings, provision

__all__ = ["register"]


def register(commands: Any) -> None:
    """Add the ``server`` subcommand to ``commands`` (an argparse subparsers object)."""
    parser = commands.add_parser(
        "server",
        help=SUMMARY["server"],
        description="Provision Neo4j Community from Maven Central and run it on 127.0.0.1. "
        f"Its config, data, logs and credentials live in --home (now {server_home()}).",
    )
    parser.add_argument("--home", type=_path, default=None, help="server folder")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    start = actions.add_parser("start", help="start the server and wait until Bolt answers")
    start.add_argument("--bolt-port", type=int, default=None, help="Bolt port (default 7687)")
    start.add_argument("--http-port", type=int, default=None, help="HTTP port (default 7474)")
    start.add_argument(
        "--no-auth",
        action="store_true",
        help="turn authentication off (throwaway test servers only)",
    )
    start.add_argument("--heap", default=None, help="JVM heap, e.g. 2g (default 2g)")
    start.add_argument("--pagecache", default=None, help="page cache, e.g. 1g (default 1g)")
    start.set_defaults(run=_start)
    actions.add_parser("stop", help="stop the server").set_defaults(run=_stop)
    actions.add_parser("status", help="say whether it runs, and where").set_defaults(run=_status)
    actions.add_parser(
        "provision", help=f"only download Neo4j {NEO4J_VERSION} with mvn"
    ).set_defaults(run=_provision)


def _path(text: str) -> Path:
    return Path(text).expanduser()


def _server(args: argparse.Namespace) -> LocalServer:
    return LocalServer(args.home or server_home())


def _start(args: argparse.Namespace) -> int:
    server = _server(args)
    old = server.settings
    settings = ServerSettings(
        bolt_port=args.bolt_port or old.bolt_port,
        http_port=args.http_port or old.http_port,
        auth=not args.no_auth,
        heap=args.heap or old.heap,
        pagecache=args.pagecache or old.pagecache,
    )
    with showing_fetch() as show:
        provision(progress=show)
    if server.start(settings):
        print(f"started Neo4j {NEO4J_VERSION} (pid {server.pid()})")
        warm_up_started(server)
    else:
        print(f"already running (pid {server.pid()})")
    _describe(server)
    return 0


def _stop(args: argparse.Namespace) -> int:
    server = _server(args)
    print("stopped" if server.stop() else "not running")
    return 0


def _status(args: argparse.Namespace) -> int:
    server = _server(args)
    if server.pid() is None:
        print(f"not running (home {server.home})")
        return 3
    state = "running" if server.is_running() else "starting (Bolt does not answer yet)"
    print(f"{state} (pid {server.pid()})")
    _describe(server)
    return 0


def _provision(args: argparse.Namespace) -> int:
    with showing_fetch() as show:
        lib = provision(progress=show)
    print(f"Neo4j {NEO4J_VERSION} jars in {lib}")
    return 0


def _describe(server: LocalServer) -> None:
    settings = server.settings
    print(f"  bolt:    bolt://127.0.0.1:{settings.bolt_port}")
    print(f"  browser: http://127.0.0.1:{settings.http_port}/browser/")
    if settings.auth:
        print(f"  user:    neo4j, password in {server.credentials_file}")
    else:
        print("  auth:    off")
    print(f"  home:    {server.home}")
