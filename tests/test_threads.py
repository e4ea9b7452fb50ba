"""Torch's CPU threads follow the cores other processes leave free (sqlgym.train.threads)."""

import subprocess
import sys
import time

import pytest

from sqlgym.train.threads import FreeCores, ThreadGovernor

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/stat")


def test_own_cpu_time_is_not_counted_as_others(monkeypatch):
    import sqlgym.train.threads as th

    clock = {"t": 0.0, "busy": 0.0, "own": 0.0}
    monkeypatch.setattr(th, "_cores", lambda: 2)
    monkeypatch.setattr(th, "_busy_seconds", lambda: clock["busy"])
    monkeypatch.setattr(th.time, "monotonic", lambda: clock["t"])
    monkeypatch.setattr(th.time, "process_time", lambda: clock["own"])
    meter = th.FreeCores()
    clock.update(t=1.0, busy=1.0, own=1.0)  # one core busy, all of it this process: both cores are free to use
    assert meter.others() == 0.0
    clock.update(t=2.0, busy=3.0, own=2.0)  # two cores busy, one of them another process
    assert meter.others() == 1.0
    clock.update(t=3.0, busy=5.0, own=2.0)  # both cores held by others: still one thread
    assert meter.free() == 1


def test_a_spinning_process_is_seen():
    meter = FreeCores()
    spin = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        time.sleep(0.3)
        meter.others()
        time.sleep(0.6)
        busy = meter.others()
    finally:
        spin.kill()
    assert busy >= 0.6  # one spinning process holds most of a core
    assert 1 <= meter.free() <= meter.cores


def test_governor_sets_torch_threads():
    torch = pytest.importorskip("torch")
    before = torch.get_num_threads()
    try:
        gov = ThreadGovernor(threads=1)
        assert gov.start() == 1 and torch.get_num_threads() == 1 and gov.step() == 1 and gov.history == [1, 1]
        auto = ThreadGovernor()
        assert 1 <= auto.start() <= auto.meter.cores
    finally:
        torch.set_num_threads(before)
