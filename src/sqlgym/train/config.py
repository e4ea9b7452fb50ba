"""Training settings: one dataclass, defaults per machine (CPU: the embedded model in minutes; CUDA: the
seed's GRPO recipe on Qwen2.5-7B), overridden by ``--config file.yaml`` and then by flags."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field, fields
from typing import Any

from sqlgym.errors import ConfigError


@dataclass
class TrainConfig:
    command: str = "grpo"  # grpo | sft
    env: str = "SQLIndex-v0"
    model: str | None = None  # None: embedded without a GPU, Qwen/Qwen2.5-7B-Instruct with one
    backend: str = "auto"  # auto | peft | unsloth
    mode: str = "plan"  # plan | tools
    chat_template: str | None = None  # "qwen2_5": swap in TRL's tool-calling template (tools mode)
    split: str = "train"
    scenarios: int = 16  # training scenarios: the first N of the split
    max_steps: int = 5
    learning_rate: float = 1e-4
    batch_size: int = 4  # completions per optimizer micro-step (per_device_train_batch_size)
    grad_accum: int = 1
    num_generations: int = 4
    max_completion_length: int = 160
    temperature: float = 1.0
    beta: float = 0.0  # KL to the starting model (0: no reference model)
    lora_r: int = 16  # 0: train every weight (tiny models only)
    lora_alpha: int = 16
    dtype: str = "auto"  # auto: bfloat16 on a CPU or a bf16 GPU, else float32
    max_tool_calls: int = 8  # tools mode: tool-calling rounds per episode
    epochs: float = 1.0  # sft: passes over the expert data when max_steps is 0
    eval_split: str = "test"
    eval_episodes: int = 8  # 0: skip the before/after evaluation
    seed: int = 0
    output_dir: str | None = None  # default runs/<command>
    logging_steps: int = 1
    extra: dict[str, Any] = field(default_factory=dict)  # passed on to GRPOConfig / SFTConfig as is


# What changes on a CUDA machine (the index-tuning seed's GRPO settings).
CUDA_DEFAULTS = {"max_steps": 200, "batch_size": 4, "grad_accum": 2, "learning_rate": 2e-5, "num_generations": 4,
                 "max_completion_length": 512, "scenarios": 500, "eval_episodes": 50}
SFT_DEFAULTS = {"max_steps": 0, "learning_rate": 2e-4, "batch_size": 4, "scenarios": 64}
SFT_CUDA_DEFAULTS = {"learning_rate": 2e-4, "batch_size": 4, "scenarios": 500, "eval_episodes": 50}


def defaults(command: str, cuda: bool) -> dict[str, Any]:
    d = {f.name: (f.default_factory() if f.default_factory is not dataclasses.MISSING else f.default)
         for f in fields(TrainConfig)}
    d["command"] = command
    if cuda:
        d.update(CUDA_DEFAULTS)
    if command == "sft":
        d.update(SFT_DEFAULTS)
        if cuda:
            d.update(SFT_CUDA_DEFAULTS)
    return d


def load_yaml(path: str) -> dict[str, Any]:
    import yaml

    try:
        with open(path) as f:
            data = yaml.safe_load(f) or {}
    except (OSError, yaml.YAMLError) as e:
        raise ConfigError(f"cannot read config file {path!r}: {e}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping of settings, got {type(data).__name__}")
    return {k.replace("-", "_"): v for k, v in data.items()}


def make_config(command: str, cuda: bool, file_values: dict[str, Any], flag_values: dict[str, Any]) -> TrainConfig:
    """Defaults for this machine < the YAML file < flags given on the command line."""
    known = {f.name for f in fields(TrainConfig)}
    unknown = sorted(set(file_values) - known)
    if unknown:
        from sqlgym.errors import unknown_name

        raise unknown_name("setting", unknown[0], sorted(known))
    values = defaults(command, cuda)
    values.update(file_values)
    values.update({k: v for k, v in flag_values.items() if v is not None and k in known})
    values["command"] = command
    cfg = TrainConfig(**values)
    if cfg.output_dir is None:
        cfg.output_dir = f"runs/{command}"
    _check(cfg)
    return cfg


def _check(cfg: TrainConfig) -> None:
    if cfg.mode not in ("plan", "tools"):
        raise ConfigError(f"--mode is plan or tools, not {cfg.mode!r}")
    if cfg.num_generations < 2:
        raise ConfigError("--num-generations must be at least 2 (GRPO compares completions of the same prompt)")
    if cfg.command == "grpo" and (cfg.batch_size * cfg.grad_accum) % cfg.num_generations:
        raise ConfigError(f"--batch-size x --grad-accum ({cfg.batch_size * cfg.grad_accum}) must be a multiple of "
                          f"--num-generations ({cfg.num_generations})")
    if cfg.scenarios < 1:
        raise ConfigError("--scenarios must be at least 1")
