"""A tiny run of the whole path: corpus -> training (3 steps) -> evaluation -> wheel -> fresh venv.

The pipeline is the default one (converted e5 transformer + NER), trained on a handful of
articles, so its predictions are poor; what is checked is that each stage works and that
the installed wheel reproduces the trained pipeline exactly, with no project files around.
"""

import json
import os
import subprocess
import sys
import venv
from pathlib import Path

import pytest
import spacy
from spacy.tokens import DocBin

from conftest import ROOT, WINER_DIR, converted_transformer_path
from corpus_rules import LABELS

SENTENCE = "Le groupe chinois Alibaba investira 50 milliards de dollars à Hangzhou, a dit Jack Ma."


def run(*args: str, cwd: Path = ROOT) -> None:
    subprocess.run([sys.executable, *args], cwd=cwd, check=True)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("e2e")


@pytest.fixture(scope="module")
def tiny_corpus(workdir: Path) -> Path:
    run("scripts/convert_corpus.py", str(WINER_DIR), "annotations", str(workdir / "articles.spacy"),
        "--report", str(workdir / "report.json"))
    run("scripts/split_corpus.py", str(workdir / "articles.spacy"), str(workdir))
    nlp = spacy.blank("fr")
    sizes = {"train": 6, "dev": 2, "test": 3}
    for split, size in sizes.items():
        docs = list(DocBin().from_disk(workdir / f"{split}.spacy").get_docs(nlp.vocab))
        # The shortest articles that still hold MONEY or POLICY_EVENT keep the run fast.
        docs.sort(key=lambda d: (not any(e.label_ in ("MONEY", "POLICY_EVENT") for e in d.ents), len(d)))
        DocBin(docs=docs[:size], store_user_data=True).to_disk(workdir / f"tiny_{split}.spacy")
    return workdir


@pytest.fixture(scope="module")
def trained(tiny_corpus: Path) -> Path:
    output = tiny_corpus / "training"
    run("-m", "spacy", "train", "configs/transformer_cpu.cfg", "--output", str(output),
        "--paths.train", str(tiny_corpus / "tiny_train.spacy"), "--paths.dev", str(tiny_corpus / "tiny_dev.spacy"),
        "--paths.transformer", str(converted_transformer_path()), "--training.max_steps", "3",
        "--training.eval_frequency", "3", "--training.batcher.size", "1000", "--code", "scripts/custom_functions.py")
    return output / "model-last"


def test_training_learns_every_label(trained: Path):
    meta = json.loads((trained / "meta.json").read_text())
    assert set(meta["labels"]["ner"]) == set(LABELS)


def test_frozen_word_embeddings_are_unchanged(trained: Path):
    from safetensors.numpy import load_file

    sys.path.insert(0, str(ROOT / "scripts"))
    spacy.util.import_file("custom_functions", ROOT / "scripts" / "custom_functions.py")
    nlp = spacy.load(trained)
    from custom_functions import _torch_models

    hf_model = next(_torch_models(nlp.get_pipe("transformer").model))
    trained_embeddings = hf_model.get_input_embeddings().weight.detach().numpy()
    original = load_file(str(converted_transformer_path() / "model.safetensors"))
    assert (trained_embeddings == original["embeddings.word_embeddings.weight"]).all()
    trained_layer = hf_model.encoder.layer[11].output.dense.weight.detach().numpy()
    assert not (trained_layer == original["encoder.layer.11.output.dense.weight"]).all()


def test_evaluation_and_report(trained: Path, tiny_corpus: Path):
    metrics_path = tiny_corpus / "metrics.json"
    predictions = tiny_corpus / "predictions.spacy"
    run("scripts/evaluate.py", str(trained), str(tiny_corpus / "tiny_test.spacy"), str(metrics_path),
        "--predictions", str(predictions), "--code", "scripts/custom_functions.py")
    metrics = json.loads(metrics_path.read_text())
    assert set(metrics["ner"]["all"]) >= {"PER", "ORG", "LOC", "overall"}
    assert metrics["test_articles"] == 3
    baseline = metrics["baseline_fr_core_news_md"]["all"]
    assert set(baseline) == {"PER", "ORG", "LOC", "overall"}
    assert baseline["overall"]["f"] > 0.3  # fr_core_news_md finds entities on any article
    assert metrics["speed"]["words_per_second"] > 0
    reports = tiny_corpus / "reports"
    run("scripts/report.py", str(metrics_path), str(predictions), str(trained), "seeds/alibaba-ia-cloud-2025.jsonl",
        str(reports), "--code", "scripts/custom_functions.py")
    twin = json.loads((reports / "metrics.json").read_text())
    assert set(twin) == {"ner", "baseline_fr_core_news_md", "linking", "speed"}
    assert twin["ner"]["overall"]["f"] == metrics["ner"]["all"]["overall"]["f"]
    markdown = (reports / "evaluation.md").read_text()
    for section in ("Scores per label", "boundary versus type", "fr_core_news_md", "seed article", "Speed"):
        assert section in markdown
    assert "Alibaba" in (reports / "evaluation.html").read_text()


def test_wheel_installs_and_loads_in_a_fresh_environment(trained: Path, tiny_corpus: Path):
    packages = tiny_corpus / "packages"
    run("scripts/package.py", str(trained), str(packages), "--name", "news_ner_e2e", "--version", "0.0.1",
        "--code", "scripts/custom_functions.py")
    wheel = next(packages.glob("*/dist/fr_news_ner_e2e-0.0.1-py3-none-any.whl"))
    env_dir = tiny_corpus / "fresh-venv"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    subprocess.run([python, "-m", "pip", "install", "--quiet", "torch==2.13.0", str(wheel)], check=True)
    expected = [(e.start_char, e.end_char, e.label_) for e in _load_trained(trained)(SENTENCE).ents]
    script = ("import json, spacy; nlp = spacy.load('fr_news_ner_e2e'); "
              f"doc = nlp({SENTENCE!r}); "
              "print(json.dumps([[e.start_char, e.end_char, e.label_] for e in doc.ents]))")
    outside = tiny_corpus / "elsewhere"
    outside.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    result = subprocess.run([python, "-c", script], cwd=outside, env=env, capture_output=True, text=True, check=True)
    assert [tuple(e) for e in json.loads(result.stdout.strip().splitlines()[-1])] == expected


def _load_trained(path: Path):
    spacy.util.import_file("custom_functions", ROOT / "scripts" / "custom_functions.py")
    return spacy.load(path)
