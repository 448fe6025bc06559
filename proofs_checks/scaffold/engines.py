"""Where a run's tasks execute: in turn in this process, in local worker processes, or on Dask.

The runner (:mod:`~proofs_checks.scaffold.runner`) turns each claim into :class:`Task` s: one per
chunk of its instances (:mod:`~proofs_checks.scaffold.chunks`; a check that is not chunked is one
task), one for its positive controls, one for its proof under ``--prove``.  An engine executes
them with :func:`execute` and hands each :class:`Outcome` back as it arrives, in any order; the
runner reassembles them in chunk order, so the report does not depend on the engine.

* :class:`SerialEngine` (``--workers 1``): in turn, in this process;
* :class:`ProcessEngine` (``--workers N``): a pool of N local processes (``forkserver``);
* :class:`DaskEngine` (``--scheduler ADDRESS`` or ``--scheduler local:N``): a Dask distributed
  cluster (the optional extra ``distributed``).

A worker finds a claim from its module and id (the task carries both, never the functions), so a
claim runs in workers when it is defined at the top level of an importable module; any other
claim runs in this process.  A task that loses its worker is retried once; a second loss stops
the run with :class:`WorkerDiedError` (never a silent partial verdict).  Workers ignore Ctrl-C:
the main process stops them and the runner writes the partial report.
"""

from __future__ import annotations

import importlib
import multiprocessing
import multiprocessing.forkserver
import os
import signal
import time
import traceback
from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

from .chunks import Chunked, chunk_context
from .claim import CheckContext, Claim, ControlOutcome
from .registry import claim_rng, control_rng

__all__ = [
    "Task",
    "Outcome",
    "Engine",
    "SerialEngine",
    "ProcessEngine",
    "DaskEngine",
    "EngineError",
    "WorkerDiedError",
    "SchedulerUnreachableError",
    "MissingExtraError",
    "MissingPackageError",
    "execute",
    "engine_for",
    "local_workers",
    "usable_cores",
    "where",
]

TaskKind = Literal["chunk", "check", "controls", "proof", "figure"]

#: Tasks submitted ahead per local worker process.
IN_FLIGHT = 4
#: Seconds to wait for a Dask scheduler before giving up.
CONNECT_TIMEOUT_S = 10
#: What a worker process imports before its first task, once, in the fork server that local
#: workers are forked from (the claim modules themselves are imported on demand).
WORKER_PRELOAD = ["proofs_checks.scaffold.engines", "theory"]
#: Dask settings of a ``local:N`` cluster, which has no dashboard to feed: no statistical
#: profiler (it samples the running task's stack every 10 ms), and the event-loop tick and the
#: resource monitors at a slower pace.  Together they make a chunk 5 to 8% faster on a worker
#: (``benchmarks/bench_runner.py``).
LOCAL_CLUSTER_CONFIG: dict[str, Any] = {
    "distributed.worker.profile.enabled": False,
    "distributed.admin.tick.interval": "1s",
    "distributed.admin.system-monitor.interval": "5s",
    "distributed.worker.memory.monitor-interval": "1s",
}


class EngineError(RuntimeError):
    """The engine could not run the tasks (a lost worker, an unreachable scheduler...)."""


class WorkerDiedError(EngineError):
    """A task lost its worker twice (the first loss is retried)."""


class SchedulerUnreachableError(EngineError):
    """No Dask scheduler answered at the address within :data:`CONNECT_TIMEOUT_S` seconds."""


class MissingExtraError(EngineError):
    """An optional extra the run needs is not installed."""


class MissingPackageError(EngineError):
    """A worker cannot import this project (it is not installed there)."""


@dataclass(frozen=True)
class Task:
    """One unit of work: a chunk of a claim's instances (``index``, ``start``, ``count``), its
    whole check, its controls or its proof.  ``module`` and ``claim_id`` name the claim, ``slot``
    is its position in the run; ``instances`` is the claim's total and ``seed`` the run's seed."""

    kind: TaskKind
    module: str
    claim_id: str
    slot: int
    seed: int
    instances: int
    index: int = 0
    start: int = 0
    count: int = 0
    #: a figure task's input: the claim's result and the folder to draw into
    result: Any = field(default=None, compare=False, hash=False, repr=False)
    outdir: str = ""


