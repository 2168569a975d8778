"""Bounds on each request: its body (413), its time to an answer (503), screenings running per user (429).

The declared ``Content-Length`` is checked first; a body sent without one
(chunked) is counted as it arrives and cut off at the limit. The batch
endpoint has its own, larger limit.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import anyio
import anyio.to_thread
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..locale import N_
from .errors import refusal
from .headers import localized_refusal

LATE = N_("the request was not answered within {seconds} seconds; try again later")
BUSY_USER = N_("{limit} screenings of this user are already running; wait for one to finish")


class BodyTooLarge(Exception):
    pass


class BodyLimit:
    """ASGI middleware: ``limit_for(path)`` bytes at most per request body."""

    def __init__(self, app: ASGIApp, limit_for: Any):
        self.app = app
        self.limit_for = limit_for

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope["path"])
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and not declared.isdigit():
            await refusal(400, "the Content-Length header is not a number", scope["path"])(scope, receive, send)
            return
        if declared is not None and int(declared) > limit:
            await self._refuse(scope, receive, send, limit)
            return
        seen = 0
        started = False

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise BodyTooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted, tracking_send)
        except BodyTooLarge:
            if not started:
                await self._refuse(scope, receive, send, limit)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        response = refusal(413, f"the request body is larger than {limit} bytes", scope["path"])
        await response(scope, receive, send)


class Deadline:
    """ASGI middleware: an answer must start within ``seconds_for(path)``, else the client gets 503 with ``Retry-After``.

    The request's work runs as a task of its own; when the deadline passes
    first, the client is answered and the task is cancelled. Cancelling reaches
    the work at its next ``await``: a computation already running in a worker
    thread finishes there in the background (Python cannot stop a thread), and
    whatever it would have sent is dropped. Once an answer has started (a
    streamed batch), the rest of it is not timed: its size is bounded instead.
    """

    def __init__(self, app: ASGIApp, seconds_for: Callable[[str], float]):
        self.app = app
        self.seconds_for = seconds_for

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        seconds = self.seconds_for(scope["path"])
        started = asyncio.Event()
        late = False

        async def guarded_send(message: Message) -> None:
            if late:
                return
            if message["type"] == "http.response.start":
                started.set()
            await send(message)

        work = asyncio.ensure_future(self.app(scope, receive, guarded_send))
        answering = asyncio.ensure_future(started.wait())
        done, _pending = await asyncio.wait({work, answering}, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
        answering.cancel()
        if not done:
            late = True
            work.add_done_callback(_forget)
            work.cancel()
            answer = localized_refusal(scope, 503, "unavailable", LATE, retry_after=max(1, round(seconds)), seconds=f"{seconds:g}")
            await answer(scope, receive, send)
            return
        await work


def _forget(task: asyncio.Future[None]) -> None:
    """Collect the outcome of work abandoned at its deadline, so it is not reported as never retrieved."""
    if not task.cancelled():
        task.exception()


class UploadCap:
    """ASGI middleware: at most ``limit`` screening requests running at once per user; more get 429.

    ``who(scope)`` names the caller (None when the request carries no valid
    credentials: the route then refuses it as usual). The count is per
    process: several ``serve`` processes each allow ``limit``.
    """

    def __init__(self, app: ASGIApp, limit: int, paths: frozenset[str], who: Callable[[Scope], str | None]):
        self.app = app
        self.limit = limit
        self.paths = paths
        self.who = who
        self.running: dict[str, int] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or scope["path"] not in self.paths:
            await self.app(scope, receive, send)
            return
        user = await anyio.to_thread.run_sync(self.who, scope)
        if user is None:
            await self.app(scope, receive, send)
            return
        if self.running.get(user, 0) >= self.limit:
            await localized_refusal(scope, 429, "rate_limited", BUSY_USER, retry_after=1, limit=self.limit)(scope, receive, send)
            return
        self.running[user] = self.running.get(user, 0) + 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.running[user] -= 1
            if not self.running[user]:
                del self.running[user]
