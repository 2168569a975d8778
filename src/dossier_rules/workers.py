"""An ordered pool of worker processes that keeps memory flat and survives crashes.

Batch screening sends chunks of records to forked workers and writes the
results in input order. The pool is deliberately simple:

* each worker has its own pipe and at most one chunk in flight; the parent
  answers whichever worker is done first with the next chunk, and holds
  results that come early until the chunks before them are done, so output
  order is input order and no worker waits for a slower one;
* the parent runs no helper threads (``concurrent.futures`` pickles through
  threads, whose allocator arenas kept growing the parent's resident set);
* a worker that dies (a segfault in a C extension, an OOM kill) is replaced;
  the records of the chunk it held are retried one by one in a fresh worker,
  and a record that kills a worker a second time is handed to ``give_up``,
  which turns it into an error record. Nothing is lost, and the parent lives;
* a worker that holds a chunk past the deadline (stopped, hung) is killed
  and handled as a crash;
* the parent may screen chunks too (``steps``): on two cores, a parent that
  only fed one worker per core left a core's share of its time idle or
  contended. It takes a chunk only when every worker holds one, and answers
  the workers between the steps of its own chunk, so none waits for it;
* a worker ends when its parent does, however the parent ended: it holds
  only its own end of its pipe (so it reads end-of-file when the parent is
  gone) and asks the kernel to kill it when the parent dies (Linux).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import pickle
import signal
import time
import traceback
from collections.abc import Callable, Generator, Iterable, Iterator
from dataclasses import dataclass, field
from multiprocessing import get_context
from multiprocessing.connection import Connection, wait
from typing import Any, Generic, TypeVar

Task = TypeVar("Task")
Result = TypeVar("Result")

_CONTEXT = get_context("fork")

DEADLINE = 300.0
"""Seconds a worker may hold one chunk (or, on retry, one record) before it is deemed hung and replaced."""

_PARENT_ENDS: set[Connection] = set()
"""The parent's ends of every worker's pipe; a new worker closes its inherited copies."""


class _Failure:
    """What a worker sends back when ``work`` raised: the traceback, so the parent can stop with it."""

    def __init__(self, text: str):
        self.text = text


def _die_with_parent(parent: int) -> None:
    """In a worker: be killed when the parent dies, and let the parent alone handle Ctrl-C and SIGTERM."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    for end in list(_PARENT_ENDS):
        end.close()  # our copies only: the parent's stay open
    libc_name = ctypes.util.find_library("c")
    if libc_name:
        libc = ctypes.CDLL(libc_name, use_errno=True)
        libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(1)


def _serve(conn: Connection, work: Callable[[Any], Any], parent: int) -> None:
    """Worker loop: receive a chunk, send back its result; ``None`` means stop."""
    _die_with_parent(parent)
    try:
        while True:
            task = conn.recv()
            if task is None:
                return
            try:
                result = work(task)
            except Exception:  # noqa: BLE001 a bug, not a crash: report it instead of dying
                result = _Failure(traceback.format_exc())
            conn.send(result)
    except (EOFError, KeyboardInterrupt):
        return
    finally:
        conn.close()


def unpickled(data: bytes) -> Any:
    """A worker's result from its bytes; raises :class:`WorkerError` with the traceback when ``work`` raised."""
    result = pickle.loads(data)
    if isinstance(result, _Failure):
        raise WorkerError(result.text)
    return result


class WorkerCrashed(Exception):
    """The worker died while holding a task."""


class WorkerError(Exception):
    """``work`` raised in a worker; the message is the worker's traceback."""


class WorkerHung(WorkerCrashed):
    """The worker held a task past the deadline; it was killed."""


class _Worker:
    def __init__(self, work: Callable[[Any], Any]):
        self.conn, child = _CONTEXT.Pipe(duplex=True)
        _PARENT_ENDS.add(self.conn)
        self.process = _CONTEXT.Process(target=_serve, args=(child, work, os.getpid()), daemon=True)
        self.process.start()
        child.close()

    def send(self, task: Any) -> None:
        try:
            self.conn.send(task)
        except (BrokenPipeError, ConnectionResetError, OSError) as exc:
            raise WorkerCrashed(str(exc)) from None

    def receive(self, deadline: float | None = None) -> Any:
        return unpickled(self.receive_bytes(deadline))

    def receive_bytes(self, deadline: float | None = None) -> bytes:
        """The pickled result, not yet unpickled: the parent gives the worker its next chunk first."""
        try:
            if deadline is not None and not self.conn.poll(deadline):
                self.process.kill()
                raise WorkerHung(f"no result within {deadline:g} s")
            return self.conn.recv_bytes()
        except (EOFError, ConnectionResetError, OSError) as exc:
            raise WorkerCrashed(str(exc) or "connection closed") from None

    def exitcode(self) -> int | None:
        self.process.join(timeout=5)
        if self.process.is_alive():  # stopped (SIGSTOP) or stuck: it will not end by itself
            self.process.kill()
            self.process.join()
        return self.process.exitcode

    def stop(self) -> None:
        try:
            self.conn.send(None)
        except OSError:
            pass
        self.process.join(timeout=5)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()
        self.close()

    def close(self) -> None:
        _PARENT_ENDS.discard(self.conn)
        self.conn.close()


