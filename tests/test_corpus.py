"""Conversion of annotated text into Docs, the split rule and the WiNER mapping."""

import hashlib

import pytest
import spacy

from convert_corpus import outermost, read_brat, trim_whitespace
from corpus_rules import is_live_blog, split_of
from spans_to_docs import CharSpan, build_doc


@pytest.fixture(scope="module")
def nlp():
    return spacy.blank("fr")


def test_spans_keep_exact_offsets_when_tokens_must_be_split(nlp):
    text = "L’ONU et l'Élysée ont reçu 1\u00a0500\u00a0€ d’Alibaba."
    spans = [CharSpan(text.index("ONU"), text.index("ONU") + 3, "ORG"),
             CharSpan(text.index("Élysée"), text.index("Élysée") + 6, "LOC"),
             CharSpan(text.index("1\u00a0500"), text.index("€") + 1, "MONEY"),
             CharSpan(text.index("Alibaba"), text.index("Alibaba") + 7, "ORG", kb_id="Q1359568")]
    conversion = build_doc(nlp, text, spans)
    doc = conversion.doc
    assert doc.text == text
    assert [(e.start_char, e.end_char, e.label_) for e in doc.ents] == [(s.start, s.end, s.label) for s in spans]
    assert doc.ents[-1].kb_id_ == "Q1359568"


def test_token_splits_are_reported(nlp):
    text = "Les ChinoisAlibaba partent."
    start = text.index("Alibaba")
    conversion = build_doc(nlp, text, [CharSpan(start, start + 7, "ORG")])
    assert conversion.split_tokens == [{"token": "ChinoisAlibaba", "start": 4, "cuts": [start]}]
    assert conversion.doc.ents[0].text == "Alibaba"


def test_outermost_span_wins_and_the_inner_one_is_reported():
    spans = [{"id": "T1", "start": 0, "end": 25, "label": "ORG"},
             {"id": "T2", "start": 19, "end": 25, "label": "LOC"},
             {"id": "T3", "start": 30, "end": 35, "label": "PER"}]
    kept, dropped = outermost(spans)
    assert [s["id"] for s in kept] == ["T1", "T3"]
    assert dropped[0]["id"] == "T2" and dropped[0]["reason"] == "nested in T1"


def test_edge_format_marks_are_trimmed():
    text = "Jimmy Wales\u200f a dit"
    span = trim_whitespace(text, {"start": 0, "end": 12, "label": "PER"})
    assert (span["start"], span["end"], span["trimmed"]) == (0, 11, True)


def test_read_brat(tmp_path):
    ann = tmp_path / "doc.ann"
    ann.write_text("T1\tPerson 0 5\tJules\nT2\tLocation 9 14;15 20\tParis Texas\n#1\tAnnotatorNotes T1\tx\n")
    assert [(a["id"], a["type"], a["start"], a["end"]) for a in read_brat(ann)] == [
        ("T1", "Person", 0, 5), ("T2", "Location", 9, 20)]


@pytest.mark.parametrize("doc_id", ["2016_01_01-001", "2017_06_30-002", "2016_12_31-001"])
def test_split_rule(doc_id):
    expected = "dev" if int(hashlib.sha1(doc_id.encode()).hexdigest(), 16) % 10 == 0 else "train"
    assert split_of(doc_id) == expected
    assert split_of("2018" + doc_id[4:]) == "test"


def test_live_blog_titles():
    assert is_live_blog("Gilets jaunes : samedi 1er décembre 2018\n\ntexte")
    assert is_live_blog("Gilets jaunes : lundi 31 décembre 2018\n")
    assert not is_live_blog('"Gilets jaunes" : troisième week-end de mobilisation\n')
