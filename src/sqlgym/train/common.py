"""What GRPO and SFT runs share: load and prepare the model, the TrainingArguments, the before/after
evaluation, and saving everything into ``--output-dir``."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from sqlgym.train.config import TrainConfig


@dataclass
class Run:
    model: Any
    tokenizer: Any
    peft_config: Any  # None when the model is already wrapped (Unsloth, a trained adapter, or r=0)
    backend: str
    name: str  # the model as the user named it ("(given)" when passed in as an object)
    cuda: bool
    before: dict[str, Any] | None = None
    governor: Any = None  # sqlgym.train.threads.ThreadGovernor (CPU), None on CUDA
    steps: list[dict[str, Any]] = field(default_factory=list)  # per optimizer step: seconds, where they went
    validation: list[dict[str, Any]] = field(default_factory=list)  # --eval-every: {step, score, ...}
    best: dict[str, Any] = field(default_factory=dict)  # the best validation step: step, score, state
    stages: list[dict[str, Any]] = field(default_factory=list)  # results after a stage (the SFT warm-up)


def start(cfg: TrainConfig, model=None, tokenizer=None) -> Run:
    """Check the settings, load (unless given) and prepare the model, then score it: call before importing
    TRL (Unsloth patches it)."""
    cfg.validate()  # a bad setting fails here, before anything loads (the CLI has checked already)
    from sqlgym.integrations.trl import check_tool_template
    from sqlgym.models import has_cuda, load_model, resolve, with_lora

    cuda = has_cuda()
    name, backend = resolve(cfg.model, cfg.backend) if model is None else ("(given)", "peft")
    if model is None:
        model, tokenizer = load_model(name, backend, dtype=model_dtype(cfg.dtype, cuda), trainable=True)
    if cfg.mode == "tools" or cfg.chat_template:
        check_tool_template(tokenizer, cfg.chat_template)
    model, peft_config = with_lora(model, backend, cfg.lora_r, cfg.lora_alpha, seed=cfg.seed)
    governor = None
    if not cuda:
        from sqlgym.train.cpu import patch_trl_for_cpu
        from sqlgym.train.threads import ThreadGovernor

        patch_trl_for_cpu()
        governor = ThreadGovernor(cfg.threads)
        governor.start()
    run = Run(model, tokenizer, peft_config, backend, name, cuda, governor=governor)
    run.before = evaluate(cfg, model, tokenizer, f"{name} before")
    return run


def model_dtype(dtype: str, cuda: bool) -> str:
    """``auto`` on a CPU: bfloat16 only where the CPU computes it natively (AVX512-BF16 or AMX); elsewhere
    float32, since emulated bf16 matmuls are several times slower (``python benchmarks/bench_cpu_train.py``
    prints the ratio on this machine)."""
    if dtype != "auto" or cuda:
        return dtype
    return "bfloat16" if cpu_has_fast_bf16() else "float32"


def cpu_has_fast_bf16() -> bool:
    try:
        with open("/proc/cpuinfo") as f:
            flags = next((line for line in f if line.startswith("flags")), "").split()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


def training_args(cfg: TrainConfig, cuda: bool) -> dict[str, Any]:
    """TrainingArguments shared by GRPOConfig and SFTConfig."""
    short = 0 < cfg.max_steps < 50
    return dict(output_dir=cfg.output_dir, max_steps=cfg.max_steps if cfg.max_steps > 0 else -1,
                learning_rate=cfg.learning_rate, per_device_train_batch_size=cfg.batch_size,
                gradient_accumulation_steps=cfg.grad_accum, logging_steps=cfg.logging_steps, save_strategy="no",
                report_to="none", seed=cfg.seed, data_seed=cfg.seed, bf16=_bf16(cfg.dtype, cuda), fp16=False,
                use_cpu=not cuda, gradient_checkpointing=cuda, dataloader_num_workers=0,
                lr_scheduler_type="constant_with_warmup" if short else "cosine", warmup_steps=0 if short else 10)


def _bf16(dtype: str, cuda: bool) -> bool:
    """bf16 autocast: where the weights are bfloat16 (see :func:`model_dtype`) and on bf16 GPUs."""
    if dtype in ("float32", "bfloat16"):
        return dtype == "bfloat16"
    if not cuda:
        return cpu_has_fast_bf16()
    import torch

    return torch.cuda.is_bf16_supported()


def callbacks(cfg: TrainConfig, run: Run, trainer, validate: bool = True) -> None:
    """Add the step timer (and, with ``--eval-every``, the validator) to a trainer."""
    from sqlgym.train.callbacks import step_timer, validator

    trainer.add_callback(step_timer(trainer, run.governor or _NoGovernor(), run.steps))
    if validate and cfg.eval_every > 0:
        trainer.add_callback(validator(cfg, run.tokenizer, run.validation, run.best))


class _NoGovernor:
    """CUDA: torch's threads are left as they are; the timer logs their number."""

    def step(self) -> int:
        import torch

        return torch.get_num_threads()


