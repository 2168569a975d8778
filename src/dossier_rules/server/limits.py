"""Refuse request bodies above the service's limits with 413, before they are read whole.

The declared ``Content-Length`` is checked first; a body sent without one
(chunked) is counted as it arrives and cut off at the limit. The batch
endpoint has its own, larger limit.
"""

from __future__ import annotations

from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .errors import refusal


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
