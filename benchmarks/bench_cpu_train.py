"""What the CPU training defaults rest on, measured in one run (ratios, since this machine is shared):

1. torch threads when another process holds a core: a forward+backward of one MLP block (SmolLM2-135M's
   sizes) with all cores' threads on idle cores, with all cores' threads while a spinning process holds
   one core, and with the thread count ``sqlgym.train.threads`` chooses in that situation;
2. bfloat16 against float32 for the linear layers (``--dtype auto`` picks float32 on a CPU without
   AVX512-BF16 or AMX).

    python benchmarks/bench_cpu_train.py
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time

import torch

from sqlgym.train.common import cpu_has_fast_bf16
from sqlgym.train.threads import FreeCores

REPEATS = 8


def fwd_bwd_ms(threads: int) -> float:
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    mlp = torch.nn.Sequential(torch.nn.Linear(576, 1536), torch.nn.GELU(), torch.nn.Linear(1536, 576))
    x = torch.randn(1200, 576)
    times = []
    for _ in range(REPEATS):
        t = time.perf_counter()
        mlp(x).pow(2).mean().backward()
        times.append(time.perf_counter() - t)
    return 1000 * statistics.median(times)


def linear_ms(dtype: torch.dtype, rows: int) -> float:
    a, w = torch.randn(rows, 576, dtype=dtype), torch.randn(1536, 576, dtype=dtype)
    torch.nn.functional.linear(a, w)
    t = time.perf_counter()
    for _ in range(REPEATS):
        torch.nn.functional.linear(a, w)
    return 1000 * (time.perf_counter() - t) / REPEATS


def main() -> None:
    cores = len(os.sched_getaffinity(0))
    idle = fwd_bwd_ms(cores)
    spin = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        time.sleep(0.5)
        chosen = FreeCores().sample(0.5)
        busy_all = fwd_bwd_ms(cores)
        busy_chosen = fwd_bwd_ms(chosen)
    finally:
        spin.kill()
    print(f"forward+backward, {cores} cores: {cores} threads on idle cores {idle:.0f} ms; with one core held by "
          f"another process: {cores} threads {busy_all:.0f} ms ({busy_all / idle:.2f}x idle), the governor's "
          f"{chosen} thread(s) {busy_chosen:.0f} ms ({busy_all / busy_chosen:.2f}x faster than {cores})")
    torch.set_num_threads(1)
    for rows, what in ((1024, "prefill-like 1024 x 576 @ 576 x 1536"), (8, "decode-like 8 x 576 @ 576 x 1536")):
        f32, b16 = linear_ms(torch.float32, rows), linear_ms(torch.bfloat16, rows)
        print(f"{what}, one thread: float32 {f32:.2f} ms, bfloat16 {b16:.2f} ms (bf16 / f32 = {b16 / f32:.1f}x)")
    print(f"this CPU computes bf16 natively (AVX512-BF16 or AMX): {cpu_has_fast_bf16()}; --dtype auto picks "
          f"{'bfloat16' if cpu_has_fast_bf16() else 'float32'}")


if __name__ == "__main__":
    main()
