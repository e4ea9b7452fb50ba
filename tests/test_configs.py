"""configs/: every file parses and names only keys its tool knows (accelerate's config, TRL's GRPOConfig), and
``accelerate launch`` with two processes on this CPU runs two GRPO steps of a tiny model (plan mode; tools mode
against a ``python -m sqlgym.serve`` server with ``SQLGYM_SLOW_TESTS=1``)."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = ROOT / "configs"
ACCELERATE = sorted((CONFIGS / "accelerate").glob("*.yaml"))
VLLM = sorted((CONFIGS / "vllm").glob("*.yaml"))
DEEPSPEED_KEYS = {"zero_stage", "zero3_init_flag", "zero3_save_16bit_model", "offload_optimizer_device",
                  "offload_param_device", "offload_optimizer_nvme_path", "offload_param_nvme_path",
                  "gradient_accumulation_steps", "gradient_clipping", "deepspeed_config_file",
                  "deepspeed_moe_layer_cls_names", "deepspeed_multinode_launcher"}


def test_every_yaml_file_parses_and_is_a_mapping():
    files = sorted(CONFIGS.rglob("*.yaml"))
    assert len(files) == len(ACCELERATE) + len(VLLM) >= 6
    for f in files:
        assert isinstance(yaml.safe_load(f.read_text()), dict), f


@pytest.mark.parametrize("path", ACCELERATE, ids=lambda p: p.name)
def test_accelerate_configs_name_only_accelerate_keys(path):
    pytest.importorskip("accelerate")
    from accelerate.commands.config.config_args import ClusterConfig, load_config_from_file
    from accelerate.utils import DistributedType

    data = yaml.safe_load(path.read_text())
    known = {f.name for f in dataclasses.fields(ClusterConfig)}
    assert set(data) <= known, set(data) - known
    assert set(data.get("deepspeed_config") or {}) <= DEEPSPEED_KEYS
    assert DistributedType(data["distributed_type"]) and data["num_processes"] >= 1
    cfg = load_config_from_file(str(path))  # accelerate's own reader
    assert cfg.num_processes == data["num_processes"]


@pytest.mark.parametrize("path", VLLM, ids=lambda p: p.name)
def test_vllm_configs_are_grpo_config_arguments(path):
    pytest.importorskip("trl")
    from trl import GRPOConfig

    from sqlgym.train.config import make_config, trainer_args

    data = yaml.safe_load(path.read_text())
    assert set(data) <= {f.name for f in dataclasses.fields(GRPOConfig)}
    assert data["use_vllm"] is True and data["vllm_mode"] in ("colocate", "server")
    cfg = make_config("grpo", False, {}, {"trainer_args": str(path)})
    assert trainer_args(cfg) == data


def test_trainer_args_and_remote_are_checked_before_anything_loads(tmp_path):
    pytest.importorskip("trl")
    from sqlgym.errors import ConfigError
    from sqlgym.train.config import make_config

    bad = tmp_path / "bad.yaml"
    bad.write_text("- a list\n")
    with pytest.raises(ConfigError, match="--trainer-args"):
        make_config("grpo", False, {}, {"trainer_args": str(bad)})
    with pytest.raises(ConfigError, match="--trainer-args"):
        make_config("grpo", False, {}, {"trainer_args": str(tmp_path / "missing.yaml")})
    with pytest.raises(ConfigError, match="--mode tools"):
        make_config("grpo", False, {}, {"remote": "http://127.0.0.1:8000"})


@pytest.fixture(scope="module")
def tiny_dir(tmp_path_factory):
    pytest.importorskip("torch")
    pytest.importorskip("trl")
    pytest.importorskip("accelerate")
    if shutil.which("accelerate") is None:
        pytest.skip("no accelerate command")
    from tests.support.tiny import tiny_model

    model, tok = tiny_model(seed=0)
    out = tmp_path_factory.mktemp("tiny")
    model.save_pretrained(out)
    tok.save_pretrained(out)
    return out


def launch_grpo(tiny_dir: Path, out: Path, *extra: str) -> dict:
    """``accelerate launch`` two CPU processes of ``python -m sqlgym.train grpo``: 2 steps, 4 completions each."""
    cmd = [shutil.which("accelerate") or "accelerate", "launch", "--config_file", str(CONFIGS / "accelerate" / "cpu-2proc.yaml"),
           "-m", "sqlgym.train", "grpo", "--model", str(tiny_dir), "--max-steps", "2", "--scenarios", "2",
           "--eval-episodes", "0", "--eval-every", "0", "--sft-warmup", "0", "--lora-r", "0", "--batch-size", "4", "--num-generations", "4",
           "--max-completion-length", "32", "--threads", "1", "--dtype", "float32", "--output-dir", str(out), *extra]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)])}
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=900, env=env, cwd=str(out.parent))
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    history = json.loads((out / "log_history.json").read_text())
    assert len([h for h in history if "reward" in h]) == 2
    last = history[-1]
    # 2 steps x 4 completions x 2 processes: the samples counted over both processes
    assert round(last["train_samples_per_second"] * last["train_runtime"]) == 16
    return {"history": history, "stdout": proc.stdout}


def test_accelerate_runs_two_grpo_steps_on_two_cpu_processes(tiny_dir, tmp_path):
    """~50 s here (2 shared cores): two processes importing torch and TRL, then 2 steps of a 2-layer model."""
    launch_grpo(tiny_dir, tmp_path / "grpo")


@pytest.mark.skipif(not os.environ.get("SQLGYM_SLOW_TESTS"), reason="80 s on 2 cores: set SQLGYM_SLOW_TESTS=1")
def test_accelerate_tools_mode_against_a_remote_env_server(tiny_dir, tmp_path):
    pytest.importorskip("openenv")
    from sqlgym.serve.app import RunningServer, make_app

    with RunningServer(make_app("SQLIndex-v0", max_sessions=16)) as srv:
        run = launch_grpo(tiny_dir, tmp_path / "tools", "--mode", "tools", "--chat-template", "qwen2_5",
                          "--max-tool-calls", "2", "--remote", srv.url)
    rewards = [h["rewards/SQLIndexTools/mean"] for h in run["history"] if "reward" in h]
    assert all(abs(r + 0.01) < 1e-6 for r in rewards)  # get_reward's submit_report, played on the server


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))
