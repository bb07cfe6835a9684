"""How long a Jupyter server takes to answer while something else happens: ``GET /api/status``, back to back.

nbgrader's own Autograde button grades inside the instructor's server, which
then answers nothing until grading ends; the course's button must leave it
answering. :class:`StatusTimer` asks in a thread of its own (urllib, not the
page: Playwright's API belongs to the thread that made it) and keeps every
answer's time; a request that fails or times out counts with the time it took.
"""

from __future__ import annotations

import statistics
import threading
import time
import urllib.request

REQUEST_TIMEOUT_S = 120  # as in the measurement of nbgrader's button
PAUSE_S = 0.25


class StatusTimer(threading.Thread):
    """Times ``GET url`` (with ``headers``: a token or the user's cookies) until :meth:`stop`."""

    def __init__(self, url: str, headers: dict[str, str], timeout_s: float = REQUEST_TIMEOUT_S):
        super().__init__(daemon=True)
        self.url, self.headers, self.timeout_s = url, headers, timeout_s
        self.seconds: list[float] = []
        self.failures = 0
        self._stop_requested = threading.Event()

    def run(self) -> None:
        while not self._stop_requested.is_set():
            started = time.monotonic()
            try:
                request = urllib.request.Request(self.url, headers=self.headers)
                with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
                    response.read()
            except OSError:
                self.failures += 1
            self.seconds.append(time.monotonic() - started)
            self._stop_requested.wait(PAUSE_S)

    def stop(self) -> dict:
        """Stop asking; return a summary: answers, failures, median and slowest seconds, and every time."""
        self._stop_requested.set()
        self.join(self.timeout_s + 5)
        times = list(self.seconds)
        return {
            "url": self.url,
            "answers": len(times),
            "failures": self.failures,
            "median_s": round(statistics.median(times), 3) if times else None,
            "max_s": round(max(times), 3) if times else None,
            "seconds": [round(t, 3) for t in times],
        }


def cookie_header(context, url: str) -> dict[str, str]:
    """The ``Cookie`` header a browser context sends to ``url`` (its login to a user's server)."""
    cookies = context.cookies(url)
    return {"Cookie": "; ".join(f"{c['name']}={c['value']}" for c in cookies)}