@dataclass
class Outcome:
    """What a task produced (``value``), or the error it raised (``where`` it came from), and the
    seconds it took in its worker."""

    task: Task
    value: Any = None
    error: str | None = None
    seconds: float = 0.0


def where(exc: BaseException) -> str:
    """``Type: message (file:line in function)`` of the innermost frame of an exception."""
    tb = traceback.extract_tb(exc.__traceback__)
    at = f" ({tb[-1].filename}:{tb[-1].lineno} in {tb[-1].name})" if tb else ""
    return f"{type(exc).__name__}: {exc}{at}"


def claim_module(claim: Claim) -> str:
    """The module a claim's check is defined in (where a worker looks the claim up)."""
    check = claim.check.chunk if isinstance(claim.check, Chunked) else claim.check
    return getattr(check, "__module__", "") or ""


_FOUND: dict[tuple[str, str], Claim] = {}


def find_claim(module: str, claim_id: str) -> Claim | None:
    """The :class:`Claim` with this id among ``module``'s top-level names, or None."""
    key = (module, claim_id)
    if key not in _FOUND:
        try:
            mod = importlib.import_module(module)
        except ImportError:
            return None
        for value in vars(mod).values():
            if isinstance(value, Claim) and value.id == claim_id:
                _FOUND[key] = value
                break
    return _FOUND.get(key)


def runs_anywhere(claim: Claim) -> bool:
    """Whether a worker can find ``claim`` (defined at the top level of an importable module)."""
    return find_claim(claim_module(claim), claim.id) is claim


def execute(
    task: Task, claim: Claim | None = None, progress: Callable[[int], None] | None = None
) -> Outcome:
    """Run one task (in a worker, ``claim`` is looked up from the task; ``progress(done)``, in
    this process only, hears of the instances done so far).  Exceptions of the check become the
    outcome's ``error``; the claim's absence is an error too."""
    start = time.perf_counter()
    try:
        claim = claim or find_claim(task.module, task.claim_id)
        if claim is None:
            raise EngineError(
                f"claim {task.claim_id} not found in module {task.module!r} on this worker "
                "(is the package installed there? pip install -e '.[distributed]')"
            )
        value = _RUN[task.kind](claim, task, progress or _silent)
        return Outcome(task, value, None, time.perf_counter() - start)
    except Exception as exc:
        return Outcome(task, None, where(exc), time.perf_counter() - start)


def _silent(done: int) -> None:
    pass


def check_context(task: Task, progress: Callable[[int], None] = _silent) -> CheckContext:
    """The whole claim's context: its size, the seed and the claim's generator."""
    return CheckContext(task.instances, task.seed, claim_rng(task.seed, task.claim_id), progress)


def _run_chunk(claim: Claim, task: Task, progress: Callable[[int], None]) -> Any:
    assert isinstance(claim.check, Chunked)
    ctx = chunk_context(check_context(task, progress), task.index, task.start, task.count)
    return claim.check.chunk(ctx)


def _run_check(claim: Claim, task: Task, progress: Callable[[int], None]) -> Any:
    return claim.check(check_context(task, progress))


def _run_controls(
    claim: Claim, task: Task, progress: Callable[[int], None]
) -> tuple[ControlOutcome, ...]:
    rng = control_rng(task.seed, claim.id)
    outcomes = []
    for control in claim.controls:
        try:
            outcomes.append(ControlOutcome(control.name, bool(control.run(rng))))
        except Exception as exc:  # a control that raises did not detect
            outcomes.append(ControlOutcome(control.name, False, where(exc)))
    return tuple(outcomes)


