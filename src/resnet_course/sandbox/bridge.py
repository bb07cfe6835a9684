"""Relay a kernel's five ZMQ channels between its client and the sandbox.

The client (nbgrader, JupyterLab) connects where its connection file says,
over TCP or IPC. The sandboxed kernel has no network at all, so it binds IPC
sockets in a private folder that is the only thing shared with the host.
The bridge, outside the sandbox, binds the client's addresses and forwards
every message in both directions. Being outside, it also enforces what the
student's process could undo from inside:

* output cap: every iopub message counts against ``output_bytes``
  (streams, displays and their updates, results, errors, comms,
  ``clear_output``, even status). Once it is spent, further messages are
  dropped and one notice per cell and stream is sent instead, except what
  the protocol needs: small ``status`` messages, and the first error of each
  cell, cut to its name and value (a cell that errors must still earn
  nothing). An error over ``MAX_ERROR_BYTES`` is cut likewise at any time;
* evidence: display outputs carrying evidence for the grader
  (``resnet_course.evidence``) decide grades, so they are counted in a
  budget of their own (``EVIDENCE_BYTES``) and pass after the output cap;
  past that budget they count as any output;
* reply cap: a shell, control or stdin message from the kernel larger than
  ``MAX_REPLY_BYTES`` is dropped (real replies are small);
* message cap: a single frame larger than ``MAX_FRAME_BYTES`` is refused by
  ZMQ itself and at most ``QUEUED_MESSAGES`` wait per socket, so the
  relay's memory stays bounded whatever the kernel sends.
"""

from __future__ import annotations

import json
import logging
from typing import Callable

import zmq
from jupyter_client.session import Session

log = logging.getLogger(__name__)

DELIMITER = b"<IDS|MSG>"
MAX_FRAME_BYTES = 32 * 1024 * 1024
QUEUED_MESSAGES = 64
MAX_ERROR_BYTES = 256 * 1024
MAX_REPLY_BYTES = 1024 * 1024
MAX_STATUS_BYTES = 4096
MAX_NOTICES = 1000
#: All evidence one kernel may send (a ResNet50 configuration is about 60 KiB compressed).
EVIDENCE_BYTES = 32 * 1024 * 1024
EVIDENCE_MIME = b"application/vnd.resnet-course.evidence+json"
# Routing id of the bridge's shell and stdin sockets: the kernel answers
# stdin requests to the shell's sender, so both must carry the same id.
BRIDGE_ID = b"resnet-sandbox-bridge"
ROUTED_CHANNELS = ("shell", "control", "stdin", "hb")
CHANNELS = ROUTED_CHANNELS + ("iopub",)


def client_address(info: dict, channel: str) -> str:
    """The ZMQ address of ``channel`` as a connection file describes it."""
    port = info[f"{channel}_port"]
    if info.get("transport", "tcp") == "ipc":
        return f"ipc://{info['ip']}-{port}"
    return f"tcp://{info['ip']}:{port}"


