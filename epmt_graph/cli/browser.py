"""``epmt-graph browser``: where the Neo4j Browser is, how to log in, the guide, favorites.

The password is never printed: only the file that holds it (or the variable that does).
``--style FILE`` writes the Browser style (:mod:`epmt_graph.browser.style`).
``--serve-guide`` serves the guide, and the style, on loopback until interrupted; see
:mod:`epmt_graph.browser.serve` for why it is not served by Neo4j itself.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from epmt_graph.browser import DEFAULT_GUIDE_PORT, GuideServer, GuideSpec, write_favorites
from epmt_graph.browser.favorites import FAVORITES_FOLDER, favorite_names
from epmt_graph.browser.guide import GUIDE_PATH
from epmt_graph.browser.style import grass
from epmt_graph.cli.commands import SUMMARY
from epmt_graph.config import server_home
from epmt_graph.server import LocalServer

__all__ = ["register"]


def register(commands: Any) -> None:
    """Add the ``browser`` subcommand to ``commands`` (an argparse subparsers object)."""
    parser = commands.add_parser(
        "browser",
        help=SUMMARY["browser"],
        description="Print where the Neo4j Browser is, the Bolt URL to connect it to, the user "
        "and the file holding the password (never the password). With NEO4J_URI set, that "
        "server is described instead of the local one. The guide walks a job's tree with "
        "the named queries; the Browser plays it from --serve-guide.",
    )
    parser.add_argument(
        "--home", type=Path, default=None, metavar="DIR", help="the local server's folder"
    )
    parser.add_argument(
        "--favorites",
        type=Path,
        metavar="DIR",
        help="write the named queries into DIR as Browser favorites: one .cypher file each, "
        "and a .zip to drop on the Browser to import them all",
    )
    parser.add_argument(
        "--style",
        type=Path,
        metavar="FILE",
        help="write the Browser style (GRASS: a caption on every node) into FILE, to drop on "
        "the Browser; the guide applies it too",
    )
    parser.add_argument(
        "--serve-guide",
        action="store_true",
        help="serve the guide on localhost until Ctrl-C",
    )
    parser.add_argument(
        "--guide-port",
        type=int,
        default=DEFAULT_GUIDE_PORT,
        help=f"the guide server's port (default {DEFAULT_GUIDE_PORT}; 0 picks a free one)",
    )
    parser.add_argument(
        "--job", default=GuideSpec.jobid, help=f"the job the guide walks ({GuideSpec.jobid})"
    )
    parser.add_argument(
        "--op", default=GuideSpec.op, help=f"the operation whose roots it shows ({GuideSpec.op})"
    )
    parser.add_argument(
        "--uid",
        default=None,
        help=f"the process whose subtree it draws ({GuideSpec.uid} for job {GuideSpec.jobid}, "
        "else the job's process 0)",
    )
    parser.set_defaults(run=_browser)


def _browser(args: argparse.Namespace) -> int:
    default_uid = GuideSpec.uid if args.job == GuideSpec.jobid else f"{args.job}:0"
    spec = GuideSpec(jobid=args.job, op=args.op, uid=args.uid or default_uid)
    browser_url = _describe_server(args.home)
    if args.favorites is not None:
        archive = write_favorites(args.favorites)
        print(
            f"favorites:   wrote {len(favorite_names())} queries to {args.favorites}; drop "
            f"{archive} on the "
            f"Browser to import them all (folder {FAVORITES_FOLDER})"
        )
    if args.style is not None:
        args.style.write_text(grass())
        print(f"style:       wrote {args.style}; drop it on the Browser to apply it")
    if not args.serve_guide:
        print(
            "guide:       run `epmt-graph browser --serve-guide`, then in the Browser: "
            f":play http://localhost:{args.guide_port}{GUIDE_PATH}"
        )
        return 0
    server = GuideServer(spec, args.guide_port)
    try:
        print(f"guide:       in the Browser, :play {server.url}")
        print(f"             or open {browser_url}?cmd=play&arg={quote(server.url, safe=':/')}")
        print(f"style:       the guide applies it, or :style {server.style_url}")
        print(f"serving the guide to job {spec.jobid} on localhost until Ctrl-C", flush=True)
        server.serve_forever()
    except KeyboardInterrupt:
        print("stopped serving the guide")
    finally:
        server.server_close()
    return 0


def _describe_server(home: Path | None) -> str:
    """Print how to reach the server the other commands use; returns the Browser's URL."""
    uri = os.environ.get("NEO4J_URI")
    if uri:
        host = urlsplit(uri).hostname or "localhost"
        browser_url = f"http://{host}:7474/browser/"
        password = "in NEO4J_PASSWORD" if os.environ.get("NEO4J_PASSWORD") else "none"
        print(f"browser:     {browser_url} (Neo4j's default HTTP port; the server at NEO4J_URI)")
        print(f"connect URL: {uri}")
        print(f"user:        {os.environ.get('NEO4J_USER', 'neo4j')}, password {password}")
        return browser_url
    server = LocalServer(home or server_home())
    settings = server.settings
    browser_url = f"http://127.0.0.1:{settings.http_port}/browser/"
    print(f"browser:     {browser_url}")
    print(f"connect URL: bolt://127.0.0.1:{settings.bolt_port}")
    if settings.auth:
        print(f"user:        neo4j, password in {server.credentials_file}")
    else:
        print("user:        none: authentication is off (choose 'No authentication')")
    pid = server.pid()
    if pid is None:
        print(f"server:      not running (home {server.home}); start it: epmt-graph server start")
    else:
        print(f"server:      running (pid {pid}, home {server.home})")
    return browser_url
