"""Convert the real WiNER-fr corpus and check that no span is lost without a report."""

import json
import subprocess
import sys
from collections import Counter

import pytest
import spacy
from spacy.tokens import DocBin

from conftest import ROOT, WINER_DIR
from corpus_rules import WINER_TYPE_TO_LABEL, split_of
from project_layers import load_layers


@pytest.fixture(scope="session")
def converted(tmp_path_factory):
    out = tmp_path_factory.mktemp("corpus")
    subprocess.run([sys.executable, "scripts/convert_corpus.py", str(WINER_DIR), "annotations",
                    str(out / "articles.spacy"), "--report", str(out / "report.json")], cwd=ROOT, check=True)
    subprocess.run([sys.executable, "scripts/split_corpus.py", str(out / "articles.spacy"), str(out)],
                   cwd=ROOT, check=True)
    return out


def test_every_kept_winer_span_is_in_the_corpus_or_reported(converted):
    report = json.loads((converted / "report.json").read_text())
    kept_types = Counter()
    for ann in WINER_DIR.glob("*/*/*.ann"):
        for line in ann.read_text(encoding="utf-8").splitlines():
            if line.startswith("T") and line.split("\t")[1].split(" ")[0] in WINER_TYPE_TO_LABEL:
                kept_types["winer"] += 1
    layers = load_layers(ROOT / "annotations")
    deleted = sum(1 for fix in layers.corrections.values() if fix["action"] == "delete")
    in_corpus = sum(report.get(f"entities_{label}", 0) for label in WINER_TYPE_TO_LABEL.values())
    accounted = in_corpus + report["winer_spans_dropped_nested"] + report["winer_spans_replaced_by_project"] + deleted
    added = report["spans_added_by_corrections"]  # the spans WiNER missed, added by corrections
    assert added == sum(len(spans) for spans in layers.additions.values())
    relabelled_away = kept_types["winer"] + added - accounted
    # Corrections may relabel a Product/Event into PER/ORG/LOC or the reverse: a handful at most.
    assert abs(relabelled_away) <= sum(1 for f in layers.corrections.values() if "label" in f)
    assert report["articles"] == 1191


def test_splits_are_disjoint_and_follow_the_rule(converted):
    nlp = spacy.blank("fr")
    seen = {}
    for split in ("train", "dev", "test"):
        for doc in DocBin().from_disk(converted / f"{split}.spacy").get_docs(nlp.vocab):
            doc_id = doc.user_data["doc_id"]
            assert doc_id not in seen
            assert split_of(doc_id) == split
            seen[doc_id] = split
    assert len(seen) == 1191
    assert sum(1 for s in seen.values() if s == "test") == 227
