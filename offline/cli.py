"""What every `python -m offline` verb shares: the verb record, exit codes, user errors, and
reading/writing files where `-` means standard input/output.

A verb is a thin shell: `arguments` declares its command line, `run` turns the parsed arguments
into a call of a function that does the work (and is tested without the CLI) and returns the exit
code. Verb modules import heavy dependencies (pulumi, pydantic, the SDKs) inside functions, so
`python -m offline --help` and light verbs such as `stacks` start in a fraction of a second.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

# 0: clean (advisory findings at most); 1: a mandatory policy violation; 2: usage, config or I/O error.
EXIT_OK, EXIT_VIOLATIONS, EXIT_INVALID = 0, 1, 2
STDIO = "-"
# The collector's thresholds (first, second, third generation) for offline runs and the command
# line: the SDKs leave millions of long-lived objects the default (700, 10, 10) rescans constantly.
GC_THRESHOLD = (200_000, 50, 100)


class InputError(Exception):
    """Bad input the user can fix (a file, a value, a key): printed as one line, exit 2."""


@dataclass(frozen=True)
class Verb:
    name: str
    help: str
    arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]


def write_text(destination: str | Path, text: str) -> None:
    """Write `text` to a file, or to standard output for `-`; an unwritable path is an InputError."""
    if str(destination) == STDIO:
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    try:
        Path(destination).write_text(text)
    except OSError as error:
        raise InputError(f"{destination}: cannot write: {error.strerror or error}") from None


def check_writable(destination: str | Path | None) -> None:
    """Fail fast, before minutes of work, when an output file cannot be created."""
    if destination is None or str(destination) == STDIO:
        return
    path = Path(destination)
    if path.is_dir():
        raise InputError(f"{destination}: cannot write: is a directory")
    if not path.parent.is_dir():
        raise InputError(f"{destination}: cannot write: no such directory {path.parent}")
    if not os.access(path.parent, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise InputError(f"{destination}: cannot write: permission denied")


def write_json(destination: str | Path, document: Any) -> None:
    """Deterministic JSON (sorted keys, two-space indent, trailing newline)."""
    write_text(destination, json.dumps(document, indent=2, sort_keys=True) + "\n")


def read_text(source: str | Path, what: str) -> str:
    """Read a file (or standard input for `-`); a missing file, a directory or an unreadable file
    is an InputError naming the path and `what` it should have been."""
    if str(source) == STDIO:
        return sys.stdin.read()
    try:
        return Path(source).read_text()
    except IsADirectoryError:
        raise InputError(f"{source}: is a directory, expected {what}") from None
    except FileNotFoundError:
        raise InputError(f"{source}: no such file (expected {what})") from None
    except (OSError, UnicodeDecodeError) as error:
        raise InputError(f"{source}: cannot read {what}: {getattr(error, 'strerror', None) or error}") from None


def read_json(source: str | Path, what: str) -> Any:
    text = read_text(source, what)
    try:
        return json.loads(text)
    except ValueError as error:
        raise InputError(f"{source}: not valid JSON ({what}): {error}") from None


def report_stream(json_destination: str | None) -> TextIO:
    """Where the human report goes: standard error when the JSON goes to standard output, so
    `... --json - | jq` sees JSON only."""
    return sys.stderr if json_destination == STDIO else sys.stdout
