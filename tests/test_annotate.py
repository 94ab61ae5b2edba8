"""The annotate command on a tiny pipeline trained in seconds (blank fr + NER + ruler + money)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
import spacy
from spacy.tokens import Span
from spacy.training import Example
from typer.testing import CliRunner

import money_normalizer  # noqa: F401  (registers the factory the fixture adds)
from annotate import app, entity_json
from conftest import ROOT
from corpus_rules import LABELS

GOOD = "Alibaba a levé 52,5 milliards de dollars à Hangzhou, a dit Jack Ma."
TRAIN = [
    ("Alibaba investira 50 milliards de dollars à Hangzhou.",
     [(0, 7, "ORG"), (18, 41, "MONEY"), (44, 52, "LOC")]),
    ("Jack Ma a annoncé la réforme des retraites à Paris.", [(0, 7, "PER"), (21, 42, "POLICY_EVENT"), (45, 50, "LOC")]),
]


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory) -> Path:
    """NER trained for a few steps; a ruler after it makes the MONEY and ORG entities certain."""
    spacy.util.fix_random_seed(0)
    nlp = spacy.blank("fr")
    ner = nlp.add_pipe("ner")
    for label in LABELS:
        ner.add_label(label)
    ruler = nlp.add_pipe("entity_ruler", config={"overwrite_ents": True})
    nlp.add_pipe("money_normalizer")
    examples = [Example.from_dict(nlp.make_doc(text), {"entities": ents}) for text, ents in TRAIN]
    optimizer = nlp.initialize(lambda: examples)
    for _ in range(5):
        nlp.update(examples, sgd=optimizer)
    ruler.add_patterns([  # after initialize, which clears the ruler
        {"label": "MONEY", "pattern": [{"TEXT": "52,5"}, {"LOWER": "milliards"}, {"LOWER": "de"},
                                       {"LOWER": "dollars"}]},
        {"label": "ORG", "pattern": "Alibaba"},
    ])
    path = tmp_path_factory.mktemp("pipeline") / "tiny"
    nlp.to_disk(path)
    return path


def annotate(*args: str | Path) -> tuple[int, str]:
    result = CliRunner().invoke(app, [str(arg) for arg in args])
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.output


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def money_of(document: dict) -> dict:
    return next(e for e in document["entities"] if e["label"] == "MONEY")


def test_txt_file(pipeline: Path, tmp_path: Path):
    (tmp_path / "article.txt").write_text(GOOD, encoding="utf-8")
    code, output = annotate(pipeline, tmp_path / "article.txt", tmp_path / "out.jsonl", "--include-text")
    assert code == 0
    assert "Annotated 1 documents" in output
    [document] = read_jsonl(tmp_path / "out.jsonl")
    assert list(document) == ["id", "source", "text", "meta", "entities"]
    assert (document["id"], document["source"], document["text"]) == ("article", str(tmp_path / "article.txt"), GOOD)
    for entity in document["entities"]:
        assert set(entity) == {"start", "end", "label", "text", "kb_id", "kb_score", "amount", "amount_range",
                               "currency"}
        assert GOOD[entity["start"]:entity["end"]] == entity["text"]
        assert entity["kb_id"] is None and entity["kb_score"] is None  # no linker in this pipeline
    money = money_of(document)
    assert (money["text"], money["amount"], money["currency"]) == ("52,5 milliards de dollars", "52500000000", "USD")
    assert read_jsonl(tmp_path / "out.errors.jsonl") == []


def test_folder_with_bad_inputs(pipeline: Path, tmp_path: Path):
    folder = tmp_path / "in"
    (folder / "sub").mkdir(parents=True)
    (folder / "a.txt").write_text(GOOD, encoding="utf-8")
    (folder / "sub" / "b.txt").write_text("Jack Ma à Paris.", encoding="utf-8")
    (folder / "latin1.txt").write_bytes("Premiere ligne\nCafé à 3 €".encode("cp1252"))
    (folder / "notes.csv").write_text("ignored", encoding="utf-8")
    (folder / "batch.jsonl").write_text("\n".join([
        json.dumps({"id": "x1", "text": GOOD, "date": "2018-12-01"}),
        '{"id": "x2", "text": "unterminated',
        json.dumps({"id": "x3", "title": "no text"}),
        "",
        json.dumps({"text": "Sans identifiant."}),
    ]) + "\n", encoding="utf-8")
    code, output = annotate(pipeline, folder, tmp_path / "out.jsonl", "--batch-size", "2")
    assert code == 0
    documents = {d["id"]: d for d in read_jsonl(tmp_path / "out.jsonl")}
    assert set(documents) == {"a", "sub/b", "x1", "batch:5"}
    assert documents["x1"]["meta"] == {"date": "2018-12-01"}
    assert documents["x1"]["source"] == f"{folder / 'batch.jsonl'}:1"
    assert money_of(documents["x1"])["amount"] == "52500000000"
    errors = {(Path(e["source"]).name, e["line"]): e["reason"] for e in read_jsonl(tmp_path / "out.errors.jsonl")}
    assert set(errors) == {("batch.jsonl", 2), ("batch.jsonl", 3), ("latin1.txt", 2)}
    assert errors[("batch.jsonl", 2)].startswith("invalid JSON")
    assert "text" in errors[("batch.jsonl", 3)]
    assert errors[("latin1.txt", 2)].startswith("not UTF-8")
    assert f"{folder / 'batch.jsonl'}:2" in output  # reported on stderr too
    assert "Annotated 4 documents" in output and "skipped 3 inputs" in output


def test_nothing_annotated_exits_1(pipeline: Path, tmp_path: Path):
    (tmp_path / "bad.jsonl").write_text("not json\n", encoding="utf-8")
    errors = tmp_path / "logs" / "errors.jsonl"
    code, _ = annotate(pipeline, tmp_path / "bad.jsonl", tmp_path / "out.jsonl", "--errors", errors)
    assert code == 1
    assert read_jsonl(tmp_path / "out.jsonl") == []
    assert [e["line"] for e in read_jsonl(errors)] == [1]
    assert annotate(pipeline, tmp_path / "missing", tmp_path / "out2.jsonl")[0] == 1


def test_money_normalizer_added_when_missing(pipeline: Path, tmp_path: Path):
    nlp = spacy.load(pipeline)
    nlp.remove_pipe("money_normalizer")
    nlp.to_disk(tmp_path / "no_money")
    (tmp_path / "article.txt").write_text(GOOD, encoding="utf-8")
    annotate(tmp_path / "no_money", tmp_path / "article.txt", tmp_path / "added.jsonl")
    annotate(tmp_path / "no_money", tmp_path / "article.txt", tmp_path / "plain.jsonl", "--no-add-money")
    assert money_of(read_jsonl(tmp_path / "added.jsonl")[0])["currency"] == "USD"
    assert money_of(read_jsonl(tmp_path / "plain.jsonl")[0])["amount"] is None


def test_linked_entity_fields():
    doc = spacy.blank("fr")("Alibaba et Jack Ma")
    Span.set_extension("kb_score", default=None, force=True)
    try:
        linked, nil = Span(doc, 0, 1, label="ORG", kb_id="Q1359568"), Span(doc, 2, 4, label="PER", kb_id="NIL")
        linked._.kb_score = 0.75
        assert (entity_json(linked)["kb_id"], entity_json(linked)["kb_score"]) == ("Q1359568", 0.75)
        assert (entity_json(nil)["kb_id"], entity_json(nil)["amount"]) == (None, None)
    finally:
        Span.remove_extension("kb_score")


@pytest.mark.parametrize("entry", [["scripts/annotate.py"], ["-m", "scripts.annotate"]])
def test_command_line_entry_points(pipeline: Path, tmp_path: Path, entry: list[str]):
    (tmp_path / "docs.jsonl").write_text(json.dumps({"id": 7, "text": GOOD}) + "\n", encoding="utf-8")
    subprocess.run([sys.executable, *entry, str(pipeline), str(tmp_path / "docs.jsonl"), str(tmp_path / "out.jsonl"),
                    "--code", "scripts/money_normalizer.py"], cwd=ROOT, check=True, capture_output=True)
    [document] = read_jsonl(tmp_path / "out.jsonl")
    assert document["id"] == 7
    assert money_of(document)["amount"] == "52500000000"
