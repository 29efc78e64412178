"""Where work runs: in this process, on a local process pool, or on a Dask cluster.

A :class:`Runner` is a ``concurrent.futures.Executor`` (or none: run in this process) together with
what the search needs to know about it -- how many tasks run at once, whether the workers share
this machine's files -- and how to stop it. ``--executor local`` (the default) is a process pool of
``--jobs`` workers; ``--executor dask://HOST:PORT`` is a Dask scheduler's
``distributed.Client(address).get_executor()`` (optional extra ``cluster``).

Stopping: the workers of a local pool ignore SIGINT and SIGTERM (a Ctrl-C, SLURM's ``scancel`` or
systemd's stop reach the whole process group; only the main process decides what an interruption
means, and a worker must not die or raise inside its unit) and exit by themselves when the main
process is gone; ``close(abort=True)`` kills them at once instead of letting them finish their
tasks. A Dask cluster's tasks are cancelled; its workers belong to the cluster and keep running.
"""

from __future__ import annotations

import hashlib
import math
import os
import re
import signal
import threading
import time
from collections.abc import Callable
from concurrent.futures import Executor, ProcessPoolExecutor
from pathlib import Path
from types import TracebackType
from typing import Self

from pimsim.errors import InputError
from pimsim.heap import few_full_collections, keep_heap

#: Tasks per Dask worker a search is cut into: enough for load balance, few enough that the
#: scheduler's per-task cost (milliseconds) stays small against a unit's (0.1 s and more).
TASKS_PER_WORKER = 4
#: How long to wait for a Dask scheduler to answer, s.
CONNECT_TIMEOUT_S = 10.0


class Runner:
    """An executor, what it is, and how to close it (as a context manager: abort on an exception).

    executor: None runs everything in this process.
    workers: tasks that run at once (0 when the cluster does not know yet, e.g. while it scales up).
    remote: the workers may be other machines, so files they write would not land here.
    description: for messages, e.g. ``2 local processes``.
    """

    def __init__(
        self,
        executor: Executor | None,
        workers: int,
        remote: bool,
        description: str,
        stop: Callable[[bool], None],
    ) -> None:
        self.executor = executor
        self.workers = workers
        self.remote = remote
        self.description = description
        self._stop = stop
        self._closed = False

    def batch_size(self, units: int) -> int:
        """Work units per task: one on a local pool, a few per task on a cluster (about
        ``TASKS_PER_WORKER`` tasks per worker, so per-task overhead is paid seldom)."""
        if not self.remote or self.workers <= 0:
            return 1
        return max(1, math.ceil(units / (TASKS_PER_WORKER * self.workers)))

    def close(self, abort: bool = False) -> None:
        """Release the executor; ``abort`` cancels what is pending and stops running tasks."""
        if not self._closed:
            self._closed = True
            self._stop(abort)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close(abort=kind is not None)


def _exit_with_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(1.0)
    os._exit(1)  # the main process is gone (even killed with SIGKILL): no orphan keeps computing


def _worker_start(parent: int) -> None:
    """A local worker process: leave Ctrl-C and SIGTERM to the main process, end with it, and keep
    the memory it frees for its next batch (:func:`pimsim.heap.keep_heap`) and collect its oldest
    objects seldom (:func:`pimsim.heap.few_full_collections`), both set here whatever starts the
    worker: a forked one has them already from the console script, a spawned one not."""
    keep_heap()
    few_full_collections()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # not the main process's handler, inherited
    threading.Thread(target=_exit_with_parent, args=(parent,), daemon=True).start()


def _stop_pool(pool: ProcessPoolExecutor, abort: bool) -> None:
    if not abort:
        pool.shutdown(wait=True)
        return
    kill = getattr(pool, "kill_workers", None)  # Python 3.14+; before, the pool's own process map
    processes = [] if kill else list((getattr(pool, "_processes", None) or {}).values())
    # shutdown() forgets these
    manager = getattr(pool, "_executor_manager_thread", None)
    call_queue = getattr(pool, "_call_queue", None)
    result_queue = None if kill else getattr(pool, "_result_queue", None)
    pool.shutdown(wait=False, cancel_futures=True)
    if kill is not None:
        kill()
    for process in processes:
        process.kill()
    for process in processes:
        process.join(timeout=5)
    # A worker killed while writing its result leaves half a message in the result pipe, and the
    # pool's manager thread waits in a read for the rest; a worker killed while the call queue's
    # feeder thread writes its next task leaves that thread blocked. Both would hang the exit
    # (Python joins the manager, the manager the feeder): close this process's end of the result
    # pipe, the last writer left (the read ends in EOF: the pool is broken, its thread ends), and
    # let the feeder go (a daemon thread).
    if call_queue is not None:
        call_queue.cancel_join_thread()
    if result_queue is not None:
        result_queue._writer.close()
    if manager is not None:
        # it ends once it sees the workers gone; at exit, Python 3.11 would otherwise write to its
        # wake-up pipe while it closes it (an "OSError: Bad file descriptor" traceback)
        manager.join(timeout=5)


