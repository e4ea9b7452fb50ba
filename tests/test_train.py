"""Training end to end with a tiny model built here (no download): SFT, GRPO plan mode and GRPO tools
mode each run a few steps; the weights must move and the rewards must come from the env (they vary
across completions, and they equal what the env returns when the same text is replayed)."""

from __future__ import annotations

import copy
import json

import pytest

pytest.importorskip("torch")
pytest.importorskip("trl")
pytest.importorskip("peft")
pytest.importorskip("datasets")

import torch  # noqa: E402

from sqlgym.integrations import get_adapter  # noqa: E402
from sqlgym.train.config import make_config  # noqa: E402

SCENARIO = "generator://index/0"  # the first train scenario: three indexes to find


def config(command, tmp_path, **kw):
    base = dict(scenarios=1, eval_episodes=0, eval_every=0, sft_warmup=0, output_dir=str(tmp_path / command), logging_steps=1)
    return make_config(command, False, {}, {**base, **kw})


@pytest.fixture(scope="module")
def tiny():
    from tests.support.tiny import tiny_model

    return tiny_model(seed=0)


@pytest.fixture(scope="module")
def sft_run(tiny, tmp_path_factory):
    """SFT (plan mode) of the whole tiny model on the greedy advisor's plan: it learns the JSON format."""
    from sqlgym.train.sft import train_sft

    model, tok = tiny
    start = copy.deepcopy(model)
    cfg = config("sft", tmp_path_factory.mktemp("sft"), max_steps=80, lora_r=0, learning_rate=1e-2, logging_steps=10)
    metrics = train_sft(cfg, copy.deepcopy(model), tok)
    return start, metrics, cfg


def test_sft_learns_the_expert_plan(sft_run, tiny):
    start, metrics, cfg = sft_run
    losses = [h["loss"] for h in metrics["trainer"].state.log_history if "loss" in h]
    assert losses[-1] < losses[0] / 10
    trained = metrics["trainer"].model
    moved = [n for (n, p), (_, q) in zip(trained.named_parameters(), start.named_parameters()) if not torch.equal(p, q)]
    assert moved
    out = __import__("pathlib").Path(cfg.output_dir)
    assert (out / "metrics.json").exists() and (out / "loss_per_step.png").exists() and (out / "log_history.json").exists()
    assert json.loads((out / "sqlgym_model.json").read_text())["mode"] == "plan"


def test_grpo_plan_mode(sft_run, tiny, tmp_path):
    from sqlgym.train.grpo import train_grpo

    _, sft, _ = sft_run
    tok = tiny[1]
    cfg = config("grpo", tmp_path, max_steps=2, lora_r=8, learning_rate=1e-2, max_completion_length=96)
    metrics = train_grpo(cfg, copy.deepcopy(sft["trainer"].model), tok)
    history = metrics["trainer"].state.log_history
    assert any(h.get("reward_std", 0) > 0 for h in history)  # completions were scored differently
    scored = metrics["scored_completions"]
    assert len({round(s["total"], 6) for s in scored}) > 1 and any(s["steps"] > 0 for s in scored)
    lora_b = [p for n, p in metrics["trainer"].model.named_parameters() if "lora_B" in n]
    assert lora_b and any(p.abs().max() > 0 for p in lora_b)  # LoRA B starts at zero: the adapter moved
    out = tmp_path / "grpo"
    assert (out / "adapter_model.safetensors").exists() and (out / "reward_per_step.png").exists()
    assert len((out / "completions.jsonl").read_text().splitlines()) == 8  # 2 steps x 4 completions
    steps = [h for h in json.loads((out / "log_history.json").read_text()) if "reward" in h]
    assert len(steps) == 2


def test_plan_rewards_are_the_envs(sft_run, tiny):
    """Sample from the SFT model and check each reward against a direct replay on the env."""
    import gymnasium as gym

    from sqlgym.integrations.prompts import parse_plan
    from sqlgym.integrations.trl import plan_reward, prompt_rows

    model, tok = sft_run[1]["trainer"].model, tiny[1]
    row = prompt_rows("SQLIndex-v0", "train", scenarios=[SCENARIO])[0]
    enc = tok.apply_chat_template(row["prompt"], add_generation_prompt=True, return_tensors="pt", return_dict=True)
    torch.manual_seed(0)
    out = model.generate(**enc, max_new_tokens=120, do_sample=True, num_return_sequences=4)
    texts = tok.batch_decode(out[:, enc["input_ids"].shape[1]:], skip_special_tokens=True)
    rewards = plan_reward()([row["prompt"]] * 4, texts, scenario=[SCENARIO] * 4, seed=[0] * 4)
    for text, r in zip(texts, rewards):
        actions, _ = parse_plan(text)
        if actions is None:
            assert r == get_adapter("SQLIndex-v0").malformed_penalty
            continue
        env = gym.make("SQLIndex-v0", scenario=SCENARIO)
        env.reset(seed=0)
        total, done = 0.0, False
        for a in actions + [{"action_type": "submit_report", "payload": {}}]:
            _, step_r, term, trunc, _ = env.step(json.dumps(a))
            total, done = total + step_r, term or trunc
            if done:
                break
        assert r == pytest.approx(total)


