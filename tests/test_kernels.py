"""The grading kernels (`course.grader.kernel`, `course.grader.kernels`): one kernel server per worker, a fresh
kernel process per submission, and nothing of one submission's kernel reaching the next one's.

Two kernels run one after the other on the same server. The first leaves everything it can behind: files in
/tmp, /dev/shm and its working folder, an IPC object, a process that keeps running, a changed module. The
second looks for each of them; it must find none, and must not see the first's scratch folder or the server.
"""
from __future__ import annotations

import nbformat
import pytest
from conftest import require

from course.grader import cohort, kernels
from course.grader.sandbox import Limits, Sandbox

LEAVE = """
import os, subprocess, numpy
open('/tmp/left.txt', 'w').write('secret')
open('/dev/shm/left.txt', 'w').write('secret')
open('left-in-work.txt', 'w').write('secret')
os.makedirs('.secml/left', exist_ok=True)
subprocess.Popen(['sleep', '300'], start_new_session=True)
numpy.LEFT_BEHIND = 'secret'
import multiprocessing.shared_memory as shm
block = shm.SharedMemory(name='left_block', create=True, size=64)
print('left', os.getpid())
"""

LOOK = """
import os, glob, subprocess, numpy
found = [p for p in ('/tmp/left.txt', '/dev/shm/left.txt', 'left-in-work.txt', '.secml/left') if os.path.exists(p)]
sleepers = []
for p in filter(str.isdigit, os.listdir('/proc')):
    try:
        sleepers.append(open(f'/proc/{p}/cmdline', 'rb').read().replace(b'\\0', b' ').decode())
    except OSError:
        pass
sleepers = ' | '.join(sleepers)
if 'sleep 300' in sleepers:
    found.append('the sleeping process')
if hasattr(numpy, 'LEFT_BEHIND'):
    found.append('the module attribute')
try:
    import multiprocessing.shared_memory as shm
    shm.SharedMemory(name='left_block')
    found.append('the shared memory block')
except FileNotFoundError:
    pass
print('FOUND', found)
print('PID', os.getpid())
import course.checks
keys = os.path.join(os.path.dirname(course.checks.__file__), 'keys')
print('KEYS', sorted(os.listdir(keys)) if os.path.isdir(keys) else 'absent')
print('SCRATCHES', sorted(glob.glob(os.path.join(os.path.dirname(os.getcwd()), 's-*'))))
"""


def _run(server, sandbox, source):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source)])
    scratch = server.new_scratch()
    nbformat.write(nb, scratch / "submission.ipynb")
    session = cohort.SandboxSession(sandbox, server, scratch, "submission.ipynb", 1)
    executed = session.executed()
    assert session.close(), "the kernel and everything it started stopped before the next submission"
    return executed["cells"][0], scratch


def _text(cell):
    return "".join(o.get("text", "") for o in cell["outputs"] if o.get("output_type") == "stream")


@pytest.fixture
def server():
    require("bwrap")
    sandbox = Sandbox(Limits(cell_seconds=20, wall_seconds=60))
    if sandbox.probe():
        pytest.skip(sandbox.probe())
    s = kernels.KernelServer(sandbox, ("numpy",))
    yield s, sandbox
    s.close()


def test_nothing_of_one_kernel_reaches_the_next(server):
    s, sandbox = server
    assert s.isolation == "namespaces", f"this machine's kernels are forked without namespaces: {s.why}"
    first, first_scratch = _run(s, sandbox, LEAVE)
    assert first["status"] == "ok", first
    assert (first_scratch / "left-in-work.txt").exists(), "the first kernel wrote in its own scratch folder"
    second, second_scratch = _run(s, sandbox, LOOK)
    out = _text(second)
    assert second["status"] == "ok", second
    assert "FOUND []" in out, f"the second kernel found what the first left behind: {out}"
    assert "PID 1" in out, f"each kernel is PID 1 of its own namespace, so what it starts dies with it: {out}"
    assert "SCRATCHES []" in out, f"the other submissions' folders are hidden: {out}"
    assert "KEYS []" in out or "KEYS absent" in out, f"the answer keys are not in the kernel's view: {out}"
    assert not (second_scratch / "left-in-work.txt").exists()


def test_a_dead_kernel_and_a_runaway_cell_are_reported_and_the_server_goes_on(server):
    s, sandbox = server
    dead, _ = _run(s, sandbox, "import os\nos._exit(3)")
    assert dead["status"] == "dead"
    sandbox.limits.cell_seconds = 2
    caught = "import time\nwhile True:\n    try:\n        time.sleep(10)\n    except KeyboardInterrupt:\n        pass"
    runaway, _ = _run(s, sandbox, caught)  # swallows the interrupt: stopped after the grace period
    assert runaway["status"] == "timeout"
    fine, _ = _run(s, sandbox, "print(6 * 7)")
    assert fine["status"] == "ok" and "42" in _text(fine)


def test_without_nested_namespaces_each_submission_gets_its_own_sandbox(monkeypatch):
    """Where a forked kernel cannot enter namespaces of its own, servers are not reused (one sandbox each)."""
    require("bwrap")
    sandbox = Sandbox(Limits(cell_seconds=20, wall_seconds=60))
    monkeypatch.setattr(kernels, "NAMESPACES", False)
    s = kernels.KernelServer(sandbox, ())
    try:
        assert s.isolation == "fork" and not s.reusable
        cell, scratch = _run(s, sandbox, "import os\nprint('ran', os.path.exists(os.environ['COURSE_RPC_DIR']), os.getcwd())")
        assert cell["status"] == "ok" and f"ran True {scratch}" in _text(cell), _text(cell)
    finally:
        s.close()


def test_servers_started_ahead_outlive_the_thread_that_started_them_and_are_reused():
    """`course grade` starts its kernel servers while it compares the copies (`Pool.warm`). bubblewrap's
    --die-with-parent stops a sandbox when the *thread* that started it ends: a server warmed from a passing
    thread was dead by the time a worker asked for it, and every worker started its own, 2 s each."""
    require("bwrap")
    sandbox = Sandbox(Limits(cell_seconds=20, wall_seconds=60))
    if sandbox.probe():
        pytest.skip(sandbox.probe())
    pool = kernels.Pool()
    try:
        pool.warm(sandbox, ("numpy",), 1)
        import threading
        import time

        threading.Thread(target=time.sleep, args=(0.1,)).start()  # threads come and go meanwhile
        s = pool.acquire(sandbox, ("numpy",))  # waits for the warmed one
        assert pool.all == [s], f"expected the warmed server to be handed out, not a second one: {pool.all}"
        time.sleep(1.0)
        assert s.run.proc.poll() is None, "the warmed server died (its starting thread ended?)"
        cell, _ = _run(s, sandbox, "print(6 * 7)")
        assert cell["status"] == "ok" and "42" in _text(cell), cell
    finally:
        pool.close()
