"""The bubblewrap sandbox: what student code can reach, its limits, and the sandboxed Jupyter kernel."""

import json
import os
import socket
import sys
import textwrap
import threading

import pytest
from fixtures.sandboxed_kernels import running_sandboxed_kernel

from resnet_course.paths import REPO_ROOT
from resnet_course.sandbox.layout import check_not_forbidden
from resnet_course.sandbox.limits import MIB, SandboxLimits
from resnet_course.sandbox.run import check_tensorflow, run_command

pytestmark = pytest.mark.requires_tool("bwrap")

SMALL = SandboxLimits(
    memory_bytes=384 * MIB,
    cpu_seconds=30,
    max_processes=48,
    wall_seconds=30,
    output_bytes=64 * 1024,
    file_bytes=8 * MIB,
    scratch_bytes=32 * MIB,
)


@pytest.fixture
def loopback_server():
    """A TCP server on the host's loopback; yields its port and a list of accepted peers."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    accepted = []

    def serve():
        while True:
            try:
                connection, peer = server.accept()
            except OSError:
                return
            accepted.append(peer)
            connection.close()

    threading.Thread(target=serve, daemon=True).start()
    yield server.getsockname()[1], accepted
    server.close()


def run_python(code: str, limits: SandboxLimits = SMALL, workdir_copy=None):
    return run_command([sys.executable, "-c", textwrap.dedent(code)], limits=limits, workdir_copy=workdir_copy)


def test_student_code_finds_no_network_and_no_course_secrets(loopback_server, tmp_path):
    port, accepted = loopback_server
    (tmp_path / "mine.txt").write_text("my own file")
    secret_paths = [
        str(REPO_ROOT / "autograder" / "gradebook.db"),
        str(REPO_ROOT / "solutions"),
        str(REPO_ROOT / "autograder"),
        str(REPO_ROOT),
        os.path.expanduser("~"),
        "/etc/shadow",
    ]
    result = run_python(
        f"""
        import json, os, socket
        seen = {{}}
        for name, address in [("internet", ("1.1.1.1", 53)), ("host_loopback", ("127.0.0.1", {port}))]:
            try:
                socket.create_connection(address, timeout=2).close()
                seen[name] = "connected"
            except OSError as error:
                seen[name] = error.errno
        def probe(path):
            try:
                return sorted(os.listdir(path)) if os.path.isdir(path) else open(path, "rb").read(4).hex()
            except OSError as error:
                return error.errno
        for path in {secret_paths!r}:
            seen[path] = probe(path)
        seen["own_file"] = open("mine.txt").read()
        seen["uid"] = os.getuid()
        seen["pids"] = sorted(int(p) for p in os.listdir("/proc") if p.isdigit())
        try:
            open({str(REPO_ROOT / "data" / "written-by-student")!r}, "w")
            seen["data_writable"] = True
        except OSError:
            seen["data_writable"] = False
        import resnet_course
        seen["package"] = resnet_course.__name__
        print(json.dumps(seen))
    """,
        workdir_copy=tmp_path,
    )
    assert result.exit_status == 0, result.stderr
    seen = json.loads(result.stdout)
    assert seen["internet"] != "connected" and seen["host_loopback"] != "connected"
    assert accepted == []
    assert seen[str(REPO_ROOT / "autograder" / "gradebook.db")] == 2  # ENOENT: not there at all
    assert seen[str(REPO_ROOT / "solutions")] == 2
    assert seen[str(REPO_ROOT / "autograder")] == 2
    assert set(seen[str(REPO_ROOT)]) <= {"src", "data", ".venv"}, "only what grading needs is visible"
    assert seen["/etc/shadow"] == 2
    assert seen["own_file"] == "my own file"
    assert seen["package"] == "resnet_course" and seen["data_writable"] is False
    assert seen["pids"][0] == 1 and len(seen["pids"]) < 5, "a pid namespace of its own"
    if os.geteuid() == 0:
        assert seen["uid"] != 0
    assert not (REPO_ROOT / "data" / "written-by-student").exists()


def test_memory_processes_and_file_size_are_limited():
    result = run_python("""
        import os, time
        report = {}
        try:
            hoard = [bytearray(16 * 2**20) for _ in range(64)]
            report["memory"] = "allocated 1 GiB"
        except MemoryError:
            report["memory"] = "MemoryError"
        hoard = None
        children = 0
        try:
            for _ in range(500):
                if os.fork() == 0:
                    time.sleep(30)
                    os._exit(0)
                children += 1
            report["fork"] = "500 children"
        except OSError:
            report["fork"] = children
        try:
            with open("/tmp/big", "wb") as handle:
                handle.write(b"x" * (16 * 2**20))
            report["file"] = "wrote 16 MiB"
        except OSError as error:
            report["file"] = error.errno
        print(report)
    """)
    assert result.exit_status == 0, result.stderr
    report = eval(result.stdout)  # a dict literal printed by the sandbox
    assert report["memory"] == "MemoryError"
    assert isinstance(report["fork"], int) and report["fork"] < SMALL.max_processes
    assert report["file"] == 27  # EFBIG


def test_wall_clock_limit_kills_the_whole_sandbox():
    limits = SandboxLimits(**{**SMALL.__dict__, "wall_seconds": 2})
    result = run_python("import os, time\nos.fork()\ntime.sleep(60)\n", limits=limits)
    assert result.reason is not None and "wall-clock" in result.reason


def test_binding_a_folder_that_holds_secrets_is_refused():
    with pytest.raises(PermissionError, match="exposes"):
        check_not_forbidden(REPO_ROOT)
    with pytest.raises(PermissionError):
        check_not_forbidden(REPO_ROOT / "autograder" / "submitted")
    check_not_forbidden(REPO_ROOT / "src")


def test_tensorflow_imports_in_the_sandbox():
    result = check_tensorflow(SandboxLimits(memory_bytes=3 * 1024 * MIB, wall_seconds=300))
    assert result.exit_status == 0, result.stderr[-2000:]
    assert result.stdout.startswith("tensorflow ") and result.stdout.strip().endswith("4096.0")


@pytest.fixture
def sandboxed_kernel(tmp_path):
    """A running resnet-course-sandboxed kernel with a 64 KiB output cap, in a folder with a file and a link."""
    work = tmp_path / "work"
    work.mkdir()
    (work / "data.txt").write_text("course data")
    os.symlink(REPO_ROOT / "nbgrader_config.py", work / "link.py")
    with running_sandboxed_kernel(tmp_path, work, output_bytes=65536) as kernel:
        yield kernel


def execute(client, code, timeout=60):
    outputs = []
    reply = client.execute_interactive(code, timeout=timeout, output_hook=lambda m: outputs.append(m))
    text = "".join(m["content"].get("text", "") for m in outputs if m["msg_type"] == "stream")
    return reply["content"], text


def test_sandboxed_kernel_runs_in_its_folder_caps_output_and_interrupts(sandboxed_kernel):
    manager, client = sandboxed_kernel
    reply, text = execute(client, "import os\nprint(sorted(os.listdir('.')), open('data.txt').read())")
    assert reply["status"] == "ok"
    assert "['data.txt'] course data" in text, "the folder is copied in, without the link"
    reply, text = execute(client, "for _ in range(4000):\n    print('y' * 100)")
    assert "output truncated by the grading sandbox" in text
    assert len(text) < 200_000
    client.execute("while True:\n    pass")
    import time

    time.sleep(1)
    manager.interrupt_kernel()
    reply = client.get_shell_msg(timeout=30)
    assert reply["content"]["status"] == "error" and reply["content"]["ename"] == "KeyboardInterrupt"
