"""Stopping a process pool at once: an interrupted run must not wait for the work still queued."""

from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor

__all__ = ["stop_pool"]


def stop_pool(pool: ProcessPoolExecutor) -> None:
    """Cancel the queued tasks and terminate the workers (leaving the pool's ``with`` block would wait
    for every task submitted, whose results an interrupted run then throws away)."""
    # No public API for the workers or the pool's thread in Python 3.11.
    processes = list((getattr(pool, "_processes", None) or {}).values())
    manager = getattr(pool, "_executor_manager_thread", None)
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        if process.is_alive():
            process.terminate()
    # The pool's own thread reaps the workers once they are gone. Joining them from here at the same time
    # raced with it: one of the two threads reaped a worker, and the other then saw it alive for good.
    if manager is not None:
        manager.join(timeout=30)
    for process in processes:
        if process.is_alive():  # the thread had already ended, or did not get to it
            process.join(timeout=10)
