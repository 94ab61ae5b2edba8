"""Validation: one broken file per error kind; the message is located and the valid articles get through."""

import json

import pytest
import spacy
from spacy.tokens import Doc, DocBin

from article_format import (
    Candidate,
    Location,
    StrictModeError,
    Validator,
    canonical_label,
    read_articles,
    to_char_spans,
    validate,
)
from check_splits import id_clashes, load_splits, near_duplicates
from conftest import ROOT
from importers import import_items
from spans_to_docs import build_doc

BROKEN = ROOT / "tests" / "fixtures" / "broken"
GOOD = {"2019_04_01-good-1": 5, "2019_04_02-good-2": 3, "2019_04_03-good-3": 3}  # id -> valid spans


@pytest.fixture(scope="module")
def nlp():
    return spacy.blank("fr")


ARTICLE_ERRORS = [  # file, kind, words of the reason
    ("invalid_json", "invalid_json", "Expecting value"),
    ("not_an_object", "not_an_object", "got list"),
    ("missing_id", "missing_id", "non-empty string 'id'"),
    ("missing_text", "missing_text", "no 'text'"),
    ("empty_article", "empty_article", "empty or only whitespace"),
    ("duplicate_id", "duplicate_id", "already used at " + str(BROKEN / "duplicate_id.jsonl") + ":1"),
    ("bad_metadata", "bad_metadata", "'04/02/2019' is not YYYY-MM-DD"),
    ("malformed_spans", "malformed_spans", "must be a list"),
]
SPAN_ERRORS = [
    ("malformed_span", "malformed_span", "must be integers"),
    ("unknown_label", "unknown_label", "'MISC' is none of PER, ORG, LOC, MONEY, POLICY_EVENT"),
    ("offsets_out_of_range", "offsets_out_of_range", "50-80 is outside the text (length 55)"),
    ("empty_span", "empty_span", "start 20 is not before end 20"),
    ("whitespace_only", "empty_span", "holds only whitespace"),
    ("text_mismatch", "text_mismatch", "text[45:54] is 'Marseille', the span says 'Marseile'"),
    ("inside_word", "inside_word", "end 49 cuts the token 'Marseille' (45-54) inside a word, between 's' and 'e'"),
    ("overlap", "overlap", "overlaps 18-32 POLICY_EVENT 'la loi Travail', which is kept"),
    ("kb_id_not_allowed", "kb_id_not_allowed", "LOC takes no kb_id (only PER, ORG), got 'Q23482'"),
    ("malformed_qid", "malformed_qid", "'wd:Q42' is neither NIL nor a Wikidata QID"),
]


@pytest.mark.parametrize("name,kind,words", ARTICLE_ERRORS)
def test_a_bad_article_is_rejected_alone(nlp, name, kind, words):
    v = validate(read_articles(BROKEN / f"{name}.jsonl"), nlp)
    [finding] = v.findings
    assert (finding.action, finding.kind, finding.location.line) == ("article_rejected", kind, 2)
    assert words in finding.reason and f"{BROKEN / name}.jsonl:2" in finding.message()
    assert finding.data is not None  # the article (or raw line) is in the report: nothing lost
    assert [a["id"] for a in v.kept] == ["2019_04_01-good-1", "2019_04_03-good-3"]


@pytest.mark.parametrize("name,kind,words", SPAN_ERRORS)
def test_a_bad_span_is_rejected_alone(nlp, name, kind, words):
    v = validate(read_articles(BROKEN / f"{name}.jsonl"), nlp)
    [finding] = v.findings
    assert (finding.action, finding.kind, finding.location.line) == ("span_rejected", kind, 2)
    assert words in finding.reason, finding.reason
    assert finding.location.article_id == "2019_04_02-good-2" and finding.span is not None
    assert {a["id"]: len(a["spans"]) for a in v.kept} == GOOD
    for article in v.kept:  # what is kept builds a Doc
        build_doc(nlp, article["text"], [])


def test_importer_specific_errors_keep_the_other_documents(nlp):
    tags = validate(import_items("conll", BROKEN / "malformed_tag.conll"), nlp)
    assert [a["id"] for a in tags.kept] == ["malformed_tag-0001", "malformed_tag-0003"]
    [finding] = tags.findings
    assert finding.kind == "malformed_tag" and "line 4" in finding.reason and "'Lyon\\tLOC'" in finding.reason
    whole = validate(import_items("labelstudio", BROKEN / "labelstudio_invalid.json"), nlp)
    assert [(f.action, f.kind) for f in whole.findings] == [("file_rejected", "invalid_json")]


@pytest.mark.parametrize("path", sorted(BROKEN.glob("*.jsonl")), ids=lambda p: p.stem)
def test_every_input_span_is_kept_or_reported(nlp, path):
    v = validate(read_articles(path), nlp)
    given = 0
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue
        spans = record.get("spans") if isinstance(record, dict) else None
        given += len(spans) if isinstance(spans, list) else 0
    summary = v.summary()
    assert given == summary["spans_kept"] + summary["spans_rejected"] + summary["spans_in_rejected_articles"]
    assert len(v.report_records()) == summary["articles_rejected"] + summary["spans_rejected"]


