"""SFT warm-up on expert trajectories: the env's own expert (the greedy what-if advisor for SQLIndex-v0)
plays each training scenario, and its actions become the targets, in exactly the format GRPO uses:
``plan`` mode, the whole plan as one JSON list; ``tools`` mode, one tool call per turn. GRPO then
continues from the adapter: ``python -m sqlgym.train grpo --model runs/sft``."""

from __future__ import annotations

import os
import time
from typing import Any

from sqlgym.train.config import TrainConfig, trainer_args


def expert_rows(env_id: str, split: str, n: int, seed: int = 0) -> list[dict[str, Any]]:
    """Prompt-completion rows: the plan-mode prompt and the expert's plan as the assistant's answer."""
    from sqlgym.integrations import get_adapter, render_plan
    from sqlgym.integrations.trl import prompt_rows

    adapter = get_adapter(env_id)
    rows = []
    for row in prompt_rows(env_id, split, n, "plan", seed):
        plan = render_plan(adapter.expert_actions(row["scenario"], row["seed"]))
        rows.append({**row, "completion": [{"role": "assistant", "content": plan}]})
    return rows


def tool_expert_rows(env_id: str, split: str, n: int, tokenizer, seed: int = 0) -> list[dict[str, Any]]:
    """Text prompt-completion rows for tools mode: one row per expert tool call, the prompt being the
    conversation so far rendered exactly as GRPOTrainer renders it (system prompt with the tool schemas,
    earlier calls and tool responses), the completion the next ``<tool_call>`` block. The expert looks
    at the workload first (``list_queries``), then plays its plan."""
    from sqlgym.integrations import get_adapter
    from sqlgym.integrations.base import tool_names
    from sqlgym.integrations.prompts import messages
    from sqlgym.integrations.trl import environment_factory

    adapter = get_adapter(env_id)
    rows = []
    for i, sid in enumerate(adapter.scenarios(split, n)):
        tools_class = environment_factory(env_id)  # adapter.tool_class; a ConfigError when there is none
        tools_env = tools_class()
        tools = [getattr(tools_env, name) for name in tool_names(tools_class)]
        obs = tools_env.reset(scenario=sid, seed=seed + i)
        convo: list[dict[str, Any]] = messages(adapter.system_prompt("tools"), obs)
        for act in [{"action_type": "list_queries", "payload": {}}] + adapter.expert_actions(sid, seed + i):
            call = {"type": "function", "function": {"name": act["action_type"], "arguments": act.get("payload", {})}}
            prompt = tokenizer.apply_chat_template(convo, tools=tools, add_generation_prompt=True, tokenize=False)
            full = tokenizer.apply_chat_template(convo + [{"role": "assistant", "content": "", "tool_calls": [call]}],
                                                 tools=tools, tokenize=False)
            completion = full[len(prompt):].rstrip()
            if completion.endswith(tokenizer.eos_token):  # the trainer appends EOS itself
                completion = completion[: -len(tokenizer.eos_token)]
            rows.append({"prompt": prompt, "completion": completion, "scenario": sid})
            result = getattr(tools_env, act["action_type"])(**act.get("payload", {}))
            convo = convo + [{"role": "assistant", "content": "", "tool_calls": [call]},
                             {"role": "tool", "name": act["action_type"], "content": result}]
    return rows


def sft_trainer(cfg: TrainConfig, run, **overrides: Any):
    """An SFTTrainer on the expert's trajectories of ``cfg``'s scenarios, for ``run``'s model.
    ``overrides`` replace TrainingArguments (the GRPO warm-up sets its own max_steps and learning rate)."""
    from datasets import Dataset
    from trl import SFTConfig, SFTTrainer

    from sqlgym.train.common import training_args

    if cfg.mode == "plan":
        rows = expert_rows(cfg.env, cfg.split, cfg.scenarios, cfg.seed)
    else:
        rows = tool_expert_rows(cfg.env, cfg.split, cfg.scenarios, run.tokenizer, cfg.seed)
    dataset = Dataset.from_list([{"prompt": r["prompt"], "completion": r["completion"]} for r in rows])
    kwargs = {**training_args(cfg, run.cuda), **overrides}
    args = SFTConfig(**kwargs, num_train_epochs=cfg.epochs, max_length=8192, packing=False,
                     completion_only_loss=True, **(trainer_args(cfg) if cfg.command == "sft" else {}))
    trainer = SFTTrainer(model=run.model, args=args, train_dataset=dataset, processing_class=run.tokenizer,
                         peft_config=run.peft_config)
    return trainer, len(rows)


def train_sft(cfg: TrainConfig, model=None, tokenizer=None) -> dict[str, Any]:
    """Train, save the adapter and outputs into ``cfg.output_dir``, and return ``metrics.json``'s content
    (plus ``results`` and ``trainer``, as :func:`sqlgym.train.grpo.train_grpo`)."""
    os.environ.setdefault("TRL_EXPERIMENTAL_SILENCE", "1")
    from sqlgym.train.common import callbacks, finish, start

    run = start(cfg, model, tokenizer)
    t0 = time.perf_counter()
    trainer, examples = sft_trainer(cfg, run)
    callbacks(cfg, run, trainer)
    setup_s = time.perf_counter() - t0
    t1 = time.perf_counter()
    trainer.train()
    return finish(cfg, run, trainer, time.perf_counter() - t1, setup_s, {"examples": examples})
