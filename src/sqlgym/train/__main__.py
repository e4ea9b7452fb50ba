"""``python -m sqlgym.train {grpo,sft}``: train a language model on an sqlgym environment with TRL.

    python -m sqlgym.train grpo                                   # CPU: embedded SmolLM2 + LoRA, a few minutes
    python -m sqlgym.train sft --output-dir runs/sft              # warm-up on the greedy advisor's plans
    python -m sqlgym.train grpo --model runs/sft --max-steps 40   # GRPO from the SFT adapter
    python -m sqlgym.train grpo --mode tools --chat-template qwen2_5
    python -m sqlgym.train grpo --config run.yaml --learning-rate 5e-5   # flags override the file

Every run scores the model on held-out scenarios before and after (``--eval-episodes``, 0 to skip),
prints the table, and leaves the adapter, ``log_history.json``, ``metrics.json`` and a PNG of the
reward (GRPO) or loss (SFT) per step in ``--output-dir``.

The flags are the fields of ``sqlgym.train.config.TrainConfig`` (``--config`` takes the same keys), and
every setting is checked before anything is loaded: a bad one exits with status 2 and says what to do.
"""

from __future__ import annotations

import argparse
import sys
import time

from sqlgym.errors import SqlgymError


def parser() -> argparse.ArgumentParser:
    """One flag per TrainConfig setting (``sqlgym.train.config``): its type, its help, and this command's
    defaults on a CPU and on CUDA. Every flag defaults to None (not given), so the YAML file and the
    machine's defaults fill in only what the command line leaves out."""
    from sqlgym.train.config import flag, flag_help, settings, trainable_envs, value_type

    p = argparse.ArgumentParser(prog="python -m sqlgym.train", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True, metavar="{grpo,sft}")
    for name, text in (("grpo", "GRPO with TRL (plan or tools mode)"), ("sft", "SFT on the env's expert trajectories")):
        s = sub.add_parser(name, help=text, description=text)
        s.add_argument("--config", metavar="FILE.yaml", help="settings as YAML (keys as the flags, - or _); flags win")
        for f in settings():
            choices = f.metadata["choices"] or (trainable_envs() if f.name == "env" else ())
            s.add_argument(flag(f.name), dest=f.name, type=value_type(f.name), default=None,
                           metavar="{" + ",".join(choices) + "}" if choices else None,
                           help=flag_help(f, name).replace("%", "%%"))
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    from rich.console import Console

    from sqlgym.models import has_cuda, needs_hub, offline
    from sqlgym.train.config import load_yaml, make_config

    console = Console(width=None if sys.stdout.isatty() else 140)
    try:
        file_values = load_yaml(args.config) if args.config else {}
        flags = {k: v for k, v in vars(args).items() if k not in ("command", "config")}
        cfg = make_config(args.command, has_cuda(), file_values, flags)  # every setting checked: nothing slow ran yet
        t0 = time.perf_counter()
        with offline(not needs_hub(cfg.model)):  # the hub only for a hub id (or a run trained from one)
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
