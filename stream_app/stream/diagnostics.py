"""What a running worker is waiting on, for a person asking with SIGUSR1.

mode's worker (under Faust) answers SIGUSR1 by printing every frame's local
variables, which may hold event payloads, and SIGUSR2 by stopping in a debugger
that waits for a terminal an unattended worker does not have. The dump here has
stacks only: code locations and task names, never values.
"""

from __future__ import annotations

import asyncio
import io
import sys
import threading
import traceback


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
