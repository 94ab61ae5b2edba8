"""Knowledge-base construction: merged entities, train-only priors, real encoder vectors."""

import json
from collections import Counter

import pytest
import spacy
from spacy.kb import InMemoryLookupKB

from build_kb import alias_counts, alias_priors, build, entity_vectors, load_entities

EVIDENCE = {"method": "find_string", "query": "Q", "excerpt": "...", "hit_id": "1"}


def write_jsonl(path, records):
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")


@pytest.fixture()
def layers(tmp_path):
    kb_dir, links_dir = tmp_path / "kb", tmp_path / "links"
    kb_dir.mkdir()
    links_dir.mkdir()
    write_jsonl(kb_dir / "entities_1.jsonl", [
        {"qid": "Q1137062", "name": "Jack Ma", "type": "PER", "description": "entrepreneur chinois",
         "aliases": ["Ma"], "evidence": EVIDENCE},
        {"qid": "Q1359568", "name": "Alibaba Group", "type": "ORG", "description": "entreprise chinoise",
         "aliases": ["Alibaba"], "evidence": EVIDENCE}])
    write_jsonl(kb_dir / "entities_2.jsonl", [
        {"qid": "Q1137062", "name": "Jack Ma", "type": "PER", "description": "entrepreneur chinois",
         "aliases": ["Jack Ma"], "evidence": EVIDENCE}])
    # 2016_01_01-001 is train, 2018_01_02-001 is test: test links must not shape the priors.
    write_jsonl(links_dir / "batch_1.jsonl", [
        {"doc_id": "2016_01_01-001", "start": 0, "end": 2, "text": "Ma", "label": "PER", "kb_id": "Q1137062"},
        {"doc_id": "2018_01_02-001", "start": 0, "end": 2, "text": "Ma", "label": "PER", "kb_id": "Q1359568"},
        {"doc_id": "2016_01_01-001", "start": 5, "end": 9, "text": "Wu", "label": "PER", "kb_id": "NIL"}])
    return kb_dir, links_dir


def test_entities_merge_by_qid_and_need_evidence(layers, tmp_path):
    kb_dir, _ = layers
    entities = load_entities(kb_dir)
    assert sorted(entities) == ["Q1137062", "Q1359568"]
    assert entities["Q1137062"]["aliases"] == ["Jack Ma", "Ma"]
    write_jsonl(kb_dir / "entities_3.jsonl", [{"qid": "Q5", "name": "x", "type": "PER", "aliases": []}])
    with pytest.raises(ValueError, match="evidence"):
        load_entities(kb_dir)


def test_priors_come_from_train_links_only(layers):
    kb_dir, links_dir = layers
    entities = load_entities(kb_dir)
    counts = alias_counts(links_dir, entities)
    assert counts == {"Ma": Counter({"Q1137062": 1})}
    priors = alias_priors(entities, counts)
    assert priors["Ma"]["Q1137062"] > 0.9
    assert sum(priors["Alibaba"].values()) <= 1.0


def test_kb_has_encoder_vectors_and_candidates(layers):
    kb_dir, links_dir = layers
    entities = load_entities(kb_dir)
    counts = alias_counts(links_dir, entities)
    vectors = entity_vectors(entities)
    kb = build(entities, alias_priors(entities, counts), counts, vectors, spacy.blank("fr"))
    assert isinstance(kb, InMemoryLookupKB)
    assert kb.get_size_entities() == 2
    assert [c.entity_ for c in kb.get_alias_candidates("Alibaba")] == ["Q1359568"]
    vector = kb.get_vector("Q1137062")
    assert len(vector) == 384 and abs(sum(v * v for v in vector) - 1.0) < 1e-3


def test_surnames_make_people_who_share_them_candidates(layers):
    kb_dir, links_dir = layers
    write_jsonl(kb_dir / "entities_3.jsonl", [
        {"qid": "Q207", "name": "George W. Bush", "type": "PER", "aliases": [], "evidence": EVIDENCE},
        {"qid": "Q23505", "name": "George H. W. Bush", "type": "PER", "aliases": [], "evidence": EVIDENCE},
        {"qid": "Q7", "name": "Bush Records", "type": "ORG", "aliases": [], "evidence": EVIDENCE}])
    entities = load_entities(kb_dir)
    priors = alias_priors(entities, alias_counts(links_dir, entities))
    assert sorted(priors["Bush"]) == ["Q207", "Q23505"]
    assert "Ma" in priors and "Q1359568" not in priors.get("Group", {})


@pytest.mark.parametrize("name,expected", [
    ("Marine Le Pen", "Le Pen"), ("Thomas De Gendt", "De Gendt"), ("Dominique de Villepin", "Villepin"),
    ("Jack Ma", None), ("Emmanuel Macron", "Macron"), ("Madonna", None)])
def test_surname_keeps_capitalised_particles(name, expected):
    from build_kb import surname

    assert surname(name) == expected


def test_a_relinked_mention_counts_once_with_its_new_link(layers):
    kb_dir, links_dir = layers
    # batch_2 re-links the train mention "Ma" from Jack Ma to Alibaba: only the new link counts.
    write_jsonl(links_dir / "batch_2.jsonl", [
        {"doc_id": "2016_01_01-001", "start": 0, "end": 2, "text": "Ma", "label": "PER", "kb_id": "Q1359568"}])
    entities = load_entities(kb_dir)
    assert alias_counts(links_dir, entities) == {"Ma": Counter({"Q1359568": 1})}
