"""A Pagefind service client that keeps up with the records we send it.

``pagefind.service.PagefindService`` (pagefind 1.5.2) reads one response per 0.1 s poll
(``await asyncio.sleep(0.1)`` before each ``readuntil``), which caps a build at ten records a
second: 10,000 articles would take 17 minutes before Pagefind did any work. This subclass reads
responses as they arrive, keeps Pagefind's stderr apart from the protocol on stdout, and fails
every waiting request when the process dies instead of hanging. Everything else -- the wire
protocol, :class:`pagefind.index.PagefindIndex` and its methods -- is Pagefind's own.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
from typing import Any

from pagefind.index import IndexConfig, PagefindIndex
from pagefind.service import PagefindService, get_executable


class PagefindError(Exception):
    """Pagefind refused a request or stopped; the message is Pagefind's own, on one line."""

    def __init__(self, message: str, hint: str | None = None):
        super().__init__(message)
        self.hint = hint


INSTALL_HINT = "install it with: pip install 'pagefind[bin]'"


class FastPagefindService(PagefindService):
    _stderr_task: asyncio.Task | None = None
    _stderr: bytearray

    async def launch(self) -> "FastPagefindService":
        self._stderr = bytearray()
        self._backend = await asyncio.create_subprocess_exec(
            self._bin, "--service",
            cwd=os.getcwd(),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            limit=2**30,  # GetFiles answers with the whole bundle on one line
        )
        self._poll_task = self._loop.create_task(self._wait_for_responses())
        self._stderr_task = self._loop.create_task(self._collect_stderr())
        return self

    async def _collect_stderr(self) -> None:
        assert self._backend.stderr is not None
        while chunk := await self._backend.stderr.read(65536):
            if len(self._stderr) < 65536:
                self._stderr += chunk

    def stderr_text(self) -> str:
        return self._stderr.decode("utf-8", "replace").strip()

    async def _wait_for_responses(self) -> None:
        stdout = self._backend.stdout
        assert stdout is not None
        try:
            while True:
                raw = await stdout.readuntil(b",")
                resp = json.loads(base64.b64decode(raw[:-1]))
                if resp is None:
                    continue
                payload = resp.get("payload") or {}
                message_id = resp.get("message_id")
                if message_id is None and payload.get("original_message"):
                    try:
                        message_id = json.loads(payload["original_message"]).get("message_id")
                    except (ValueError, AttributeError):
                        message_id = None
                if message_id is None:
                    # An error Pagefind cannot attribute to a request: it concerns them all.
                    self._fail_all(PagefindError(_one_line(payload.get("message", "unknown error"))))
                    continue
                future = self._responses.pop(message_id, None)
                if future is None or future.done():
                    continue
                if payload.get("type") == "Error":
                    future.set_exception(PagefindError(_one_line(payload.get("message", ""))))
                else:
                    future.set_result(payload)
        except asyncio.CancelledError:
            raise
        except BaseException as exc:  # EOF, broken stream: the process is gone
            self._fail_all(PagefindError(await self._stopped_message(exc)))

    async def _stopped_message(self, exc: BaseException | None = None) -> str:
        """Why the process is gone, on one line, with what it printed on stderr."""
        try:
            await asyncio.wait_for(self._backend.wait(), timeout=2)
            if self._stderr_task is not None:
                await asyncio.wait_for(asyncio.shield(self._stderr_task), timeout=1)
        except (asyncio.TimeoutError, asyncio.CancelledError):
            pass
        detail = self.stderr_text()
        if not detail:
            detail = ("it ended without answering" if exc is None
                      or isinstance(exc, (asyncio.IncompleteReadError, BrokenPipeError,
                                          ConnectionResetError))
                      else f"{type(exc).__name__}: {exc}")
        code = self._backend.returncode
        return ("Pagefind stopped" + (f" (exit code {code})" if code is not None else "")
                + f": {_one_line(detail)}")

    def _fail_all(self, exc: Exception) -> None:
        for future in self._responses.values():
            if not future.done():
                future.set_exception(exc)
        self._responses.clear()

    async def send(self, payload: Any) -> Any:
        if self._backend.returncode is not None:
            raise PagefindError(await self._stopped_message())
        try:
            return await super().send(payload)
        except (BrokenPipeError, ConnectionResetError) as exc:
            self._responses.pop(self._message_id, None)
            raise PagefindError(await self._stopped_message(exc)) from None

    async def add_html_files(self, index_id: int, files: list[tuple[str, str]]) -> list[dict]:
        """Add many (url, html) files with one pipe write: the same AddFile requests
        :meth:`PagefindIndex.add_html_file` sends, without a write and a drain per file."""
        if self._backend.returncode is not None:
            raise PagefindError(await self._stopped_message())
        futures = []
        chunks = []
        for url, html in files:
            self._message_id += 1
            future = self._loop.create_future()
            self._responses[self._message_id] = future
            futures.append(future)
            request = {"message_id": self._message_id,
                       "payload": {"type": "AddFile", "index_id": index_id, "url": url,
                                   "file_contents": html, "file_path": None}}
            chunks.append(base64.b64encode(json.dumps(request).encode("utf-8")))
        assert self._backend.stdin is not None
        try:
            self._backend.stdin.write(b",".join(chunks) + b",")
            await self._backend.stdin.drain()
        except (BrokenPipeError, ConnectionResetError) as exc:
            error = PagefindError(await self._stopped_message(exc))
            self._fail_all(error)
            raise error from None
        results = await asyncio.gather(*futures)
        for result in results:
            if result.get("type") != "IndexedFile":
                raise PagefindError(f"unexpected answer from Pagefind: {result.get('type')}")
        return results

    async def close(self, kill: bool = False) -> None:
        """End the service: Pagefind exits when its stdin closes (``kill``: at once)."""
        try:
            if kill and self._backend.returncode is None:
                self._backend.kill()
            if self._backend.stdin is not None and not self._backend.stdin.is_closing():
                self._backend.stdin.close()
            try:
                await asyncio.wait_for(self._backend.wait(), timeout=10)
            except asyncio.TimeoutError:
                self._backend.kill()
                await self._backend.wait()
        finally:
            for task in (self._poll_task, self._stderr_task):
                if task is not None:
                    task.cancel()
            # Close the pipes now, while the loop runs: a wait cut short by a second cancel
            # would leave that to the garbage collector, after the loop has closed.
            transport = getattr(self._backend, "_transport", None)
            if transport is not None:
                transport.close()


def _one_line(text: str) -> str:
    lines = [ln.strip() for ln in str(text).splitlines() if ln.strip()]
    return " / ".join(lines[:3])[:500] if lines else "no message"


async def open_index(config: IndexConfig) -> PagefindIndex:
    """Start a Pagefind process and create one in-memory index in it."""
    binary = get_executable()
    if binary is None:
        raise PagefindError("the Pagefind binary is not installed", INSTALL_HINT)
    try:
        service = await FastPagefindService().launch()
    except OSError as exc:
        raise PagefindError(f"cannot start Pagefind ({binary}): {exc.strerror or exc}",
                            INSTALL_HINT) from None
    try:
        return await service.create_index(config)
    except BaseException:
        await service.close()
        raise


async def close_index(index: PagefindIndex, kill: bool = False) -> None:
    service = index._service
    if service is not None:
        await service.close(kill=kill)
