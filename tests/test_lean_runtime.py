"""offline/lean.py: what the mock engine skips changes nothing in the plan, registers resources while
the program runs (so their pending state never piles up), and is undone after every run."""

from __future__ import annotations

import asyncio
import contextlib
import gc

import pulumi.resource
from pulumi import _types
from pulumi.runtime import resource as runtime_resource

import offline.engine
from offline.engine import Recording, run_program
from offline.lean import _Drain
from offline.plan import build_plan

PROGRAM = """
import pulumi

previous = None
for index in range(4):
    opts = pulumi.ResourceOptions(depends_on=[previous] if previous else None)
    previous = pulumi.CustomResource("test:index:Thing", f"thing-{index}", {"size": index}, opts)
pulumi.export("last", previous.urn)
"""


def _run_probe(tmp_path) -> Recording:
    program = tmp_path / "__main__.py"
    program.write_text(PROGRAM)
    return run_program(program, "probe", "test", {})


def test_drain_runs_what_is_ready_from_inside_a_task_and_the_loop_carries_on():
    loop = asyncio.new_event_loop()
    drain = _Drain(loop)
    ran: list[int] = []

    async def program() -> str:
        for index in range(3):
            loop.call_soon(ran.append, index)
        drain()  # what happens after each resource declaration
        assert ran == [0, 1, 2]
        await asyncio.sleep(0)
        return "done"

    try:
        assert loop.run_until_complete(program()) == "done"
    finally:
        loop.close()


def test_the_outer_iteration_pops_exactly_what_it_counted_and_padding_never_grows():
    """Many drains inside one callback (one long program): the padding stays what the outer
    `_run_once` is owed instead of growing with every drain, and every callback runs once."""
    loop = asyncio.new_event_loop()
    drain = _Drain(loop)
    ran: list[str] = []
    sizes: list[int] = []

    def program() -> None:
        for index in range(200):
            loop.call_soon(ran.append, f"resource-{index}")
            drain()
            sizes.append(len(loop._ready))

    def after() -> None:
        ran.append("after")

    loop.call_soon(program)
    loop.call_soon(after)  # counted by the same outer iteration as `program`
    try:
        loop.run_until_complete(asyncio.sleep(0.01))
    finally:
        loop.close()
    # The first drain runs what was ready before it, as the SDK's own drain does; everything runs once.
    assert ran == ["after", *(f"resource-{i}" for i in range(200))]
    # The outer iteration counted three ready callbacks (`program`, `after`, the sleep task's first
    # step): at most three are owed, so three pads after every drain (the SDK's way: 202 by the end).
    assert set(sizes) == {3}


def test_a_program_runs_as_before(tmp_path):
    recording = _run_probe(tmp_path)
    things = [r for r in recording.registrations if r.type == "test:index:Thing"]
    assert [r.name for r in things] == [f"thing-{i}" for i in range(4)]
    assert things[3].dependencies == [things[2].urn]
    assert recording.outputs["last"] == things[3].urn


def test_the_sdk_and_the_collector_are_restored_after_a_run(tmp_path):
    before = (pulumi.resource.register_resource, runtime_resource._get_stack_trace, _types.resource_types,
              gc.get_threshold())
    _run_probe(tmp_path)
    after = (pulumi.resource.register_resource, runtime_resource._get_stack_trace, _types.resource_types,
             gc.get_threshold())
    assert after == before


def test_the_plan_is_the_same_without_the_lean_runtime(dev_plan, monkeypatch):
    monkeypatch.setattr(offline.engine, "lean_runtime", lambda loop: contextlib.nullcontext())
    assert build_plan("dev") == dev_plan.plan
