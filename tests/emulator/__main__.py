"""``python -m tests.emulator --port P [...]``: serve until SIGTERM/SIGINT."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from tests.emulator.client import Emulator
from tests.emulator.faults import parse_fail_spec
from tests.emulator.server import DEFAULT_API_LIMIT

if TYPE_CHECKING:
    from collections.abc import Sequence
    from types import FrameType


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m tests.emulator", description=__doc__)
    parser.add_argument("--port", type=int, required=True, help="0 picks a free port")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--accounts", type=int, default=500)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--latency-ms", type=float, default=0)
    parser.add_argument("--fail", default="", help="fault spec, e.g. expire:5,503:7,drop:3")
    parser.add_argument("--log", default=None, help="append the request log here (JSON lines)")
    parser.add_argument("--api-limit", type=int, default=DEFAULT_API_LIMIT)
    parser.add_argument(
        "--rotate-refresh",
        "--rotate-refresh-tokens",
        dest="rotate_refresh_tokens",
        action="store_true",
        help="each refresh answer carries a new refresh token; the used one stops working",
    )
    parser.add_argument(
        "--external-client-app",
        action="store_true",
        help="OAuth answers app_not_found unless reached by a host name (the org's My Domain)",
    )
    parser.add_argument(
        "--jwt-public-key", default=None, help="PEM file of the JWT certificate's public key"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the emulator until SIGTERM or SIGINT.

    Returns:
        The exit code (0 after a clean stop).
    """
    args = _parser().parse_args(argv)
    try:
        parse_fail_spec(args.fail)
    except ValueError as exc:
        sys.stderr.write(f"--fail: {exc}\n")
        return 2
    key = Path(args.jwt_public_key).read_text(encoding="utf-8") if args.jwt_public_key else None
    emulator = Emulator(
        accounts=args.accounts,
        seed=args.seed,
        latency_ms=args.latency_ms,
        fail=args.fail,
        log_path=args.log,
        api_limit=args.api_limit,
        rotate_refresh_tokens=args.rotate_refresh_tokens,
        jwt_public_key_pem=key,
        external_client_app=args.external_client_app,
        host=args.host,
        port=args.port,
    )
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        del signum, frame
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    emulator.start()
    sys.stdout.write(f"READY {emulator.url}\n")
    sys.stdout.flush()
    while not stop.wait(0.5):
        pass
    emulator.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
