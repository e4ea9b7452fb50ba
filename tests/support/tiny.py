"""A tiny model for tests: a 2-layer Llama over a byte-level BPE tokenizer trained on the spot from
sqlgym's own prompt text, with a ChatML tool-calling chat template. Offline, a few seconds."""

from __future__ import annotations

import json


def tiny_tokenizer(vocab_size: int = 2048):
    """A byte-level BPE tokenizer trained here on sqlgym's own prompt text, with a ChatML tool-calling template.

    No download, about a second; small vocabulary so a tiny model's output layer stays small.
    """
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    special = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=special,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    bpe.train_from_iterator(_tokenizer_corpus(), trainer=trainer)
    tok = PreTrainedTokenizerFast(tokenizer_object=bpe, bos_token="<|im_start|>", eos_token="<|im_end|>",
                                  pad_token="<|endoftext|>", unk_token="<|endoftext|>")
    tok.chat_template = _chatml_tools_template()
    tok.padding_side = "left"
    return tok


def _chatml_tools_template() -> str:
    try:
        from sqlgym.integrations.trl import tools_chat_template

        return tools_chat_template()
    except ImportError:  # without TRL: plain ChatML
        return ("{% for m in messages %}{{ '<|im_start|>' + m['role'] + '\n' + m['content'] + '<|im_end|>\n' }}"
                "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}")


def _tokenizer_corpus() -> list[str]:
    import sqlgym
    from sqlgym.integrations.prompts import render_plan
    from sqlgym.integrations.trl_index import PLAN_SYSTEM, TOOLS_SYSTEM, briefing

    texts = [PLAN_SYSTEM, TOOLS_SYSTEM]
    for sid in sqlgym.list_scenarios("SQLIndex-v0", "curated"):
        sc = sqlgym.load_scenario(sid)
        texts.append(sc.description + "\n" + briefing(sc))
        texts.append(render_plan([{"action_type": "create_index", "payload": {"table": t.name, "columns": [c.name]}}
                                  for t in sc.schema for c in t.columns[1:3]]))
    texts.append('<tool_call>\n{"name": "create_index", "arguments": {"table": "t", "columns": ["a"]}}\n</tool_call>')
    try:  # the tool schemas the chat template puts in tools-mode prompts
        from transformers.utils import get_json_schema

        from sqlgym.integrations.base import tool_names
        from sqlgym.integrations.trl_index import SQLIndexTools

        texts += [json.dumps(get_json_schema(getattr(SQLIndexTools, n))) for n in tool_names(SQLIndexTools)]
        texts.append(_chatml_tools_template())
    except ImportError:
        pass
    return texts * 4


def tiny_model(seed: int = 0, hidden: int = 64, layers: int = 2, tokenizer=None):
    """(model, tokenizer): a randomly initialised 2-layer Llama over :func:`tiny_tokenizer`; for tests, offline."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    tok = tokenizer or tiny_tokenizer()
    config = LlamaConfig(vocab_size=len(tok), hidden_size=hidden, intermediate_size=2 * hidden,
                         num_hidden_layers=layers, num_attention_heads=4, num_key_value_heads=2,
                         max_position_embeddings=8192, tie_word_embeddings=True, bos_token_id=tok.bos_token_id,
                         eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id)
    torch.manual_seed(seed)
    model = LlamaForCausalLM(config)
    model.generation_config.pad_token_id = tok.pad_token_id
    model.generation_config.eos_token_id = tok.eos_token_id
    return model, tok
