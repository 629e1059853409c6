"""`python -m kivra.sandbox --port 8765`: the sandbox in the foreground. Every flag also reads
`KIVRA_SANDBOX_<FLAG>` from the environment (e.g. KIVRA_SANDBOX_ERROR_RATE=0.1); flags win."""
import argparse
import logging
import os
import sys

from kivra.sandbox.config import FaultConfig, SandboxConfig
from kivra.sandbox.server import make_sandbox_server, serve_keeping_alive

ENV_PREFIX = "KIVRA_SANDBOX_"
FAULT_OPTIONS = {
    "latency_ms": int, "error_rate": float, "timeout_before_rate": float, "timeout_after_rate": float,
    "hang_seconds": float, "burst_429_every": int, "burst_429_length": int, "early_token_expiry_rate": float,
}
OTHER_OPTIONS = {"token_ttl": float, "request_access_pending_seconds": float, "seed": int}
TRUE = {"1", "true", "yes", "on"}


def parser() -> argparse.ArgumentParser:
    cli = argparse.ArgumentParser(prog="python -m kivra.sandbox", description="Local emulator of Kivra's sender API.")
    cli.add_argument("--host", default="127.0.0.1", help="loopback address to listen on (default 127.0.0.1)")
    cli.add_argument("--port", type=int, default=8765)
    cli.add_argument("--no-duplicate-control", action="store_true",
                     help="behave like Kivra's own sandbox, which has duplicate control off")
    cli.add_argument("--keep-alive", action="store_true",
                     help="keep connections open between calls, as Kivra does, served by gunicorn (the production "
                          "extra); without it each call opens a connection")
    for name, kind in {**FAULT_OPTIONS, **OTHER_OPTIONS}.items():
        cli.add_argument("--" + name.replace("_", "-"), type=kind, default=None)
    return cli


def parse(argv: list[str], environ) -> argparse.Namespace:
    cli = parser()
    defaults = {}
    for action in cli._actions:
        value = environ.get(ENV_PREFIX + action.dest.upper())
        if value is None or action.dest == "help":
            continue
        defaults[action.dest] = value.strip().lower() in TRUE if action.const is True else (action.type or str)(value)
    cli.set_defaults(**defaults)
    return cli.parse_args(argv)


def config_from(args: argparse.Namespace) -> SandboxConfig:
    faults = FaultConfig(**{name: getattr(args, name) for name in FAULT_OPTIONS if getattr(args, name) is not None})
    other = {name: getattr(args, name) for name in OTHER_OPTIONS if getattr(args, name) is not None}
    return SandboxConfig(duplicate_control=not args.no_duplicate_control, faults=faults, **other)


def main(argv: list[str] | None = None, environ=None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    try:
        args = parse(sys.argv[1:] if argv is None else argv, os.environ if environ is None else environ)
        if args.keep_alive:
            serve_keeping_alive(config_from(args), args.host, args.port, ready=_announce)
            return 0
        server = make_sandbox_server(config_from(args), args.host, args.port)
    except ValueError as error:
        print(f"kivra sandbox: {error}", file=sys.stderr)
        return 2
    _announce(f"http://{args.host}:{server.server_port}")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


def _announce(url: str) -> None:
    print(f"Kivra sandbox on {url} (inbox: /_sandbox/inbox)", flush=True)


if __name__ == "__main__":
    sys.exit(main())