def evaluate(cfg: TrainConfig, model, tokenizer, label: str) -> dict[str, Any] | None:
    """The LLM policy on ``cfg.eval_split`` (same scenarios and seeds as ``python -m sqlgym.eval``)."""
    if cfg.eval_episodes <= 0:
        return None
    from sqlgym.train.evaluate import evaluate_model

    t0 = time.perf_counter()
    res = evaluate_model(model, tokenizer, label, cfg.env, cfg.eval_split, cfg.eval_episodes, cfg.seed,
                         max_new_tokens=cfg.max_completion_length if cfg.mode == "plan" else 128, mode=cfg.mode)
    res["seconds"] = time.perf_counter() - t0
    return res


def finish(cfg: TrainConfig, run: Run, trainer, train_seconds: float, setup_seconds: float,
           extra: dict[str, Any]) -> dict[str, Any]:
    """Save adapter, tokenizer and model card; score the trained model; write logs, metrics.json and the plot."""
    from sqlgym.models import write_model_card
    from sqlgym.train.outputs import write_outputs

    assert cfg.output_dir is not None  # TrainConfig.__post_init__ fills in runs/<command>
    trainer.save_model(cfg.output_dir)
    run.tokenizer.save_pretrained(cfg.output_dir)
    write_model_card(cfg.output_dir, run.name, run.backend, cfg.mode, cfg.env)
    if run.best:  # <out>/best is a run directory too: hf:<out>/best and --model <out>/best load it
        import os

        write_model_card(os.path.join(cfg.output_dir, "best"), run.name, run.backend, cfg.mode, cfg.env)
    steps = trainer.state.global_step
    label = f"{run.name} + {'SFT + ' if run.stages else ''}{cfg.command.upper()}"
    if run.best and run.best["step"] != steps:  # score the step validation chose (saved in <out>/best)
        from sqlgym.train.callbacks import load_trainable_state

        load_trainable_state(trainer.model, run.best["state"])
        label += f" (best on {cfg.val_split}: step {run.best['step']} of {steps})"
    after = evaluate(cfg, trainer.model, run.tokenizer, label) if run.before is not None else None
    info = {"model": run.name, "backend": run.backend, "steps": steps, "train_seconds": train_seconds,
            "setup_seconds": setup_seconds, "steps_per_second": steps / train_seconds if train_seconds else None,
            "before": _brief(run.before), "stages": [_brief(r) for r in run.stages], "after": _brief(after),
            "step_seconds": run.steps, "validation": run.validation,
            "best": {k: v for k, v in run.best.items() if k != "state"} or None, **extra}
    metrics = write_outputs(cfg, trainer, info)
    metrics["results"] = [r for r in (run.before, *run.stages, after) if r is not None]
    metrics["trainer"] = trainer
    return metrics


def _brief(res: dict[str, Any] | None) -> dict[str, Any] | None:
    if res is None:
        return None
    return {"policy": res["policy"], "split": res["split"], "seconds": res.get("seconds"), "summary": res["summary"],
            "completions": [{"scenario": r["scenario"], "completion": r["completion"],
                             "performance": r["final"].get("performance")} for r in res["records"]]}
