"""The unit tier runs without rclpy: a test that imports it belongs in test/ros.

Also tiny random transformers models built here in seconds (a Llama and a LLaVA), shared by tests.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest


@pytest.fixture(autouse=True)
def _no_rclpy() -> Iterator[None]:
    already = "rclpy" in sys.modules
    yield
    if not already and "rclpy" in sys.modules:
        pytest.fail("this unit test imported rclpy; move it to test/ros")


def tiny_tokenizer(specials: list[str]) -> Any:
    """A byte-level BPE tokenizer trained on a few sentences, with a simple chat template."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    bpe = Tokenizer(models.BPE(unk_token="<unk>"))
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    sentences = [
        "bring the red cup to the counter",
        "go to the kitchen and pick up the banana",
        "what is in the picture",
        '{"skill": "PICK", "object": "cup"}',
    ]
    trainer = trainers.BpeTrainer(
        vocab_size=400, special_tokens=specials, initial_alphabet=pre_tokenizers.ByteLevel.alphabet()
    )
    bpe.train_from_iterator(sentences, trainer)
    extra = {"image_token": "<image>"} if "<image>" in specials else {}
    return PreTrainedTokenizerFast(
        tokenizer_object=bpe,
        unk_token="<unk>",
        bos_token="<s>",
        eos_token="</s>",
        pad_token="<pad>",
        extra_special_tokens=extra,
    )


def tiny_llama_config(tokenizer: Any) -> Any:
    from transformers import LlamaConfig

    return LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=4,
        max_position_embeddings=512,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )


def save_random_model(model: Any, tokenizer: Any, specials: list[str], folder: Path) -> None:
    # Random weights: never emit special tokens, so the decoded answer cannot come out empty.
    model.generation_config.suppress_tokens = tokenizer.convert_tokens_to_ids(specials)
    model.save_pretrained(folder)


@pytest.fixture(scope="module")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 2-layer Llama with its BPE tokenizer, saved like a hub model."""
    import torch
    from transformers import LlamaForCausalLM

    folder = tmp_path_factory.mktemp("tiny_llama")
    specials = ["<unk>", "<s>", "</s>", "<pad>"]
    tokenizer = tiny_tokenizer(specials)
    tokenizer.chat_template = (
        "{% for m in messages %}<s>{{ m['role'] }}: {{ m['content'] }}</s>\n{% endfor %}"
        "{% if add_generation_prompt %}<s>assistant: {% endif %}"
    )
    tokenizer.save_pretrained(folder)
    torch.manual_seed(0)
    save_random_model(LlamaForCausalLM(tiny_llama_config(tokenizer)), tokenizer, specials, folder)
    return folder


@pytest.fixture(scope="module")
def tiny_vlm_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny LLaVA (1-layer CLIP vision tower, 2-layer Llama) with its processor, saved like a hub model."""
    import torch
    from transformers import (
        CLIPImageProcessor,
        CLIPVisionConfig,
        LlavaConfig,
        LlavaForConditionalGeneration,
        LlavaProcessor,
    )

    folder = tmp_path_factory.mktemp("tiny_llava")
    specials = ["<unk>", "<s>", "</s>", "<pad>", "<image>"]
    tokenizer = tiny_tokenizer(specials)
    template = (
        "{% for m in messages %}<s>{{ m['role'] }}: {% for p in m['content'] %}"
        "{% if p['type'] == 'image' %}<image>{% else %}{{ p['text'] }}{% endif %}{% endfor %}</s>\n{% endfor %}"
        "{% if add_generation_prompt %}<s>assistant: {% endif %}"
    )
    image_processor = CLIPImageProcessor(size={"shortest_edge": 16}, crop_size={"height": 16, "width": 16})
    processor = LlavaProcessor(
        image_processor=image_processor,
        tokenizer=tokenizer,
        patch_size=8,
        chat_template=template,
        vision_feature_select_strategy="default",
        num_additional_image_tokens=1,
    )
    processor.save_pretrained(folder)
    vision = CLIPVisionConfig(
        hidden_size=16, intermediate_size=32, num_hidden_layers=1, num_attention_heads=2, image_size=16, patch_size=8
    )
    config = LlavaConfig(
        vision_config=vision,
        text_config=tiny_llama_config(tokenizer),
        image_token_index=tokenizer.convert_tokens_to_ids("<image>"),
        vision_feature_layer=-1,
        vision_feature_select_strategy="default",
    )
    torch.manual_seed(0)
    save_random_model(LlavaForConditionalGeneration(config), tokenizer, specials, folder)
    return folder