def local_runner(jobs: int) -> Runner:
    """A process pool of ``jobs`` workers, or this process when ``jobs`` is 1."""
    if jobs <= 1:
        return Runner(None, 1, False, "this process", lambda abort: None)
    pool = ProcessPoolExecutor(max_workers=jobs, initializer=_worker_start, initargs=(os.getpid(),))
    return Runner(
        pool, jobs, False, f"{jobs} local processes", lambda abort: _stop_pool(pool, abort)
    )


def code_digest() -> str:
    """A short hash of the synthesizer's and the model's source: equal digests compute equal
    results. Stored with a run and compared with every Dask worker's."""
    digest = hashlib.sha256()
    for package in ("pimsim", "synth"):
        root = Path(__file__).resolve().parent.parent / package
        for path in sorted(root.rglob("*.py")):
            digest.update(str(path.relative_to(root.parent)).encode() + b"\0")
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _identity() -> tuple[str, str]:
    from pimsim import __version__

    return __version__, code_digest()


def open_runner(spec: str, jobs: int, connect_timeout_s: float = CONNECT_TIMEOUT_S) -> Runner:
    """The runner ``--executor spec`` names: ``local`` (a pool of ``jobs``) or ``dask://HOST:PORT``.

    Raises:
        InputError: an unknown spec, the ``cluster`` extra is missing, no scheduler answers at the
            address, or a worker runs other pimsyn code than this process.
    """
    if spec == "local":
        return local_runner(jobs)
    match = re.fullmatch(r"dask://([^:/\s]+|\[[0-9A-Fa-f:]+\]):(\d+)/?", spec)
    if match is None:
        raise InputError(
            "command line",
            "--executor",
            f"'{spec}' is not an executor",
            "use local (the default) or dask://HOST:PORT (a Dask scheduler)",
        )
    return _dask_runner(f"tcp://{match[1]}:{match[2]}", connect_timeout_s)


def _dask_runner(address: str, connect_timeout_s: float) -> Runner:
    try:
        import distributed
    except ImportError:
        raise InputError(
            "command line",
            f"--executor dask://{address[6:]}",
            "needs Dask (the optional extra 'cluster', dask[distributed]), which is not installed",
            "pip install 'pimsyn[cluster]' here and on every worker",
        ) from None
    try:
        client = distributed.Client(address, timeout=connect_timeout_s, set_as_default=False)
    except (OSError, TimeoutError) as exc:
        raise InputError(
            "command line",
            "--executor",
            f"no Dask scheduler answers at {address} within {connect_timeout_s:g} s ({exc})",
            "start one with `dask scheduler --port PORT` and workers with "
            "`dask worker HOST:PORT`, or check the address and the firewall",
        ) from None
    try:
        mine = _identity()
        theirs = client.run(_identity)
    except Exception as exc:  # noqa: BLE001 -- whatever a worker that cannot import pimsyn raises
        client.close()
        raise InputError(
            "command line",
            "--executor",
            f"the workers of {address} cannot run pimsyn ({type(exc).__name__}: {exc})",
            "install this pimsyn version on every worker",
        ) from None
    other = sorted(w for w, ident in theirs.items() if tuple(ident) != mine)
    if other:
        client.close()
        raise InputError(
            "command line",
            "--executor",
            f"{len(other)} worker(s) of {address} run "
            f"other pimsyn code than this process (version {mine[0]}, code "
            f"{mine[1]}), "
            f"e.g. {other[0]}: {theirs[other[0]]}",
            "install the same pimsyn version (and commit) on every worker, so results "
            "do not depend on where a unit ran",
        )
    executor = client.get_executor(pure=False)

    def stop(abort: bool) -> None:
        executor.shutdown(wait=not abort)  # without waiting, Dask cancels the pending tasks
        client.close()

    workers = sum(client.nthreads().values())
    return Runner(executor, workers, True, f"Dask at {address} ({workers} worker threads)", stop)
