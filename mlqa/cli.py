"""The ``mlqa`` command. Each subcommand lives in the module that owns its concept and provides
``add_arguments(parser)`` and ``run(args) -> int``; this file only wires them up."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from mlqa import __version__
from mlqa.errors import InputError

# subcommand -> (module, one-line help). Exit codes: 0 ok, 1 the command's "no", 2 bad usage or
# input it cannot read (never 0), 141 when the reader of its output went away (``| head``).
SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "summary": ("mlqa.report.summary", "print the checks of a results bundle and their outcomes"),
    "report": ("mlqa.report.cli", "write the release report (HTML, Markdown, plot CSV)"),
    "gate": ("mlqa.gate", "approve or refuse a release: exit 0 approve, 1 refuse, "
                           "3 needs a decision, 2 bad input"),
    "baseline": ("mlqa.baseline.cli", "list, show and promote baseline records"),
    "init": ("mlqa.suite.init", "write a starter suite (*.mlqa.yaml) from a dataset"),
    "publish": ("mlqa.publish.cli", "publish an approved release (maven: a Maven repository "
                                    "folder or URL); exit 1 when the gate does not approve"),
    "verify": ("mlqa.publish.verify", "check a published repository (maven-repo): exit 0 "
                                      "consistent, 1 not, 2 bad input"),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mlqa", description="Model quality as a build result.")
    parser.add_argument("--version", action="version", version=f"mlqa {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (module, help_text) in SUBCOMMANDS.items():
        command = sub.add_parser(name, help=help_text, description=help_text)
        command.set_defaults(_module=module)
        importlib.import_module(module).add_arguments(command)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    try:
        return int(importlib.import_module(args._module).run(args))
    except InputError as exc:
        print(f"mlqa {args.command}: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        quiet_stdout()
        return SIGPIPE_EXIT
    except Exception as exc:  # noqa: BLE001 - a gatekeeper's command never ends in a traceback
        if os.environ.get("MLQA_DEBUG"):
            raise
        print(f"mlqa {args.command}: internal error, nothing was approved: "
              f"{type(exc).__name__}: {exc} (set MLQA_DEBUG=1 for the traceback and please "
              f"report it)", file=sys.stderr)
        return 2


SIGPIPE_EXIT = 128 + 13  # what a shell reports for a command killed by SIGPIPE


def quiet_stdout() -> None:
    """The reader of stdout is gone (``mlqa gate | head``): point stdout at /dev/null so the
    interpreter's last flush does not print a BrokenPipeError of its own."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # no real file descriptor (captured output)
        pass


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
