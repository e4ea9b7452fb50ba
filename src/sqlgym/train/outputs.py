"""What a training run leaves in ``--output-dir``: the adapter (saved by the trainer), ``log_history.json``
(the trainer's logs), ``metrics.json`` (settings, timings, before/after summaries) and a reward plot."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any


def write_outputs(cfg, trainer, extra: dict[str, Any]) -> dict[str, Any]:
    out = Path(cfg.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    history = trainer.state.log_history
    (out / "log_history.json").write_text(json.dumps(history, indent=1, default=str))
    key = "reward" if any("reward" in h for h in history) else "loss"
    train_curve = [{"step": h["step"], key: h[key]} for h in history if h.get(key) is not None and "step" in h]
    metrics = {"config": asdict(cfg), "train_curve": train_curve, **extra}
    (out / "metrics.json").write_text(json.dumps(metrics, indent=1, default=str))
    plot_history(history, out / f"{key}_per_step.png", key)
    if extra.get("validation"):
        plot_learning_curve(train_curve, extra["validation"], out / "learning_curve.png", key,
                            f"validation ({cfg.val_split}, {cfg.val_episodes} episodes)")
    return metrics


def plot_learning_curve(train: list[dict], validation: list[dict], path: Path, key: str, label: str) -> None:
    """Train reward (or loss) and the validation score against optimizer steps, on two axes."""
    from matplotlib.figure import Figure  # no pyplot: the caller's backend (a notebook's) is left alone

    fig = Figure(figsize=(7, 4))
    ax = fig.subplots()
    if train:
        ax.plot([r["step"] for r in train], [r[key] for r in train], color="tab:blue", alpha=0.6,
                label=f"train {key}")
    ax.set_xlabel("optimizer step")
    ax.set_ylabel(f"train {key}", color="tab:blue")
    ax2 = ax.twinx()
    ax2.plot([r["step"] for r in validation], [r["score"] for r in validation], color="tab:red", marker="o",
             label=label)
    ax2.set_ylabel("validation score (gap closed or EX)", color="tab:red")
    lines = ax.get_legend_handles_labels()[0] + ax2.get_legend_handles_labels()[0]
    ax.legend(lines, [ln.get_label() for ln in lines], loc="lower right")
    ax.set_title("learning curve")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def plot_history(history: list[dict], path: Path, key: str = "reward") -> None:
    """Mean reward (or loss) per logged step, with the reward's spread when there is one."""
    rows = [(h["step"], h[key], h.get(f"{key}_std")) for h in history if key in h and h.get(key) is not None]
    if not rows:
        return
    from matplotlib.figure import Figure  # no pyplot: the caller's backend (a notebook's) is left alone

    steps, ys, sd = zip(*rows)
    fig = Figure(figsize=(7, 4))
    ax = fig.subplots()
    ax.plot(steps, ys, marker="o", label=f"mean {key}")
    if all(s is not None for s in sd):
        ax.fill_between(steps, [y - s for y, s in zip(ys, sd)], [y + s for y, s in zip(ys, sd)], alpha=0.2,
                        label=f"{key} std across completions")
    ax.set_xlabel("training step")
    ax.set_ylabel(key)
    ax.set_title(f"{key} per step")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