@dataclass
class _Held(Generic[Task]):
    """A chunk a worker holds: its place in the input, and when the worker is deemed hung."""

    number: int
    chunk: list[Task]
    deadline: float


@dataclass
class _Progress(Generic[Task, Result]):
    """Where one :meth:`OrderedPool.map` stands: the chunk read ahead, the chunks held, the results waiting for their turn."""

    source: Iterator[list[Task]]
    ahead: list[Task] | None = None
    held: dict[int, _Held[Task]] = field(default_factory=dict)
    done: dict[int, Result] = field(default_factory=dict)
    sent: int = 0
    yielded: int = 0

    def __post_init__(self) -> None:
        self.read_ahead()  # always one chunk read ahead, while the workers work: none waits for the input

    def take(self) -> tuple[int, list[Task]]:
        """The chunk read ahead and its place; call :meth:`read_ahead` once it is on its way."""
        assert self.ahead is not None
        number, chunk = self.sent, self.ahead
        self.sent += 1
        self.ahead = None
        return number, chunk

    def read_ahead(self) -> None:
        """Read the next chunk, unless one is read already: after a chunk is sent, so that its worker starts at once."""
        if self.ahead is None:
            self.ahead = next(self.source, None)


Steps = Callable[[list[Task]], Generator[None, None, Result]]
"""``work`` for the parent: yields between records, so the parent can answer its workers, and returns the chunk's result."""


