"""`python -m offline VERB ...`: the offline preview and the tools built on its plan.

Exit codes, for every verb:
  0  success (policy findings, if any, are advisory)
  1  a mandatory policy violation
  2  usage, config or I/O error: one line per problem on standard error, never a traceback

A verb is one module (`offline/<verb>.py`) defining `VERB`, plus one line in `VERBS` below.
"""

from __future__ import annotations

import argparse
import gc
import os
import sys

from offline import check, cost, critical_path, diff, place, policy_config, preview, schema, stacks
from offline.cli import EXIT_INVALID, EXIT_OK, EXIT_VIOLATIONS, GC_THRESHOLD, InputError, Verb

__all__ = ["EXIT_INVALID", "EXIT_OK", "EXIT_VIOLATIONS", "VERBS", "main"]

# The command line, one row per verb, in the order `--help` lists them.
VERBS: tuple[Verb, ...] = (
    preview.VERB,
    check.VERB,
    policy_config.VERB,
    diff.VERB,
    cost.VERB,
    place.VERB,
    critical_path.VERB,
    stacks.VERB,
    schema.VERB,
)

DEBUG_ENV = "OFFLINE_TRACEBACK"


def parser(verbs: tuple[Verb, ...] = VERBS) -> argparse.ArgumentParser:
    epilog = __doc__.split("\n\n", 2)[1]
    root = argparse.ArgumentParser(
        prog="python -m offline",
        description=__doc__.splitlines()[0],
        epilog=epilog,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = root.add_subparsers(dest="verb", required=True, metavar="VERB")
    for verb in verbs:
        sub = commands.add_parser(verb.name, help=verb.help, description=verb.help, epilog=epilog,
                                  formatter_class=argparse.RawDescriptionHelpFormatter)
        verb.arguments(sub)
        sub.set_defaults(run=verb.run)
    return root


def _is_user_error(error: BaseException) -> bool:
    kinds: tuple[type[BaseException], ...] = (InputError, OSError)
    settings_base = sys.modules.get("settings.base")  # loaded only by verbs that read stack settings
    if settings_base is not None:
        kinds += (settings_base.ConfigError,)
    return isinstance(error, kinds)


def main(argv: list[str] | None = None, verbs: tuple[Verb, ...] = VERBS) -> int:
    args = parser(verbs).parse_args(argv)  # usage errors: argparse prints them and exits 2
    gc.set_threshold(*GC_THRESHOLD)  # a short batch process over millions of SDK objects (offline/lean.py)
    try:
        return args.run(args)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (`... | head`): nothing left to report to.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_INVALID
    except Exception as error:  # noqa: BLE001 - the CLI's promise: one line, never a traceback
        if os.environ.get(DEBUG_ENV):
            raise
        if _is_user_error(error):
            print(f"error: {error}", file=sys.stderr)
        else:
            print(
                f"error: unexpected {type(error).__name__}: {error} "
                f"(a bug in the offline tools; {DEBUG_ENV}=1 shows the traceback)",
                file=sys.stderr,
            )
        return EXIT_INVALID


def exit_now(code: int) -> None:
    """Exit without tearing the interpreter down: freeing the SDKs' millions of objects one by one
    took longer than a third of a preview, for nothing (the process ends; files are closed). mypy
    exits the same way."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            code = code or EXIT_INVALID
    os._exit(code)


if __name__ == "__main__":
    exit_now(main())