def test_grpo_tools_mode(tiny, tmp_path):
    """Teach the tiny model one tool call (a few dozen teacher-forced steps), then run GRPO in tools mode."""
    from sqlgym.train.grpo import train_grpo
    from sqlgym.train.sft import tool_expert_rows

    model, tok = copy.deepcopy(tiny[0]), tiny[1]
    rows = tool_expert_rows("SQLIndex-v0", "train", 1, tok)
    first_index_call = next(r["completion"] for r in rows if "create_index" in r["completion"])
    prompt = tok(rows[0]["prompt"], add_special_tokens=False)["input_ids"]
    target = tok(first_index_call + tok.eos_token, add_special_tokens=False)["input_ids"]
    ids = torch.tensor([prompt + target])
    labels = ids.clone()
    labels[0, :len(prompt)] = -100
    torch.manual_seed(0)
    opt = torch.optim.AdamW(model.parameters(), lr=5e-3)
    for _ in range(80):
        model(input_ids=ids, labels=labels).loss.backward()
        opt.step()
        opt.zero_grad()

    cfg = config("grpo", tmp_path, mode="tools", max_steps=2, lora_r=8, learning_rate=1e-2, max_completion_length=96)
    metrics = train_grpo(cfg, model, tok)
    history = [h for h in metrics["trainer"].state.log_history if "reward" in h]
    assert any(h["tools/call_frequency"] > 0 for h in history)
    assert any(h["reward_std"] > 0 for h in history)  # the env scored the rollouts differently
    assert max(h["reward"] for h in history) > 0  # some rollout's index helped, measured by the env
    lora_b = [p for n, p in metrics["trainer"].model.named_parameters() if "lora_B" in n]
    assert any(p.abs().max() > 0 for p in lora_b)
    assert json.loads((tmp_path / "grpo" / "sqlgym_model.json").read_text())["mode"] == "tools"


def test_grpo_cold_start_validates_and_times_each_step(tiny, tmp_path):
    """From the untrained tiny model: an SFT warm-up, validation every step with the best adapter kept,
    the format reward as its own logged part, and per-step timings."""
    from sqlgym.train.grpo import train_grpo

    model, tok = copy.deepcopy(tiny[0]), tiny[1]
    cfg = config("grpo", tmp_path, max_steps=2, lora_r=0, learning_rate=1e-3, max_completion_length=48,
                 sft_warmup=2, eval_every=1, val_episodes=1, eval_episodes=1)
    metrics = train_grpo(cfg, model, tok)
    out = tmp_path / "grpo"
    saved = json.loads((out / "metrics.json").read_text())
    assert [r["step"] for r in saved["validation"]] == [0, 1, 2]  # at the start, every step, the end
    assert saved["best"]["step"] in (0, 1, 2) and (out / "best" / "config.json").exists()
    assert json.loads((out / "best" / "sqlgym_model.json").read_text())["mode"] == "plan"
    assert (out / "learning_curve.png").exists() and saved["train_curve"]
    assert saved["sft_warmup"]["steps"] == 2 and len(metrics["results"]) == 3  # before, after warm-up, after
    assert "SFT warm-up" in metrics["results"][1]["policy"]
    grpo_steps = saved["step_seconds"][-2:]
    assert all(r["generation_s"] > 0 and 0 < r["reward_s"] < r["seconds"] and r["threads"] >= 1 for r in grpo_steps)
    history = [h for h in metrics["trainer"].state.log_history if "reward" in h]
    assert all("rewards/sqlindex_format/mean" in h for h in history)
    assert all(s["format"] <= 0 for s in metrics["scored_completions"])


def test_format_reward_ladder_is_ordered_and_below_any_improvement():
    from sqlgym.integrations.trl import plan_rewards

    env_part, fmt = plan_rewards("SQLIndex-v0")
    texts = ["I would add an index.",                                   # no JSON: -1
             'Here: {"table": "customers"}',                            # JSON, no action: -0.75
             '{"action_type": "list_tables", "payload": {}} and then', # an action, not one list: -0.5
             '[{"action_type": "fly", "payload": {}}]',                # one list, every action invalid: -0.25
             '[{"action_type": "list_tables", "payload": {}}]',         # a clean, valid plan: 0
             '[{"action_type": "create_index", "payload": {"table": "customers", "columns": ["email"]}}]']
    kw = dict(scenario=["easy/point_lookup"] * len(texts), seed=[0] * len(texts))
    f = fmt([None] * len(texts), texts, **kw)
    e = env_part([None] * len(texts), texts, **kw)
    assert f == [-1.0, -0.75, -0.5, -0.25, 0.0, 0.0]
    totals = [a + b for a, b in zip(e, f)]
    assert totals == sorted(totals) and e[0] == e[1] == 0.0
    assert totals[-1] > 0.5 > 0 >= max(totals[:-1])  # the real improvement beats every format rung