def test_strict_mode_fails_on_the_first_problem(nlp):
    with pytest.raises(StrictModeError) as error:
        validate(read_articles(BROKEN / "inside_word.jsonl"), nlp, strict=True)
    assert str(error.value).startswith(f"{BROKEN / 'inside_word.jsonl'}:2 [article 2019_04_02-good-2] span 45-49 LOC")


def article(text: str, *spans: dict) -> dict:
    return {"id": "a", "text": text, "spans": list(spans)}


def check(nlp, record: dict) -> Validator:
    return Validator(nlp).run([Candidate(record, Location("test.jsonl", 1))])


def test_a_cut_at_punctuation_is_accepted_and_counted(nlp):
    text = "Manifestation anti-Macron à Paris."
    v = check(nlp, article(text, {"start": 19, "end": 25, "label": "PER", "text": "Macron"}))
    assert [a["spans"][0]["text"] for a in v.kept] == ["Macron"]
    [note] = v.findings
    assert note.action == "token_split" and "'anti-Macron' (14-25)" in note.reason
    assert v.summary()["token_splits"] == 1
    doc = build_doc(nlp, text, to_char_spans(v.kept[0])).doc
    assert [e.text for e in doc.ents] == ["Macron"]


def test_edge_spaces_are_trimmed_and_reported(nlp):
    text = "Le budget coûte 12\u00a0milliards d’euros\u202f!"
    v = check(nlp, article(text, {"start": 16, "end": 37, "label": "MONEY"}))
    assert v.kept[0]["spans"] == [{"start": 16, "end": 36, "label": "MONEY", "text": "12\u00a0milliards d’euros"}]
    assert [(f.action, f.kind) for f in v.findings] == [("fixed", "trimmed")]


def test_crlf_counted_offsets_are_remapped_when_the_span_text_proves_it(nlp):
    text = "Titre\r\nÀ Genève, l’OMS alerte."
    v = check(nlp, article(text, {"start": 18, "end": 21, "label": "ORG", "text": "OMS"}))  # "\r\n" counted as 1
    assert v.kept[0]["spans"][0]["start"] == 19
    assert [(f.kind, f.reason) for f in v.findings] == [
        ("offsets_remapped", "18-21 were counted with \\r\\n as one character; now 19-22")]


def test_prodigy_rejected_answers_are_ignored_not_errors(nlp):
    v = check(nlp, {**article("Paris."), "answer": "reject"})
    assert v.kept == [] and [(f.action, f.kind) for f in v.findings] == [("ignored", "not_accepted")]


@pytest.mark.parametrize("label,expected", [("Person", "PER"), ("PERSON", "PER"), ("per", "PER"),
                                            ("Organization", "ORG"), ("gpe", "LOC"), ("policy-event", "POLICY_EVENT"),
                                            ("MISC", None), ("Date", None)])
def test_label_spellings(label, expected):
    assert canonical_label(label) == expected


@pytest.mark.parametrize("kb_id,ok", [("Q42", True), ("NIL", True), ("Q0", False), ("nil", False), ("Q42 ", False)])
def test_qids(nlp, kb_id, ok):
    v = check(nlp, article("Douglas Adams écrit.", {"start": 0, "end": 13, "label": "PER", "kb_id": kb_id}))
    assert len(v.kept[0]["spans"]) == int(ok)


def write_split(path, vocab, records):
    docs = []
    for doc_id, text in records:
        doc = Doc(vocab, words=text.split())
        doc.user_data["doc_id"] = doc_id
        docs.append(doc)
    DocBin(docs=docs, store_user_data=True).to_disk(path)


def test_check_splits_finds_id_clashes_and_near_duplicates(tmp_path, nlp):
    story = ("le gouvernement a présenté mardi un plan de relance de dix milliards d euros pour soutenir "
             "les entreprises touchées par la crise sanitaire selon le ministre de l économie")
    update = story + " le parlement doit voter le texte la semaine prochaine"
    write_split(tmp_path / "train.spacy", nlp.vocab, [("2017_01_01-001", story), ("2017_01_02-001", "autre chose")])
    write_split(tmp_path / "dev.spacy", nlp.vocab, [("2017_01_02-001", "un texte différent sans rapport")])
    write_split(tmp_path / "test.spacy", nlp.vocab, [("2018_01_03-001", update)])
    articles = load_splits(tmp_path)
    assert id_clashes(articles) == [{"doc_id": "2017_01_02-001", "splits": ["train", "dev"]}]
    [pair] = near_duplicates(articles)
    assert pair["pair"] == [["train", "2017_01_01-001"], ["test", "2018_01_03-001"]]
    assert pair["jaccard"] >= 0.5 and pair["containment"] == 1.0 and not pair["exact"]
