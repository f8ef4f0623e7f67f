"""Rollout waves: the order in which regions receive a new inference deployment.

`rollout.waves` lists waves of `cloud:region` keys; the word `rest` stands for every configured
region not named in any wave, so a config need not list every region (and a region added later
joins the `rest` wave). Every region ends up in exactly one wave; a wave's regions roll out together
and the next wave starts only once each of them serves (their smoke-test gates pass).
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass

REST = "rest"
"""Every configured region not named in any wave."""

DEFAULT_WAVES: tuple[tuple[str, ...], ...] = ((REST,),)


@dataclass(frozen=True)
class WaveProblem:
    path: tuple[int, ...]
    """Index of the wave, then of the entry, below `rollout.waves`."""
    message: str


def wave_problems(regions: Sequence[str], waves: Sequence[Sequence[str]]) -> list[WaveProblem]:
    """Every problem with `waves` for the configured `regions` (keys `cloud:region`, in order)."""
    problems: list[WaveProblem] = []
    known = set(regions)
    seen: dict[str, tuple[int, int]] = {}
    rest_at: tuple[int, int] | None = None
    if not waves:
        return [WaveProblem((), f"needs at least one wave; use [[{REST}]] for every region at once")]
    for w, wave in enumerate(waves):
        if not wave:
            problems.append(WaveProblem((w,), "is an empty wave; remove it or name its regions"))
        for i, entry in enumerate(wave):
            if entry == REST:
                if rest_at is not None:
                    where = f"waves[{rest_at[0]}][{rest_at[1]}]"
                    problems.append(WaveProblem((w, i), f"{REST!r} may appear once, already at {where}"))
                elif w != len(waves) - 1:
                    why = "stands for every region not named yet, so it belongs to the last wave"
                    problems.append(WaveProblem((w, i), f"{REST!r} {why}"))
                rest_at = (w, i)
                continue
            if entry not in known:
                close = difflib.get_close_matches(entry, regions, n=1)
                hint = f"; did you mean {close[0]}?" if close else f"; configured regions: {', '.join(regions)}"
                problems.append(WaveProblem((w, i), f"{entry!r} is not a configured region{hint}"))
            elif entry in seen:
                first = seen[entry]
                where = f"waves[{first[0]}][{first[1]}]"
                problems.append(WaveProblem((w, i), f"{entry!r} is already in {where}; a region rolls out once"))
            else:
                seen[entry] = (w, i)
    missing = [r for r in regions if r not in seen]
    if missing and rest_at is None and not problems:
        problems.append(WaveProblem(
            (), f"does not place {', '.join(missing)}; name them in a wave or end with [{REST}]"
        ))
    return problems


def plan_waves(regions: Sequence[str], waves: Sequence[Sequence[str]] = DEFAULT_WAVES) -> tuple[tuple[str, ...], ...]:
    """The waves as tuples of region keys, `rest` expanded in config order. A wave left empty by
    `rest` (every region already named) is dropped. Raises ValueError on an invalid config."""
    problems = wave_problems(regions, waves)
    if problems:
        raise ValueError("; ".join(f"waves{''.join(f'[{p}]' for p in problem.path)}: {problem.message}" for problem in problems))
    named = {entry for wave in waves for entry in wave if entry != REST}
    planned = []
    for wave in waves:
        expanded: list[str] = []
        for entry in wave:
            expanded += [r for r in regions if r not in named] if entry == REST else [entry]
        if expanded:
            planned.append(tuple(expanded))
    return tuple(planned)


def wave_of(waves: Sequence[Sequence[str]], region: str) -> int:
    return next(i for i, wave in enumerate(waves) if region in wave)
