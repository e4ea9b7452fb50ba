"""The command lines around training and evaluation: flags made from TrainConfig, every setting checked
before anything slow (no model is loaded, no episode is played), model names that never reach the hub by
mistake, and progress lines where no progress bar can be seen. Nothing here trains or loads a model."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import FrozenInstanceError, fields

import pytest

from sqlgym.errors import ConfigError
from sqlgym.train.config import NOT_SETTINGS, TrainConfig, flag, load_yaml, make_config, setting_names, settings

# The flags python -m sqlgym.train had when they were written out by hand: names and types stay.
OLD_FLAGS = {"--env": str, "--model": str, "--backend": str, "--mode": str, "--chat-template": str, "--split": str,
             "--scenarios": int, "--max-steps": int, "--epochs": float, "--output-dir": str, "--num-generations": int,
             "--learning-rate": float, "--batch-size": int, "--grad-accum": int, "--max-completion-length": int,
             "--temperature": float, "--beta": float, "--lora-r": int, "--lora-alpha": int, "--dtype": str,
             "--max-tool-calls": int, "--eval-split": str, "--eval-episodes": int, "--seed": int}


def _words(text: str) -> str:
    return " ".join(text.split())  # rich wraps long lines


def _subparser(command: str):
    from sqlgym.train.__main__ import parser

    sub = next(a for a in parser()._actions if a.dest == "command")
    return sub.choices[command]


@pytest.mark.parametrize("command", ["grpo", "sft"])
def test_every_setting_is_a_flag_and_every_flag_a_setting(command):
    actions = {a.option_strings[0]: a for a in _subparser(command)._actions if a.dest not in ("help", "config")}
    assert set(actions) == {flag(n) for n in setting_names()}
    assert {f.name for f in fields(TrainConfig)} == set(setting_names()) | set(NOT_SETTINGS)
    for name in setting_names():
        assert actions[flag(name)].dest == name and actions[flag(name)].default is None
    for old, typ in OLD_FLAGS.items():
        assert actions[old].type is typ, old


def test_help_lists_every_setting_with_both_machines_defaults(capsys):
    from sqlgym.train.__main__ import main

    with pytest.raises(SystemExit) as e:
        main(["grpo", "--help"])
    assert e.value.code == 0
    out = _words(capsys.readouterr().out)
    for name in setting_names():
        assert flag(name) in out
    assert "--config FILE.yaml" in out
    assert "AdamW learning rate (default 1e-4 CPU / 2e-5 CUDA)" in out
    assert "(default 16 CPU / 500 CUDA)" in out and "runs/<command>" in out
    with pytest.raises(SystemExit):
        main(["sft", "--help"])
    assert "AdamW learning rate (default 2e-4)" in _words(capsys.readouterr().out)  # sft's own defaults


@pytest.mark.parametrize("f", [f for f in settings() if f.metadata["choices"]], ids=lambda f: f.name)
def test_help_check_and_error_list_the_same_choices(f):
    choices = f.metadata["choices"]
    helps = {a.dest: a.help for a in _subparser("grpo")._actions}
    assert " | ".join(choices) in helps[f.name]
    with pytest.raises(ConfigError) as e:
        make_config("grpo", False, {}, {f.name: "float16" if f.name == "dtype" else "nonsense"})
    assert f"Valid: {', '.join(choices)}." in str(e.value) and str(e.value).startswith(flag(f.name))
    for value in choices:
        if f.name == "backend" and value == "unsloth":
            continue  # needs CUDA and the package: its own check
        make_config("grpo", False, {}, {f.name: value})


def test_dtype_is_one_tuple():
    from sqlgym.models import DTYPES, _check_dtype

    helps = {a.dest: a.help for a in _subparser("grpo")._actions}
    assert helps["dtype"].startswith(" | ".join(DTYPES) + " ")
    with pytest.raises(ConfigError, match="Valid: " + ", ".join(DTYPES) + r"\."):
        _check_dtype("float16")


def test_config_file_keys_are_the_settings(tmp_path):
    f = tmp_path / "run.yaml"
    f.write_text("max-steps: 12\nlearning_rate: 1e-4\nlora-r: '8'\n")  # YAML reads 1e-4 as a string; so does a flag
    cfg = make_config("grpo", False, load_yaml(str(f)), {"max_steps": 3})
    assert (cfg.max_steps, cfg.learning_rate, cfg.lora_r) == (3, 1e-4, 8)
    for bad in ("extra: {}\n", "command: sft\n", "max_stpes: 3\n"):
        f.write_text(bad)
        with pytest.raises(ConfigError) as e:
            load_yaml(str(f))
        valid = str(e.value).split("Valid: ")[1].rstrip(".").split(", ")
        assert valid == setting_names() and "command" not in valid and "extra" not in valid
    f.write_text("max_steps: lots\n")
    with pytest.raises(ConfigError, match="--max-steps takes an integer"):
        make_config("grpo", False, load_yaml(str(f)), {})
    with pytest.raises(ConfigError, match="--batch-size takes an integer"):
        make_config("grpo", False, {"batch_size": 2.5}, {})


def test_config_is_frozen_and_validates_itself():
    cfg = TrainConfig()
    assert cfg.validate() is cfg and cfg.output_dir == "runs/grpo"
    with pytest.raises(FrozenInstanceError):
        cfg.max_steps = 3  # type: ignore[misc]
    with pytest.raises(ConfigError, match="--split"):
        TrainConfig(split="nonsense").validate()
    with pytest.raises(ConfigError, match="--num-generations must be at least 2"):
        TrainConfig(num_generations=1).validate()
    assert TrainConfig(command="sft", num_generations=3).validate().num_generations == 3  # GRPO's arithmetic only


BAD_SETTINGS = [
    (["--split", "nonsense"], "unknown SQLIndex-v0 split 'nonsense'. Valid: curated, train, validation, test."),
    (["--env", "SQLindex-v0"], "Did you mean 'SQLIndex-v0'"),
    (["--env", "Text2SQL-v0", "--split", "curated"], "unknown Text2SQL-v0 split 'curated'"),
    (["--env", "Text2SQLDirect-v0"], "has no training adapter"),
    (["--eval-split", "tset"], "--eval-split: unknown SQLIndex-v0 split 'tset'. Did you mean 'test'?"),
    (["--mode", "tool"], "Did you mean 'tools'?"),
    (["--backend", "pef"], "Did you mean 'peft'?"),
    (["--dtype", "float16"], "Valid: auto, float32, bfloat16."),
    (["--chat-template", "chatml"], "Valid: qwen2_5."),
    (["--num-generations", "3"], "must be a multiple of --num-generations (3)"),
    (["--max-steps", "-1"], "--max-steps must be at least 0"),
    (["--learning-rate", "0"], "--learning-rate must be more than 0"),
    (["--scenarios", "0"], "--scenarios must be at least 1"),
    (["--model", "runs/sfft"], "no such directory. Did you mean 'runs/sft'?"),
    (["--model", "./nowhere"], "no such directory"),
    (["--model", "missing.gguf"], "no such GGUF file"),
    (["--model", "embeded"], "Did you mean 'embedded'?"),
]


@pytest.mark.parametrize("args,message", BAD_SETTINGS, ids=[" ".join(a) for a, _ in BAD_SETTINGS])
def test_bad_settings_stop_the_cli_before_anything_loads(args, message, tmp_path, monkeypatch, capsys):
    import sqlgym.models
    import sqlgym.train.grpo

    def boom(*a, **k):
        raise AssertionError("loaded a model or started training before checking the settings")

    monkeypatch.setattr(sqlgym.models, "load_model", boom)
    monkeypatch.setattr(sqlgym.train.grpo, "train_grpo", boom)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "runs" / "sft").mkdir(parents=True)
    (tmp_path / "runs" / "sft" / "adapter_config.json").write_text("{}")
    from sqlgym.train.__main__ import main

    assert main(["grpo", *args]) == 2
    out = _words(capsys.readouterr().out)
    assert "error:" in out and message in out


def test_the_trainers_check_a_config_before_loading(monkeypatch):
    import sqlgym.models
    from sqlgym.train.grpo import train_grpo
    from sqlgym.train.sft import train_sft

    monkeypatch.setattr(sqlgym.models, "load_model", lambda *a, **k: pytest.fail("loaded a model"))
    with pytest.raises(ConfigError, match="--eval-split"):
        train_grpo(TrainConfig(eval_split="nonsense"))
    with pytest.raises(ConfigError, match="--model"):
        train_sft(TrainConfig(command="sft", model="./definitely-not-here"))


def test_cli_exits_2_without_importing_torch(tmp_path):
    from sqlgym.models import _torch_build_has_gpu

    code = ("import sys; from sqlgym.train.__main__ import main; rc = main(['grpo', '--split', 'nonsense']); "
            "print('TORCH', 'torch' in sys.modules); sys.exit(rc)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "unknown SQLIndex-v0 split 'nonsense'" in proc.stdout
    if not _torch_build_has_gpu():  # a CPU build of torch needs no import to know there is no GPU
        assert "TORCH False" in proc.stdout
    proc = subprocess.run([sys.executable, "-m", "sqlgym.train", "sft", "--mode", "tool"], capture_output=True,
                          text=True, cwd=tmp_path)
    assert proc.returncode == 2 and "Did you mean 'tools'?" in _words(proc.stdout)


def test_model_names(tmp_path, monkeypatch):
    from sqlgym.models import MODEL_CARD, model_source, needs_hub

    monkeypatch.chdir(tmp_path)
    sft = tmp_path / "runs" / "sft"
    sft.mkdir(parents=True)
    (sft / "adapter_config.json").write_text("{}")
    (sft / MODEL_CARD).write_text(json.dumps({"base_model": "embedded"}))
    (tmp_path / "runs" / "empty").mkdir()
    hubbed = tmp_path / "runs" / "from-hub"
    hubbed.mkdir()
    (hubbed / "adapter_config.json").write_text(json.dumps({"base_model_name_or_path": "Qwen/Qwen2.5-0.5B-Instruct"}))
    assert model_source("runs/sft") == model_source(str(sft)) == model_source("./runs/sft") == "dir"
    assert model_source("Qwen/Qwen2.5-0.5B-Instruct") == "hub"  # no directory ./Qwen here
    assert needs_hub("Qwen/Qwen2.5-0.5B-Instruct") and needs_hub("runs/from-hub")
    assert not needs_hub("runs/sft")
    for name, message in [("runs/sfft", "Did you mean 'runs/sft'?"), ("./runs/sfft", "Did you mean './runs/sft'?"),
                          ("runs/Qwen2.5-0.5B", "no such directory"),  # ./runs exists: a local path, not a hub id
                          ("nowhere/at/all", "'nowhere/at' does not exist either"),
                          ("~/no-such-sqlgym-model", "no such directory"), ("/no/such/model", "no such directory"),
                          ("tiny.gguf", "no such GGUF file"), ("embeded", "Did you mean 'embedded'?"),
                          ("runs/empty", "holds no model")]:
        with pytest.raises(ConfigError, match=message.replace("?", r"\?").replace(".", r"\.")):
            model_source(name)


def test_a_missing_local_model_never_imports_transformers(tmp_path, monkeypatch):
    from sqlgym.models import load_model

    monkeypatch.chdir(tmp_path)
    (tmp_path / "runs").mkdir()
    monkeypatch.setitem(sys.modules, "transformers", None)  # importing it now fails
    monkeypatch.setitem(sys.modules, "unsloth", None)
    for backend in ("peft", "auto"):
        with pytest.raises(ConfigError, match="no such directory"):
            load_model("runs/sfft", backend=backend)


def test_offline_switches_the_hub_off_inside_only(monkeypatch):
    import huggingface_hub.constants as hub

    from sqlgym.models import offline

    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setattr(hub, "HF_HUB_OFFLINE", False)
    with offline():
        assert os.environ["HF_HUB_OFFLINE"] == "1" and hub.HF_HUB_OFFLINE is True and hub.is_offline_mode()
    assert "HF_HUB_OFFLINE" not in os.environ and hub.HF_HUB_OFFLINE is False
    with offline(False):
        assert "HF_HUB_OFFLINE" not in os.environ


@pytest.mark.parametrize("policies,message", [
    ("noop,heuristik", "Did you mean 'heuristic'?"),
    ("noop,hf:runs/sfft", "no such directory"),
    ("noop,openai:localhost:8000", "needs a base URL"),
])
def test_eval_checks_every_policy_before_playing_any(policies, message, tmp_path, monkeypatch, capsys):
    from sqlgym.eval import harness
    from sqlgym.eval.__main__ import main

    monkeypatch.setattr(harness, "run", lambda *a, **k: pytest.fail("an episode ran before every name was checked"))
    monkeypatch.chdir(tmp_path)
    (tmp_path / "runs").mkdir()
    out = tmp_path / "r.json"
    assert main(["--policy", policies, "--episodes", "2", "--out", str(out)]) == 2
    assert message in _words(capsys.readouterr().out)
    assert not out.exists()


def test_eval_out_directory_is_checked_first(tmp_path, monkeypatch, capsys):
    from sqlgym.eval import harness
    from sqlgym.eval.__main__ import main

    monkeypatch.setattr(harness, "run", lambda *a, **k: pytest.fail("ran before checking --out"))
    assert main(["--policy", "noop", "--out", str(tmp_path / "no" / "r.json")]) == 2
    assert "does not exist" in capsys.readouterr().out


def test_eval_prints_progress_lines_when_stdout_is_not_a_terminal(monkeypatch, capsys):
    from sqlgym.agents.llm import PlainProgress
    from sqlgym.eval.__main__ import main

    monkeypatch.setattr(PlainProgress, "min_interval", 0.0)  # a line per tenth, however fast
    assert main(["--policy", "noop", "--split", "curated", "--episodes", "3"]) == 0  # capsys: not a terminal
    err = capsys.readouterr().err.splitlines()
    assert [line.split(",")[0] for line in err] == [f"policy noop: {i}/3 episodes" for i in (1, 2, 3)]
    assert all(line.endswith(" s") for line in err)


class Clock:
    def __init__(self):
        self.t = 0.0

    def __call__(self):
        return self.t


def test_plain_progress_rate(monkeypatch, capsys):
    import sqlgym.agents.llm as llm

    clock = Clock()
    monkeypatch.setattr(llm.time, "monotonic", clock)
    p = llm.PlainProgress("policy x", 10, "episodes", enabled=True)
    for i in range(1, 11):  # 4 s per episode: a tenth each time, but at most a line every 5 s
        clock.t += 4
        p.update(i)
    lines = capsys.readouterr().err.splitlines()
    assert lines == [f"policy x: {i}/10 episodes, {4 * i} s" for i in (2, 4, 6, 8, 10)]
    slow = llm.PlainProgress("gen", 1000, "answers generated", enabled=True)
    clock.t += 31  # no new tenth, but 30 s of silence
    slow.update(1)
    assert capsys.readouterr().err == "gen: 1/1000 answers generated, 31 s\n"
    fast = llm.PlainProgress("quick", 10, enabled=True)
    for i in range(1, 11):  # done within 5 s: nothing to say
        fast.update(i)
    assert capsys.readouterr().err == ""

    class Terminal:
        def isatty(self):
            return True

        def write(self, s):
            pass

    monkeypatch.setattr(sys, "stdout", Terminal())
    assert not llm.PlainProgress("bar", 10).enabled  # a terminal has the rich bar


def test_training_evaluation_reports_episodes(monkeypatch, capsys):
    from sqlgym.agents.llm import LLMPolicy, PlainProgress
    from sqlgym.train.evaluate import run_policy

    monkeypatch.setattr(PlainProgress, "min_interval", 0.0)
    run_policy(LLMPolicy(lambda prompts: ["[]"] * len(prompts), name="fake before"), split="curated", episodes=2)
    assert "fake before: 2/2 episodes" in capsys.readouterr().err


def test_hf_generator_reports_its_batches(monkeypatch, capsys):
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    from sqlgym.agents.llm import HFGenerator, PlainProgress
    from tests.support.tiny import tiny_model

    model, tok = tiny_model(seed=0)
    monkeypatch.setattr(PlainProgress, "min_interval", 0.0)
    gen = HFGenerator(model, tok, max_new_tokens=2, batch_size=1, label="policy tiny")
    assert len(gen([[{"role": "user", "content": "hello"}]] * 3)) == 3
    err = capsys.readouterr().err
    assert [line.split(",")[0] for line in err.splitlines()] == [
        f"policy tiny: {i}/3 answers generated" for i in (1, 2, 3)]
    gen([[{"role": "user", "content": "hello"}]])  # one batch: no lines (tools mode asks one prompt per step)
    assert capsys.readouterr().err == ""