class OrderedPool(Generic[Task, Result]):
    """``jobs`` forked workers applying ``work`` to chunks (lists of records), in order.

    ``work`` and the state it uses are inherited through ``fork``; they must be
    set up before the pool is created. ``merge`` joins per-record results back
    into one chunk result after a crash; ``give_up`` makes the result for a
    record that crashed (or hung) a worker twice, given how the worker ended.
    A worker holding a chunk longer than ``deadline`` seconds is hung.
    With ``steps`` (``work`` in steps), the parent screens chunks too, whenever
    every worker holds one: only for work that cannot crash the parent.
    """

    def __init__(
        self,
        jobs: int,
        work: Callable[[list[Task]], Result],
        merge: Callable[[list[Result]], Result],
        give_up: Callable[[Task, str], Result],
        deadline: float = DEADLINE,
        steps: Steps[Task, Result] | None = None,
    ):
        self.work, self.merge, self.give_up, self.deadline, self.steps = work, merge, give_up, deadline, steps
        self.workers = [_Worker(work) for _ in range(jobs)]
        self.unwritten = 2 * (jobs + (steps is not None))
        """Chunks sent (or screened here) and not yet yielded, at most: two per process that screens."""

    def __enter__(self) -> OrderedPool[Task, Result]:
        return self

    def __exit__(self, kind: object, *exc: object) -> None:
        for worker in self.workers:
            if kind is not None:  # interrupted or failed: the work in flight is not wanted
                worker.process.kill()
            worker.stop()

    def map(self, chunks: Iterable[list[Task]]) -> Iterator[Result]:
        """Results of ``work`` for each chunk, in the order of ``chunks``.

        Whichever worker answers first gets the next chunk at once, and its
        result waits here until the chunks before it are done: a slow chunk
        never leaves the other workers idle, as reading the workers in turn
        did (a worker could not start its next chunk before the parent read
        its result). The next chunk is read while the workers work, so an idle
        worker gets it at once. At most two chunks per screening process are
        sent and not yet yielded, and one more is read, so memory stays bounded.
        """
        state: _Progress[Task, Result] = _Progress(iter(chunks))
        while True:
            self._dispatch(state)
            if state.yielded in state.done:
                yield state.done.pop(state.yielded)
                state.yielded += 1
            elif self.steps is not None and state.ahead is not None and self._room(state):
                number, chunk = state.take()
                state.read_ahead()
                state.done[number] = self._screen_here(chunk, state)
            elif not state.held:
                return
            else:
                self._collect(state, wait_for_one=True)

    def _room(self, state: _Progress[Task, Result]) -> bool:
        return state.sent - state.yielded < self.unwritten

    def _dispatch(self, state: _Progress[Task, Result]) -> None:
        """Send the chunk read ahead to each idle worker, while memory allows."""
        while state.ahead is not None and len(state.held) < len(self.workers) and self._room(state):
            slot = min(set(range(len(self.workers))) - state.held.keys())
            number, chunk = state.take()
            state.held[slot] = _Held(number, chunk, time.monotonic() + self.deadline)
            try:
                self.workers[slot].send(chunk)
            except WorkerCrashed:
                pass  # noticed when its result is read
            state.read_ahead()

    def _collect(self, state: _Progress[Task, Result], wait_for_one: bool) -> None:
        """Read the results of the workers that answered (waiting for one, or not at all); a crashed worker's chunk is recovered."""
        if not state.held:
            return
        received: dict[int, bytes] = {}
        for slot in self._answered(state.held, wait_for_one):
            task = state.held.pop(slot)
            try:
                received[task.number] = self.workers[slot].receive_bytes()
            except WorkerCrashed:
                state.done[task.number] = self._recover(slot, task.chunk)
        self._dispatch(state)  # the workers that answered work on while their results are unpickled here
        for number, data in received.items():
            state.done[number] = unpickled(data)

    def _screen_here(self, chunk: list[Task], state: _Progress[Task, Result]) -> Result:
        """Screen a chunk in the parent, answering the workers between its steps so that none waits for the parent."""
        assert self.steps is not None
        steps = self.steps(chunk)
        while True:
            try:
                next(steps)
            except StopIteration as end:
                result: Result = end.value  # the generator's return value; StopIteration types it Any
                return result
            self._collect(state, wait_for_one=False)

    def _answered(self, held: dict[int, _Held[Task]], wait_for_one: bool) -> list[int]:
        """Slots whose worker answered or died (end of file is ready too); a worker past its deadline is killed, so it died."""
        ends = {self.workers[slot].conn: slot for slot in held}
        timeout = max(0.0, min(task.deadline for task in held.values()) - time.monotonic()) if wait_for_one else 0.0
        ready = [ends[end] for end in wait(list(ends), timeout)]  # type: ignore[index]  # wait() returns the connections it was given
        now = time.monotonic()
        late = [slot for slot, task in held.items() if task.deadline <= now and slot not in ready]
        for slot in late:
            self.workers[slot].process.kill()  # hung or stopped: handled as a crash
        return ready + late

    def _replace(self, slot: int) -> int | None:
        """Start a fresh worker in ``slot``; return how the old one ended."""
        code = self.workers[slot].exitcode()
        self.workers[slot].close()
        self.workers[slot] = _Worker(self.work)
        return code

    def _recover(self, slot: int, chunk: list[Task]) -> Result:
        """Retry each record of a crashed or hung chunk alone, once; a second failure gives that record up."""
        self._replace(slot)
        results = []
        for task in chunk:
            worker = self.workers[slot]
            try:
                worker.send([task])
                results.append(worker.receive(self.deadline))
            except WorkerHung as exc:
                self._replace(slot)
                results.append(self.give_up(task, str(exc)))
            except WorkerCrashed:
                code = self._replace(slot)
                results.append(self.give_up(task, signal_name(code)))
        return self.merge(results)


def signal_name(code: int | None) -> str:
    """How a worker ended, for error messages: ``SIGSEGV`` rather than ``-11``."""
    if code is None:
        return "unknown cause"
    if code < 0:
        try:
            return signal.Signals(-code).name
        except ValueError:
            return f"signal {-code}"
    return f"exit code {code}"


def run_isolated(work: Callable[[Any], Result], task: Any, retries: int = 1) -> Result:
    """Run ``work(task)`` in a forked process, retried once in a fresh one if it crashes.

    A second crash raises :class:`WorkerCrashed` here instead of killing us. The
    task is inherited through ``fork``, not sent, so it need not be picklable (a
    pack set holds closures).
    """
    for attempt in range(retries + 1):
        worker = _Worker(lambda _start: work(task))
        try:
            worker.send(True)
            result: Result = worker.receive()  # what work(task) returned, unpickled
            return result
        except WorkerCrashed as exc:
            code = worker.exitcode()
            if attempt == retries:
                raise WorkerCrashed(f"the worker died {retries + 1} times ({signal_name(code)})") from exc
        finally:
            worker.stop()
    raise AssertionError("unreachable")
