"""Every lesson and solution notebook executes top to bottom, offline, without errors or stderr."""
from __future__ import annotations

import pytest
from conftest import lesson_paths, solution_paths

from course.delivery import bench


def _stderr_or_errors(nb):
    bad = []
    for i, c in enumerate(nb.cells):
        for out in c.get("outputs", []):
            if out.get("output_type") == "error" or (out.get("output_type") == "stream" and out.get("name") == "stderr"):
                bad.append((i, out.get("ename") or out.get("text", "")[:300]))
    return bad


# The default cell timeout of `course bench`, far above any cell's run time (the longest takes under a minute). Before
# bench.execute waited for a cell's reply in steps (bench.in_steps), a lesson with a widget sat idle until this timeout
# now and then (jupyter/nbclient#312) and the tests had doubled it; see test_the_wait_for_a_reply_is_made_of_short_waits.
CELL_TIMEOUT = 600


@pytest.mark.parametrize("path", lesson_paths() + solution_paths(), ids=lambda p: p.name)
def test_notebook_executes_offline_without_stderr(path):
    nb, seconds = bench.execute(path, timeout=CELL_TIMEOUT)
    assert not _stderr_or_errors(nb), f"{path.name}: errors or stderr output {_stderr_or_errors(nb)}"
    print(f"{path.name}: {seconds:.1f} s")


def test_the_wait_for_a_reply_is_made_of_short_waits():
    """A reply that pyzmq's poll did not announce is seen at the next step, not at the cell's timeout."""
    import asyncio
    import time
    from queue import Empty

    asked = []

    async def get_msg(timeout=None):  # the reply is there from the start, but only a wait that ends sees it
        asked.append(timeout)
        if len(asked) < 3:
            await asyncio.sleep(timeout)
            raise Empty
        return {"msg_type": "execute_reply"}

    start = time.monotonic()
    msg = asyncio.run(bench.in_steps(get_msg, step=0.05)(timeout=600))
    assert msg == {"msg_type": "execute_reply"} and len(asked) == 3, asked
    assert all(t is not None and t <= 0.05 for t in asked), f"each wait at most one step, saw {asked}"
    assert time.monotonic() - start < 5, "the reply was taken at the third step, not after the 600 s timeout"

    async def never(timeout=None):
        await asyncio.sleep(timeout)
        raise Empty

    start = time.monotonic()
    with pytest.raises(Empty):  # no reply: the cell's own timeout still ends the wait
        asyncio.run(bench.in_steps(never, step=0.05)(timeout=0.2))
    assert 0.2 <= time.monotonic() - start < 2


def test_notebook_execution_uses_the_stepped_wait():
    """bench.execute's client really waits in steps (an nbclient upgrade that renamed the hook would undo it)."""
    import asyncio

    import nbformat

    async def stepped_in_execute():  # the path execute() takes
        client = bench._client(nbformat.v4.new_notebook(), kernel_name="python3")
        async with client.async_setup_kernel():
            return client.kc.shell_channel.get_msg.__name__

    assert asyncio.run(stepped_in_execute()) == "get_msg_in_steps"
    client = bench._client(nbformat.v4.new_notebook(), kernel_name="python3")
    with client.setup_kernel():  # and the blocking one
        assert client.kc.shell_channel.get_msg.__name__ == "get_msg_in_steps"
