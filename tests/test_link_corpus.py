"""The links layer goes onto the split corpora apart from the NER corpus, with overrides."""

import json

import spacy
from spacy.tokens import Doc, DocBin, Span

from link_corpus import main as link_corpus
from project_layers import load_links

TEXT = "Jack Ma a fondé Alibaba avec Wu à Hangzhou."


def gold_doc(nlp) -> Doc:
    doc = nlp.make_doc(TEXT)
    doc.ents = [Span(doc, 0, 2, label="PER"), Span(doc, 4, 5, label="ORG"), Span(doc, 6, 7, label="PER"),
                Span(doc, 8, 9, label="LOC")]
    doc.user_data["doc_id"] = "2016_01_01-001"
    return doc


def write_jsonl(path, records):
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")


def test_links_with_overrides_reach_the_linked_corpus_only(tmp_path):
    nlp = spacy.blank("fr")
    corpus, links, output = tmp_path / "corpus", tmp_path / "links", tmp_path / "linked"
    corpus.mkdir()
    links.mkdir()
    for split in ("train", "dev", "test"):
        DocBin(docs=[gold_doc(nlp)], store_user_data=True).to_disk(corpus / f"{split}.spacy")
    doc_id = "2016_01_01-001"
    write_jsonl(links / "batch_1.jsonl", [
        {"doc_id": doc_id, "start": 0, "end": 7, "text": "Jack Ma", "label": "PER", "kb_id": "NIL"},
        {"doc_id": doc_id, "start": 16, "end": 23, "text": "Alibaba", "label": "ORG", "kb_id": "Q1359568"}])
    # A later file re-links Jack Ma; "Wu" has no link record at all.
    write_jsonl(links / "batch_2.jsonl", [
        {"doc_id": doc_id, "start": 0, "end": 7, "text": "Jack Ma", "label": "PER", "kb_id": "Q1137062"}])
    assert load_links(links)[(doc_id, 0, 7)] == "Q1137062"
    link_corpus(corpus, links, output)
    linked = next(DocBin().from_disk(output / "train.spacy").get_docs(nlp.vocab))
    assert [(e.text, e.label_, e.kb_id_) for e in linked.ents] == [
        ("Jack Ma", "PER", "Q1137062"), ("Alibaba", "ORG", "Q1359568"), ("Wu", "PER", ""), ("Hangzhou", "LOC", "")]
    original = next(DocBin().from_disk(corpus / "train.spacy").get_docs(nlp.vocab))
    assert {e.kb_id_ for e in original.ents} == {""}
    report = json.loads((output / "link_report.json").read_text())
    assert report["train"] == {"no_link_record": 1, "qid": 2}


def test_batch_11_overrides_batch_2(tmp_path):
    doc_id = "2016_01_01-001"
    record = {"doc_id": doc_id, "start": 0, "end": 7, "text": "Jack Ma", "label": "PER"}
    write_jsonl(tmp_path / "batch_1.jsonl", [{**record, "kb_id": "NIL"}])
    write_jsonl(tmp_path / "batch_2.jsonl", [{**record, "kb_id": "Q1"}])
    write_jsonl(tmp_path / "batch_11.jsonl", [{**record, "kb_id": "Q1137062"}])
    assert load_links(tmp_path)[(doc_id, 0, 7)] == "Q1137062"
