"""Torch's CPU threads against the cores that are actually free.

Torch starts one intra-op thread per core and every parallel operation waits for its slowest thread.
When another process holds one of the cores, that thread runs only when the scheduler lets it, and
each operation waits for it (``python benchmarks/bench_cpu_train.py`` measures it: all cores' threads
against the governor's choice while a spinning process holds one core; a GRPO run once went from 86 s
for step 1 to 418 s for step 2 this way).
:class:`ThreadGovernor` measures, before each optimizer step, how many cores *other* processes used
since the last step (``/proc/stat`` busy time minus this process's own CPU time) and gives torch the
rest, at least one.
"""

from __future__ import annotations

import os
import time


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def _busy_seconds() -> float | None:
    """CPU seconds all cores have spent busy since boot (``/proc/stat``), or None where there is none."""
    try:
        with open("/proc/stat") as f:
            fields = [int(x) for x in f.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    steal = fields[7] if len(fields) > 7 else 0  # another VM's time: not a process here
    return (sum(fields[:8]) - idle - steal) / os.sysconf("SC_CLK_TCK")


class FreeCores:
    """Cores left free by other processes over the window since the last call."""

    def __init__(self) -> None:
        self.cores = _cores()
        self._last = (time.monotonic(), _busy_seconds(), time.process_time())

    def others(self) -> float | None:
        """Cores other processes kept busy since the last call (None where /proc/stat is missing)."""
        now = (time.monotonic(), _busy_seconds(), time.process_time())
        (t0, b0, p0), (t1, b1, p1) = self._last, now
        self._last = now
        if b0 is None or b1 is None or t1 - t0 < 0.05:
            return None
        return max(0.0, (b1 - b0) - (p1 - p0)) / (t1 - t0)

    def free(self) -> int:
        other = self.others()
        if other is None:
            return self.cores
        return max(1, min(self.cores, self.cores - round(other)))

    def sample(self, seconds: float = 0.3) -> int:
        """Free cores measured over ``seconds`` from now (for the first decision, before any step ran)."""
        self._last = (time.monotonic(), _busy_seconds(), time.process_time())
        time.sleep(seconds)
        return self.free()


class ThreadGovernor:
    """Sets ``torch.set_num_threads`` to the free cores before each step (``threads > 0``: that many, fixed).

    ``history`` keeps the thread count chosen per step; the training callback logs it beside the timings.
    """

    def __init__(self, threads: int = 0) -> None:
        self.fixed = threads
        self.meter = FreeCores()
        self.history: list[int] = []

    def start(self) -> int:
        return self._set(self.fixed or self.meter.sample())

    def step(self) -> int:
        return self._set(self.fixed or self.meter.free())

    def _set(self, n: int) -> int:
        import torch

        if torch.get_num_threads() != n:
            torch.set_num_threads(n)
        self.history.append(n)
        return n


__all__ = ["FreeCores", "ThreadGovernor"]
