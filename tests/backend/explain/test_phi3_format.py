"""The Phi-3 chat path on a real GGUF: a tiny random-weight model with Phi-3's special tokens and template.

Checks what a real Phi-3-mini file exercises besides its weights: detection from the chat template,
the special tokens being single tokens, and constrained decoding on a SentencePiece vocabulary.
"""

import numpy as np
import pytest

from landfuse.backend.explain import LanguageModel, check_text, explain_report, extract_facts
from landfuse.backend.explain.checker import check_claims, check_sentence
from tests.backend.explain.reports import FOREST_SCENE, make_report

gguf = pytest.importorskip("gguf")

PHI3_TEMPLATE = (
    "{% for message in messages %}{{'<|' + message['role'] + '|>' + '\n' + message['content'] + '<|end|>\n'}}"
    "{% endfor %}{% if add_generation_prompt %}{{ '<|assistant|>\n' }}{% endif %}"
)
SPECIAL = ["<|system|>", "<|user|>", "<|assistant|>", "<|end|>"]


def write_tiny_phi3(path, width=64, hidden=128):
    """A 2-layer llama-layout GGUF with an SPM vocabulary (byte tokens, Phi-3 specials, a few words)."""
    tokens = ["<unk>", "<s>", "</s>", *(f"<0x{b:02X}>" for b in range(256)), *SPECIAL]
    types = [2, 3, 3, *[6] * 256, 3, 3, 3, 4]  # unknown, control, byte; <|end|> user-defined end of turn
    words = ["▁", "{", "}", ":", ".", ",", "(", ")", *"abcdefghijklmnopqrstuvwxyz", "▁the", "▁crops", "share", "1", "%"]
    tokens += words
    types += [1] * len(words)
    writer = gguf.GGUFWriter(str(path), "llama")
    writer.add_block_count(2)
    writer.add_context_length(2048)
    writer.add_embedding_length(width)
    writer.add_feed_forward_length(hidden)
    writer.add_head_count(4)
    writer.add_head_count_kv(4)
    writer.add_layer_norm_rms_eps(1e-5)
    writer.add_rope_dimension_count(16)
    writer.add_file_type(0)
    writer.add_tokenizer_model("llama")
    writer.add_token_list(tokens)
    writer.add_token_scores([0.0] * len(tokens))
    writer.add_token_types(types)
    writer.add_bos_token_id(1)
    writer.add_eos_token_id(2)
    writer.add_unk_token_id(0)
    writer.add_add_bos_token(True)
    writer.add_chat_template(PHI3_TEMPLATE)
    rng = np.random.default_rng(0)

    def weights(*shape):
        return (rng.standard_normal(shape) * 0.05).astype(np.float32)

    writer.add_tensor("token_embd.weight", weights(len(tokens), width))
    writer.add_tensor("output_norm.weight", np.ones(width, np.float32))
    writer.add_tensor("output.weight", weights(len(tokens), width))
    for block in range(2):
        prefix = f"blk.{block}."
        writer.add_tensor(prefix + "attn_norm.weight", np.ones(width, np.float32))
        writer.add_tensor(prefix + "ffn_norm.weight", np.ones(width, np.float32))
        for name in ("attn_q", "attn_k", "attn_v", "attn_output"):
            writer.add_tensor(prefix + name + ".weight", weights(width, width))
        writer.add_tensor(prefix + "ffn_gate.weight", weights(hidden, width))
        writer.add_tensor(prefix + "ffn_up.weight", weights(hidden, width))
        writer.add_tensor(prefix + "ffn_down.weight", weights(width, hidden))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()


def test_phi3_template_special_tokens_and_constrained_explanation(tmp_path):
    path = tmp_path / "tiny-phi3-F32.gguf"
    write_tiny_phi3(path)
    llm = LanguageModel.load(path, n_threads=1)
    assert llm.chat_format == "phi3" and llm.quantisation == "F32"
    chat = llm.chat_prompt("SYS", "USER")
    assert chat.text == "<|system|>\nSYS<|end|>\n<|user|>\nUSER<|end|>\n<|assistant|>\n"
    ids = llm._llama.tokenize(chat.text.encode(), add_bos=True, special=True)
    pieces = [llm._llama._model.token_get_text(i) for i in ids]
    assert pieces[0] == "<s>" and all(pieces.count(s) == (2 if s == "<|end|>" else 1) for s in SPECIAL)
    report = make_report(FOREST_SCENE)
    facts = extract_facts(report)
    record = explain_report(report, llm=llm, max_attempts=1).record
    assert record["decoding"] == "free"  # Phi-3 writes freely, under the token mask and the claim check
    assert record["grounded"] and check_claims(record["text"], facts).passed
    assert record["text"].startswith("The scene is dominated by trees (45.8%")
    attempt = record["attempt_log"][0]
    assert attempt["generated_tokens"] > 0
    # random weights ramble: what fails the claim check is dropped and recorded, what is kept passes it
    assert attempt["sentences"] and record["dropped_sentences"]
    for sentence in attempt["sentences"]:
        assert check_sentence(sentence["text"], facts).ok == (sentence["verdict"] == "kept")
    written = check_text(" ".join(s["text"] for s in attempt["sentences"]), facts)
    assert written.numbers_checked >= 4 and not any("not a fact" in p for p in written.problems)  # no number invented
