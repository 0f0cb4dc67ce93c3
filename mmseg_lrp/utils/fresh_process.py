"""Run a measurement in a fresh process (own peak memory, clean state)."""
import multiprocessing as mp
import os
from typing import Any, Callable, Dict, Optional


def _child(queue, fn: Callable, args: tuple) -> None:
    try:
        queue.put(('ok', fn(*args)))
    except BaseException as e:  # report instead of hanging the parent
        queue.put(('error', f'{type(e).__name__}: {e}'))


def run_in_fresh_process(fn: Callable,
                         *args,
                         env: Optional[Dict[str, str]] = None) -> Any:
    """Call ``fn(*args)`` in a new spawned process and return its result.

    Args:
        fn: A module-level (picklable) function.
        *args: Its (picklable) arguments.
        env: Environment variables set for the child only (read at its
            start, e.g. ``MALLOC_MMAP_THRESHOLD_``).

    Returns:
        What ``fn`` returned.

    Raises:
        RuntimeError: With the child's exception type and message.
    """
    ctx = mp.get_context('spawn')
    env = env or {}
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        queue = ctx.Queue()
        proc = ctx.Process(target=_child, args=(queue, fn, args))
        proc.start()
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    status, value = queue.get()
    proc.join()
    if status == 'error':
        raise RuntimeError(f'{getattr(fn, "__name__", fn)}{args[:1]}: {value}')
    return value
