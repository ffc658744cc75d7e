"""What a running worker is waiting on, for a person asking with SIGUSR1.

mode's worker (under Faust) answers SIGUSR1 by printing every frame's local
variables, which may hold event payloads, and SIGUSR2 by stopping in a debugger
that waits for a terminal an unattended worker does not have. The dump here has
stacks only: code locations and task names, never values. With them goes the
consumer's view of each assigned topic-partition (paused or not, fetch position,
highwater), which is what a partition that stopped being read after a rebalance
needs (faust-streaming issue #629); topics, partitions and offsets only.
"""

from __future__ import annotations

import asyncio
import io
import sys
import threading
import traceback
from typing import Any


def task_stacks(loop: asyncio.AbstractEventLoop) -> str:
    """Every thread's stack and every asyncio task's await chain, without variables."""
    out = io.StringIO()
    names = {thread.ident: thread.name for thread in threading.enumerate()}
    for ident, frame in sys._current_frames().items():
        out.write(f"THREAD {names.get(ident, ident)}\n")
        out.write("".join(traceback.format_stack(frame)))
    tasks = sorted(asyncio.all_tasks(loop), key=lambda task: task.get_name())
    out.write(f"{len(tasks)} TASKS\n")
    for task in tasks:
        out.write(f"TASK {task.get_name()} {_coroutine_name(task)}\n")
        for frame in task.get_stack():
            out.write(f"  {frame.f_code.co_filename}:{frame.f_lineno} {frame.f_code.co_name}\n")
    return out.getvalue()


def _coroutine_name(task: asyncio.Task[object]) -> str:
    coro = task.get_coro()
    return getattr(coro, "__qualname__", None) or type(coro).__name__


def consumer_state(app: Any) -> str:
    """Faust's flow flags and aiokafka's state per assigned topic-partition.

    Reads Faust and aiokafka internals from the main thread without locking; any
    attribute that moved in another version is reported as unavailable instead.
    """
    try:
        consumer = app.consumer
        lines = [
            f"flow_active={consumer.flow_active} "
            f"app_flow_active={app.flow_control.is_active()} "
            f"held_back={sorted(map(str, consumer._buffered_partitions))} "
            f"paused_by_faust={sorted(map(str, consumer._paused_partitions))}"
        ]
        raw = consumer._thread._ensure_consumer()
        assignment = raw._subscription.subscription.assignment
        for tp in sorted(assignment.tps):
            state = assignment.state_value(tp)
            lines.append(
                f"{tp.topic}[{tp.partition}] paused={state.paused} status={state._status.name}"
                f" position={state._position} highwater={state.highwater}"
            )
        return "\n".join(lines)
    # Internals that moved, or a consumer not started yet: diagnostics must never take
    # the worker down.
    except (AttributeError, AssertionError, KeyError, RuntimeError, TypeError) as exc:
        return f"consumer state unavailable: {type(exc).__name__}: {exc}"