def _run_proof(claim: Claim, task: Task, progress: Callable[[int], None]) -> Any:
    from .. import proofs

    if claim.id not in proofs.available():
        return None
    return proofs.prove(claim.id, seed=task.seed)


def _run_figure(claim: Claim, task: Task, progress: Callable[[int], None]) -> list[str]:
    """Draw the claim's figures of ``task.result`` into ``task.outdir``; the files written."""
    import matplotlib

    from .figures import Gallery

    matplotlib.use("Agg")
    assert claim.figure is not None
    outdir = Path(task.outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    gallery = Gallery(outdir)
    claim.figure(task.result, gallery)
    return [str(p) for p in gallery.paths]


_RUN: dict[str, Callable[[Claim, Task, Callable[[int], None]], Any]] = {
    "chunk": _run_chunk,
    "check": _run_check,
    "controls": _run_controls,
    "proof": _run_proof,
    "figure": _run_figure,
}


# --- engines ----------------------------------------------------------------------------------


#: Called with each outcome; returns the follow-up tasks it asks for (a finished claim's figure).
OnDone = Callable[[Outcome], list[Task]]
OnProgress = Callable[[Task, int], None]


class Engine(Protocol):
    """Executes tasks and calls ``on_done`` with each outcome as it arrives."""

    name: str
    workers: int

    def run(
        self, tasks: list[Task], local: dict[int, Claim], on_done: OnDone, on_progress: OnProgress
    ) -> None:
        """Run ``tasks`` and every follow-up task ``on_done`` returns; those of the claims in
        ``local`` (by slot) run in this process, and report their advancement within a task to
        ``on_progress(task, done)``."""
        ...

    def close(self) -> None: ...


def run_locally(task: Task, claim: Claim, on_progress: OnProgress) -> Outcome:
    """A task run in this process, its progress reported as it goes."""
    return execute(task, claim, lambda done: on_progress(task, done))


class SerialEngine:
    """Every task in turn, in this process (``--workers 1``); a follow-up task runs next."""

    name = "serial"
    workers = 1

    def run(
        self, tasks: list[Task], local: dict[int, Claim], on_done: OnDone, on_progress: OnProgress
    ) -> None:
        queue = deque(tasks)
        while queue:
            task = queue.popleft()
            claim = local.get(task.slot) or find_claim(task.module, task.claim_id)
            if claim is None:
                outcome = execute(task)  # the outcome says the claim was not found
            else:
                outcome = run_locally(task, claim, on_progress)
            queue.extendleft(reversed(on_done(outcome)))

    def close(self) -> None:
        pass


def _run_here(
    tasks: list[Task], local: dict[int, Claim], on_done: OnDone, on_progress: OnProgress
) -> None:
    """Run the tasks of local claims in this process, with their follow-ups."""
    SerialEngine().run([t for t in tasks if t.slot in local], local, on_done, on_progress)


#: Submission order on parallel engines: whole checks and proofs (one long task each) first,
#: then the chunks, then the controls, so that short tasks fill the workers at the end of a
#: run (a figure, asked for when its claim finishes, goes to the front of the queue).  Only the
#: scheduling depends on it, never the report.
_FIRST = {"figure": 0, "check": 0, "proof": 0, "chunk": 1, "controls": 2}


def _schedule(task: Task) -> int:
    return _FIRST[task.kind]


def _fork_server() -> Any:
    """The fork server's multiprocessing context, or None where there is none (Windows).
    Workers forked from a server that has imported the project once skip the imports, and the
    interpreter's tear-down at exit (a Dask worker stops about 0.1 s sooner than a spawned
    one).  The server starts once per process, with the preloads named by then."""
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return None
    return multiprocessing.get_context("forkserver")


def usable_cores() -> int:
    """The number of cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def _ignore_interrupts() -> None:
    """Worker initializer: Ctrl-C is the main process's to handle."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


class ProcessEngine:
    """A pool of ``workers`` local processes (``--workers N``)."""

    name = "processes"

    def __init__(self, workers: int) -> None:
        if workers < 1:
            raise ValueError(f"workers {workers}: expected at least 1")
        self.workers = workers
        self._pool: ProcessPoolExecutor | None = None

    def _new_pool(self) -> ProcessPoolExecutor:
        server = _fork_server()
        if server is not None:
            server.set_forkserver_preload(WORKER_PRELOAD)
        return ProcessPoolExecutor(self.workers, server, initializer=_ignore_interrupts)

    def run(
        self, tasks: list[Task], local: dict[int, Claim], on_done: OnDone, on_progress: OnProgress
    ) -> None:
        remote = sorted((t for t in tasks if t.slot not in local), key=_schedule)
        attempts = dict.fromkeys(remote, 0)
        pending = list(remote)
        while pending:
            pending = self._round(pending, attempts, local, on_done, on_progress)
            if not pending:
                break
            lost = [t for t in pending if attempts[t] >= 2]
            if lost:
                t = lost[0]
                raise WorkerDiedError(
                    f"a worker died twice while running {t.claim_id} ({t.kind} {t.index}); "
                    "the run stops rather than report a partial verdict"
                )
        _run_here(tasks, local, on_done, on_progress)

    def _round(
        self,
        tasks: list[Task],
        attempts: dict[Task, int],
        local: dict[int, Claim],
        on_done: OnDone,
        on_progress: OnProgress,
    ) -> list[Task]:
        """Run ``tasks`` (and their follow-ups) on a pool, at most :data:`IN_FLIGHT` per worker
        submitted at a time (so a run of a million chunks neither fills memory nor blocks a
        stop); the tasks left unfinished when the pool broke."""
        self._pool = self._pool or self._new_pool()
        futures: dict[Future[Outcome], Task] = {}
        queue = deque(tasks)
        done: set[Task] = set()
        try:
            waiting: set[Future[Outcome]] = set()
            while queue and len(waiting) < IN_FLIGHT * self.workers:
                waiting.add(self._submit(queue.popleft(), attempts, futures))
            while waiting:
                finished, waiting = wait(waiting, return_when=FIRST_COMPLETED)
                for future in _in_order(finished, futures):
                    follow = on_done(future.result())
                    done.add(futures[future])
                    here = [t for t in follow if t.slot in local]
                    queue.extendleft(reversed([t for t in follow if t.slot not in local]))
                    _run_here(here, local, on_done, on_progress)
                    while queue and len(waiting) < IN_FLIGHT * self.workers:
                        waiting.add(self._submit(queue.popleft(), attempts, futures))
        except BrokenProcessPool:
            self._shutdown(kill=True)
            return [t for t in (*futures.values(), *queue) if t not in done]
        except BaseException:
            self._shutdown(kill=True)
            raise
        return []

    def _submit(
        self, task: Task, attempts: dict[Task, int], futures: dict[Future[Outcome], Task]
    ) -> Future[Outcome]:
        assert self._pool is not None
        attempts[task] = attempts.get(task, 0) + 1
        future = self._pool.submit(execute, task)
        futures[future] = task
        return future

    def _shutdown(self, *, kill: bool) -> None:
        pool, self._pool = self._pool, None
        if pool is None:
            return
        if kill:
            for process in list(getattr(pool, "_processes", {}).values()):
                process.terminate()
        pool.shutdown(wait=not kill, cancel_futures=True)

    def close(self) -> None:
        self._shutdown(kill=False)


def _succeeded(future: Future[Outcome]) -> bool:
    return not future.cancelled() and future.exception() is None


def _in_order(done: Iterable[Future[Outcome]], futures: dict[Future[Outcome], Task]):
    """Finished futures in submission order (so equal arrivals are handled deterministically)."""
    order = {f: i for i, f in enumerate(futures)}
    return sorted(done, key=order.__getitem__)


class DaskEngine:
    """A Dask distributed cluster: ``ADDRESS`` of a running scheduler, or ``local:N`` for a
    ``LocalCluster`` of N single-threaded worker processes started here."""

    name = "dask"

    def __init__(self, scheduler: str) -> None:
        n = local_workers(scheduler)
        server = _fork_server() if n is not None else None
        if server is not None:
            # Workers of a local cluster are forked from a server that imports Dask and the
            # project once; started first, it imports them while this process imports Dask.
            server.set_forkserver_preload(["distributed", *WORKER_PRELOAD])
            multiprocessing.forkserver.ensure_running()
        try:
            import dask
            import distributed
        except ImportError as exc:
            raise MissingExtraError(
                "--scheduler needs Dask distributed: pip install -e '.[distributed]'"
            ) from exc
        self._cluster = None
        if n is not None:
            config = dict(LOCAL_CLUSTER_CONFIG)
            if server is not None:
                config["distributed.worker.multiprocessing-method"] = "forkserver"
            with dask.config.set(config):
                self._cluster = distributed.LocalCluster(
                    n_workers=n,
                    threads_per_worker=1,
                    processes=True,
                    dashboard_address=None,
                    silence_logs=50,
                )
            address: Any = self._cluster
        else:
            address = scheduler
        try:
            self.client = distributed.Client(address, timeout=f"{CONNECT_TIMEOUT_S}s")
        except (OSError, TimeoutError) as exc:
            self.close()
            raise SchedulerUnreachableError(
                f"no Dask scheduler answered at {scheduler} within {CONNECT_TIMEOUT_S} s ({exc})"
            ) from exc
        self.workers = max(1, len(self.client.scheduler_info().get("workers", {})))

    def run(
        self, tasks: list[Task], local: dict[int, Claim], on_done: OnDone, on_progress: OnProgress
    ) -> None:
        import distributed

        remote = sorted((t for t in tasks if t.slot not in local), key=_schedule)
        index: dict[Any, Task] = {}
        submitted: list[Any] = []
        pending = distributed.as_completed()
        try:
            for task in remote:
                pending.add(self._submit(task, index, submitted))
            for future in pending:
                try:
                    outcome = future.result()
                except distributed.KilledWorker as exc:
                    t = index[future.key]
                    raise WorkerDiedError(
                        f"a Dask worker died twice while running {t.claim_id} "
                        f"({t.kind} {t.index}): {exc}"
                    ) from exc
                except ImportError as exc:
                    raise MissingPackageError(
                        f"a Dask worker cannot import this project ({exc}): install it on every "
                        "worker machine, from the same checkout: pip install -e '.[distributed]'"
                    ) from exc
                for follow in on_done(outcome):
                    pending.add(self._submit(follow, index, submitted))
        except BaseException:
            self.client.cancel(submitted)
            raise
        _run_here(tasks, local, on_done, on_progress)

    def _submit(self, task: Task, index: dict[Any, Task], submitted: list[Any]) -> Any:
        future = self.client.submit(execute, task, pure=False, retries=1)
        index[future.key] = task
        submitted.append(future)
        return future

    def close(self) -> None:
        client = getattr(self, "client", None)
        if client is not None:
            client.close()
        if self._cluster is not None:
            self._cluster.close()
            self._cluster = None


def local_workers(scheduler: str) -> int | None:
    """N for ``local:N`` (a local cluster), None for a scheduler address; ValueError when the
    ``local:`` form is malformed."""
    if not scheduler.startswith("local:"):
        return None
    text = scheduler.removeprefix("local:")
    if not text.isdigit() or int(text) < 1:
        raise ValueError(f"--scheduler {scheduler}: expected local:N with N >= 1")
    return int(text)


def engine_for(workers: int | None, scheduler: str | None) -> Engine:
    """The engine of the command line's ``--workers`` and ``--scheduler`` (``workers`` None:
    every usable core)."""
    if scheduler is not None:
        return DaskEngine(scheduler)
    n = usable_cores() if workers is None else workers
    return SerialEngine() if n == 1 else ProcessEngine(n)
