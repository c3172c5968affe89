"""``python -m standins <service>``: run one stand-in as a process until stopped."""

from __future__ import annotations

import argparse
import json
import logging
import signal
import threading
from collections.abc import Sequence
from pathlib import Path
from types import FrameType

from standins.bitbucket import BitbucketEmulator
from standins.jira import JiraStandin
from standins.openai_server import OpenAIStandin
from standins.server import StandinServer
from standins.slack_webhook import SlackWebhookStandin

log = logging.getLogger("standins")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m standins", description=__doc__)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--host", default="127.0.0.1")
    common.add_argument("--port", type=int, default=0, help="0 picks a free port")
    common.add_argument("--latency", type=float, default=0.0, help="seconds added to answers")
    common.add_argument("--log-level", default="INFO")
    services = parser.add_subparsers(dest="service", required=True)

    bitbucket = services.add_parser("bitbucket", parents=[common], help="Bitbucket Cloud 2.0")
    bitbucket.add_argument("--repo", type=Path, required=True, help="git repository to serve")
    bitbucket.add_argument("--workspace", default="workspace")
    bitbucket.add_argument("--slug", default="repo")
    bitbucket.add_argument("--access-token")
    bitbucket.add_argument("--username")
    bitbucket.add_argument("--api-token")
    bitbucket.add_argument("--rate-limit", type=int, default=1000)

    llm = services.add_parser("openai", parents=[common], help="OpenAI chat completions")
    llm.add_argument("--api-key", help="accept only this key (default: any non-empty key)")
    llm.add_argument("--lenient", action="store_true",
                     help="accept what OpenAI refuses (sampling parameters for reasoning "
                          "models), as a permissive gateway does")
    llm.add_argument("--alternating-roles", action="store_true",
                     help="refuse two messages of one role in a row, as vLLM with a Mistral "
                          "or Gemma chat template does")
    llm.add_argument(
        "--script",
        type=Path,
        action="append",
        default=[],
        help='JSON list of {"schema", "response", "path"?, "times"?}; repeatable',
    )

    jira = services.add_parser("jira", parents=[common],
                               help="Jira Cloud (REST v2/v3) or Data Center (REST v2)")
    jira.add_argument("--email", help="Cloud: the account email for Basic auth")
    jira.add_argument("--api-token", help="Cloud: the API token for Basic auth")
    jira.add_argument("--personal-access-token",
                      help="Data Center: the Bearer token (instead of --email/--api-token)")
    jira.add_argument(
        "--issues",
        type=Path,
        action="append",
        default=[],
        help="JSON list of issues to serve; repeatable",
    )
    slack = services.add_parser("slack", parents=[common],
                                help="a Slack incoming webhook (the cost alert's target)")
    slack.add_argument("--path", default="/services/T000/B000/secretpart",
                       help="the webhook's path; the URL to configure is the base URL + this")
    return parser


def make_standin(args: argparse.Namespace) -> StandinServer:
    where = {"host": args.host, "port": args.port, "latency": args.latency}
    if args.service == "bitbucket":
        return BitbucketEmulator(
            args.repo,
            args.workspace,
            args.slug,
            access_token=args.access_token,
            username=args.username,
            api_token=args.api_token,
            rate_limit=args.rate_limit,
            **where,
        )
    if args.service == "openai":
        llm = OpenAIStandin(api_key=args.api_key, strict=not args.lenient,
                            alternating_roles=args.alternating_roles, **where)
        for path in args.script:
            for entry in json.loads(path.read_text()):
                llm.script(
                    entry["schema"], entry["response"], entry.get("path"), entry.get("times")
                )
        return llm
    if args.service == "slack":
        return SlackWebhookStandin(path=args.path, **where)
    jira = JiraStandin(args.email, args.api_token,
                       personal_access_token=args.personal_access_token, **where)
    for path in args.issues:
        for issue in json.loads(path.read_text()):
            jira.add_issue(issue)
    return jira


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(name)s %(message)s")
    try:
        standin = make_standin(args)
    except (ValueError, OSError, KeyError) as exc:
        log.error("cannot start the %s stand-in: %s", args.service, exc)
        return 2
    stopped = threading.Event()

    def stop(signum: int, frame: FrameType | None) -> None:
        stopped.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    with standin:
        stopped.wait()
    log.info("%s stand-in stopped", args.service)
    return 0
