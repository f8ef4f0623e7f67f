"""What an offline run does not pay for: costs that are neither the program's nor the SDKs' own.

`benchmarks/preview_cost.py` compares a preview with merely importing the provider SDK modules it
uses. Profiling (py-spy over all threads, tracemalloc, pymalloc statistics) showed the difference
was not the program, the plan or the policy pack (well under a second together) but the four
things below, which the mock engine does without (each scoped to one `run_program` call and
undone after it), and the interpreter's teardown at exit: freeing the SDKs' objects one by one
took 5 s of a 17 s prod preview, so the command line exits without it (`offline/__main__.py`).

1. **Register as you go.** The Python SDK runs the whole program before its event loop starts, so
   every resource's pending outputs, tasks and serialized inputs (about 90 MB for prod) were alive
   at once, and the freed holes kept the process at that peak. Draining the loop each time a
   resource is declared registers it while the program goes on: same registrations, same plan,
   about 70 MB lower peak.
2. **Collect garbage less often.** The SDKs leave a few million long-lived objects; with the default
   thresholds the collector re-scanned them again and again (about 40% of the CPU time, and 2 s in
   one full collection right after the run). A higher first-generation threshold (mypy sets one
   too) lets most short-lived objects die before a collection; the command line keeps it for the
   whole process (`offline/__main__.py`). Freezing the imported objects (`gc.freeze`) saved
   another second but froze the run's garbage with them: +14 MB of peak memory, so it is not done.
3. **No source positions.** For every resource the SDK extracts the Python stack and reads the
   source of every frame's file (linecache held ~10 MB of SDK source); the mock monitor ignores it.
4. **One monitor thread, and resource types computed once per class.** The mock monitor is Python:
   more threads only contend for the GIL. The SDK recomputes a resource class's type hints for
   every instance (`pulumi._types.resource_types`), a pure function of the class.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import gc
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pulumi.resource
from pulumi import _types
from pulumi.runtime import resource as runtime_resource
from pulumi.runtime.proto import source_pb2

from offline.cli import GC_THRESHOLD  # see 2. above

_MONITOR_THREAD = ThreadPoolExecutor(max_workers=1, thread_name_prefix="offline-monitor")


class _Drain:
    """Run the loop's ready callbacks from inside the program, like the SDK's own `_sync_await`
    does for invokes. The outer `_run_once` still pops as many callbacks as it counted, so what the
    drain ran for it is replaced by cancelled handles, in front. The SDK pads at the back and
    counts its own padding as the outer's due at the next drain, so the padding grew with every
    resource and every drain walked all of it: quadratic. Here a drain that finds its previous
    padding still in front knows the outer has not moved on and owes it the same count."""

    def __init__(self, loop: asyncio.AbstractEventLoop):
        self.loop = loop
        self.pad: asyncio.Handle | None = None
        self.owed = 0

    def __call__(self) -> None:
        loop, ready = self.loop, self.loop._ready  # type: ignore[attr-defined]
        if not (ready and ready[0] is self.pad):
            self.owed = len(ready)  # a new outer iteration: at most this many are its
        task = asyncio.current_task(loop)
        if task is not None:
            asyncio.tasks._leave_task(loop, task)
        done = loop.create_future()
        loop.call_soon(done.set_result, None)
        while not done.done():
            loop._run_once()  # type: ignore[attr-defined]
        # One pad at least, so the next drain recognises the same outer iteration.
        self.pad = asyncio.Handle(lambda: None, (), loop)
        self.pad.cancel()
        ready.extendleft([self.pad] * max(self.owed - len(ready), 1))
        if task is not None:
            asyncio.tasks._enter_task(loop, task)


@contextlib.contextmanager
def lean_runtime(loop: asyncio.AbstractEventLoop) -> Iterator[None]:
    """The four measures above, for the duration of one offline run."""
    drain = _Drain(loop)
    declare = pulumi.resource.register_resource

    def register_as_you_go(*args, **kwargs):
        result = declare(*args, **kwargs)
        if loop.is_running():
            drain()
        return result

    saved = (
        gc.get_threshold(), declare, runtime_resource._get_stack_trace, _types.resource_types,
        getattr(loop, "_default_executor", None),
    )
    gc.set_threshold(*GC_THRESHOLD)
    pulumi.resource.register_resource = register_as_you_go
    runtime_resource._get_stack_trace = source_pb2.StackTrace
    _types.resource_types = functools.cache(saved[3])
    loop.set_default_executor(_MONITOR_THREAD)
    try:
        yield
    finally:
        gc.set_threshold(*saved[0])
        pulumi.resource.register_resource = saved[1]
        runtime_resource._get_stack_trace = saved[2]
        _types.resource_types = saved[3]
        loop._default_executor = saved[4]  # type: ignore[attr-defined]
