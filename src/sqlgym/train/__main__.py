"""``python -m sqlgym.train {grpo,sft,ppo}``: train a language model on an sqlgym environment with TRL, or
a MaskablePPO policy on SQLIndexDiscrete-v0 (``ppo``).

    python -m sqlgym.train grpo                                   # CPU: embedded SmolLM2 + LoRA, a few minutes
    python -m sqlgym.train sft --output-dir runs/sft              # warm-up on the greedy advisor's plans
    python -m sqlgym.train grpo --model runs/sft --max-steps 40   # GRPO from the SFT adapter
    python -m sqlgym.train grpo --mode tools --chat-template qwen2_5
    python -m sqlgym.train grpo --config run.yaml --learning-rate 5e-5   # flags override the file
    python -m sqlgym.train ppo --output-dir runs/ppo               # MaskablePPO on SQLIndexDiscrete-v0

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
    sub = p.add_subparsers(dest="command", required=True, metavar="{grpo,sft,ppo}")
    for name, text in (("grpo", "GRPO with TRL (plan or tools mode)"), ("sft", "SFT on the env's expert trajectories")):
        s = sub.add_parser(name, help=text, description=text)
        s.add_argument("--config", metavar="FILE.yaml", help="settings as YAML (keys as the flags, - or _); flags win")
        for f in settings():
            choices = f.metadata["choices"] or (trainable_envs() if f.name == "env" else ())
            s.add_argument(flag(f.name), dest=f.name, type=value_type(f.name), default=None,
                           metavar="{" + ",".join(choices) + "}" if choices else None,
                           help=flag_help(f, name).replace("%", "%%"))
    _ppo_parser(sub)
    return p


def _ppo_parser(sub) -> None:
    """``ppo``: one flag per PPOConfig field (sqlgym.train.ppo), with its type, help and default."""
    import dataclasses
    import typing

    from sqlgym.train.ppo import PPOConfig

    text = "MaskablePPO (sb3-contrib) on SQLIndexDiscrete-v0; needs the rl extra"
    s = sub.add_parser("ppo", help=text, description=text)
    s.add_argument("--config", metavar="FILE.yaml", help="settings as YAML (keys as the flags, - or _); flags win")
    hints = typing.get_type_hints(PPOConfig)
    for f in dataclasses.fields(PPOConfig):
        s.add_argument("--" + f.name.replace("_", "-"), dest=f.name, type=hints[f.name], default=None,
                       help=f"{f.metadata['help']} (default {f.default})".replace("%", "%%"))


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    from rich.console import Console

    from sqlgym.models import has_cuda, needs_hub, offline
    from sqlgym.train.config import load_yaml, make_config

    console = Console(width=None if sys.stdout.isatty() else 140)
    try:
        file_values = load_yaml(args.config) if args.config else {}
        flags = {k: v for k, v in vars(args).items() if k not in ("command", "config")}
        if args.command == "ppo":
            return _ppo(file_values, flags, console)
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
    warm = metrics.get("sft_warmup")
    if warm:
        loss = f" (loss {warm['loss'][0]:.3f} -> {warm['loss'][-1]:.3f})" if warm["loss"] else ""
        console.print(f"SFT warm-up: {warm['steps']} steps on {warm['examples']} expert plans in {warm['seconds']:.0f} s"
                      f"{loss}")
    timed = [r for r in metrics.get("step_seconds", []) if r.get("generation_s")]
    if timed:  # GRPO steps: where the time went
        total = sum(r["seconds"] for r in timed)
        parts = {k: sum(r[k] for r in timed) / total for k in ("generation_s", "reward_s", "optimisation_s")}
        console.print(f"GRPO step time: generation {parts['generation_s']:.0%}, reward {parts['reward_s']:.1%}, "
                      f"optimisation {parts['optimisation_s']:.0%} (threads per step: "
                      f"{', '.join(str(r['threads']) for r in timed)}; per step in metrics.json)")
    sps = metrics.get("steps_per_second") or 0
    console.print(f"{cfg.command}: {metrics['steps']} steps in {metrics['train_seconds']:.0f} s ({sps:.3f} steps/s), "
                  f"{time.perf_counter() - t0:.0f} s in all, model {metrics['model']} ({metrics['backend']})")
    console.print(f"outputs in {cfg.output_dir}: adapter, log_history.json, metrics.json, "
                  f"{'reward' if cfg.command == 'grpo' else 'loss'}_per_step.png")
    return 0


def _ppo(file_values, flags, console) -> int:
    from rich.table import Table

    from sqlgym.train.ppo import make_ppo_config, train_ppo

    cfg = make_ppo_config(file_values, flags)  # every setting checked: nothing slow ran yet
    metrics = train_ppo(cfg)
    table = Table(title=f"SQLIndexDiscrete-v0, {cfg.test_split} split ({cfg.test_episodes} episodes)")
    for col in ("policy", "mean points", "gap closed", "hidden gap", "regressions"):
        table.add_column(col, justify="left" if col == "policy" else "right")
    for name, m in metrics["test"].items():
        table.add_row(name, f"{m['mean_performance']:+.1f}", f"{m['mean_gap_closed']:.3f}",
                      f"{m['mean_hidden_gap_closed']:.3f}", f"{100 * m['regression_rate']:.0f}%")
    if metrics["test"]:
        console.print(table)
    console.print(f"ppo: {metrics['timesteps']:,} env steps in {metrics['train_seconds']:.0f} s; outputs in "
                  f"{cfg.output_dir}: best_model.zip, metrics.json, learning_curve.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