class KernelBridge:
    """Forwards messages between client-side and kernel-side sockets.

    Args:
        client_info: The client's connection file contents (addresses, key).
        kernel_address: Maps a channel name to the kernel's ZMQ address.
        output_bytes: Output the kernel may send before the rest is dropped.
    """

    def __init__(self, client_info: dict, kernel_address: Callable[[str], str], output_bytes: int):
        self.context = zmq.Context()
        self.session = Session(
            key=client_info.get("key", "").encode(),
            signature_scheme=client_info.get("signature_scheme", "hmac-sha256"),
        )
        self.output_budget = output_bytes
        self.output_sent = 0
        self.evidence_sent = 0
        self.dropped_messages = 0
        self._noticed: set[tuple[str, str]] = set()
        # The client's execute requests (msg_id -> whether an error of it was passed after the cap):
        # after the cap only their first error passes, so a kernel cannot fill memory with forged parents.
        self._requests: dict[str, bool] = {}
        self.pairs: dict[str, tuple[zmq.Socket, zmq.Socket]] = {}
        self.interrupt_requested = False
        for channel in ROUTED_CHANNELS:
            front = self._socket(zmq.ROUTER)
            front.bind(client_address(client_info, channel))
            back = self._socket(zmq.DEALER)
            if channel in ("shell", "stdin"):
                back.setsockopt(zmq.ROUTING_ID, BRIDGE_ID)
            back.setsockopt(zmq.MAXMSGSIZE, MAX_FRAME_BYTES)
            back.connect(kernel_address(channel))
            self.pairs[channel] = (front, back)
        front = self._socket(zmq.XPUB)
        front.bind(client_address(client_info, "iopub"))
        back = self._socket(zmq.XSUB)
        back.setsockopt(zmq.MAXMSGSIZE, MAX_FRAME_BYTES)
        back.connect(kernel_address("iopub"))
        self.pairs["iopub"] = (front, back)
        self.poller = zmq.Poller()
        for front, back in self.pairs.values():
            self.poller.register(front, zmq.POLLIN)
            self.poller.register(back, zmq.POLLIN)

    def _socket(self, kind: int) -> zmq.Socket:
        sock = self.context.socket(kind)
        sock.setsockopt(zmq.LINGER, 0)
        sock.setsockopt(zmq.RCVHWM, QUEUED_MESSAGES)
        sock.setsockopt(zmq.SNDHWM, QUEUED_MESSAGES)
        return sock

    def pump(self, timeout_ms: int = 100, extra_fds: list[int] | None = None) -> list[int]:
        """Forward whatever is waiting, waiting at most ``timeout_ms``.

        Args:
            timeout_ms: How long to wait for a first message.
            extra_fds: File descriptors to watch as well (e.g. the kernel's stderr pipe).

        Returns:
            Those of ``extra_fds`` that are readable.
        """
        for fd in extra_fds or []:
            self.poller.register(fd, zmq.POLLIN)
        try:
            ready = dict(self.poller.poll(timeout_ms))
        finally:
            for fd in extra_fds or []:
                self.poller.unregister(fd)
        for channel, (front, back) in self.pairs.items():
            if front in ready:
                self._drain(front, back, channel, to_kernel=True)
            if back in ready:
                self._drain(back, front, channel, to_kernel=False)
        if self.interrupt_requested:
            self.interrupt_requested = False
            self.send_interrupt()
        return [fd for fd in extra_fds or [] if fd in ready]

    def _drain(self, source: zmq.Socket, target: zmq.Socket, channel: str, to_kernel: bool) -> None:
        for _ in range(1000):  # bounded, so that one busy channel cannot starve the others
            try:
                frames = source.recv_multipart(zmq.NOBLOCK)
            except zmq.Again:
                return
            if channel == "shell" and to_kernel:
                self._remember_request(frames)
            if channel == "iopub" and not to_kernel:
                frames = self._filter_output(frames)
                if frames is None:
                    continue
            elif not to_kernel and sum(len(f) for f in frames) > MAX_REPLY_BYTES:
                self.dropped_messages += 1
                continue
            try:
                target.send_multipart(frames, zmq.NOBLOCK)
            except zmq.Again:
                log.debug("dropped a %s message: peer not ready", channel)

    def _filter_output(self, frames: list[bytes]) -> list[bytes] | None:
        """Apply the output cap to one iopub message; None drops it."""
        try:
            index = frames.index(DELIMITER)
            header = json.loads(frames[index + 2])
            msg_type = header.get("msg_type", "")
        except (ValueError, IndexError):
            return frames if len(frames) < 2 and sum(map(len, frames)) < 1024 else None  # subscriptions
        size = sum(len(f) for f in frames)
        if msg_type == "display_data" and EVIDENCE_MIME in frames[index + 5][:4096]:
            self.evidence_sent += size
            if self.evidence_sent <= EVIDENCE_BYTES:
                return frames
        self.output_sent += size
        within = self.output_sent <= self.output_budget
        if msg_type == "status" and size <= MAX_STATUS_BYTES:
            return frames
        if msg_type == "error":
            parent = self._unpack(frames[index + 3])
            if within and size <= MAX_ERROR_BYTES:
                return frames
            if self._requests.get(parent.get("msg_id", "")) is False:
                self._requests[parent["msg_id"]] = True
                return self._truncated_error(frames, index, keep_traceback=within)
        elif within:
            return frames
        self.dropped_messages += 1
        parent = self._unpack(frames[index + 3])
        stream = "stderr" if msg_type == "stream" and b'"stderr"' in frames[index + 5][:64] else "stdout"
        key = (parent.get("msg_id", ""), stream)
        if key not in self._noticed and len(self._noticed) < MAX_NOTICES:
            self._noticed.add(key)
            notice = (
                f"\n[output truncated by the grading sandbox: the notebook printed more than "
                f"{self.output_budget // 1024} KiB]\n"
            )
            self.session.send(
                self.pairs["iopub"][0], "stream", {"name": stream, "text": notice}, parent=parent, ident=[b"stream"]
            )
        return None

    def _remember_request(self, frames: list[bytes]) -> None:
        try:
            header = json.loads(frames[frames.index(DELIMITER) + 2])
        except (ValueError, IndexError):
            return
        if isinstance(header, dict) and header.get("msg_type") == "execute_request":
            self._requests.setdefault(str(header.get("msg_id", "")), False)

    def _truncated_error(self, frames: list[bytes], index: int, keep_traceback: bool) -> list[bytes] | None:
        """Send the error cut to its name, value and (while within the cap) a short traceback."""
        parent = self._unpack(frames[index + 3])
        content = self._unpack(frames[index + 5])
        traceback = [str(line)[:2000] for line in content.get("traceback", [])[:50]] if keep_traceback else []
        content = {
            "ename": str(content.get("ename", "Error"))[:200],
            "evalue": str(content.get("evalue", ""))[:2000] + " [truncated by the grading sandbox]",
            "traceback": traceback,
        }
        self.session.send(self.pairs["iopub"][0], "error", content, parent=parent, ident=[b"error"])
        return None

    def _unpack(self, frame: bytes) -> dict:
        try:
            value = json.loads(frame)
        except ValueError:
            return {}
        return value if isinstance(value, dict) else {}

    def send_interrupt(self) -> None:
        """Ask the kernel to interrupt itself (over its control channel)."""
        self.session.send(self.pairs["control"][1], "interrupt_request", {})

    def close(self) -> None:
        """Close every socket."""
        for front, back in self.pairs.values():
            front.close(0)
            back.close(0)
        self.context.term()
