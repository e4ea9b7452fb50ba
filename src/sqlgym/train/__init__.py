"""Training language models on sqlgym environments with TRL: ``python -m sqlgym.train {grpo,sft}``.

Modules: ``config`` (settings and per-machine defaults), ``models`` (embedded / local / hub models,
PEFT or Unsloth, a tiny model for tests), ``grpo`` and ``sft`` (the trainers), ``evaluate`` (the
before/after table), ``outputs`` (logs, metrics.json, plot), ``cpu`` (TRL without Triton).
Importing this package imports neither torch nor TRL.
"""
