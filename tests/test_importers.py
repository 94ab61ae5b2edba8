"""Each importer reads its tool's export into articles that round-trip to a DocBin with exact offsets."""

import json

import pytest
import spacy
import typer
from spacy.tokens import DocBin
from typer.testing import CliRunner

import convert_corpus
import import_annotations
from article_format import to_char_spans, validate
from conftest import ROOT, WINER_DIR
from importers import import_items
from spans_to_docs import build_doc

FIXTURES = ROOT / "tests" / "fixtures" / "importers"


@pytest.fixture(scope="module")
def nlp():
    return spacy.blank("fr")


def run(nlp, fmt: str, name: str):
    return validate(import_items(fmt, FIXTURES / name), nlp)


def assert_round_trip(nlp, articles: list[dict]) -> None:
    """Articles -> build_doc -> DocBin bytes -> Docs: same text, same spans, same offsets."""
    docs = [build_doc(nlp, article["text"], to_char_spans(article)).doc for article in articles]
    restored = list(DocBin(docs=docs, store_user_data=True).from_bytes(
        DocBin(docs=docs, store_user_data=True).to_bytes()).get_docs(nlp.vocab))
    assert len(restored) == len(articles)
    for doc, article in zip(restored, articles, strict=True):
        assert doc.text == article["text"]
        got = [(e.start_char, e.end_char, e.label_, e.kb_id_, e.text) for e in doc.ents]
        want = [(s["start"], s["end"], s["label"], s.get("kb_id", ""), s["text"]) for s in article["spans"]]
        assert got == want
        assert all(article["text"][s["start"]:s["end"]] == s["text"] for s in article["spans"])


def spans_of(article: dict) -> list[tuple[str, str, str]]:
    return [(s["label"], s["text"], s.get("kb_id", "")) for s in article["spans"]]


def kinds(validator) -> list[tuple[str, str]]:
    return [(f.action, f.kind) for f in validator.findings]


def test_prodigy_keeps_accepted_tasks_only(nlp):
    assert (FIXTURES / "prodigy.jsonl").read_bytes().count(b"\r\n") == 5  # Windows line endings
    v = run(nlp, "prodigy", "prodigy.jsonl")
    assert [a["id"] for a in v.kept] == ["2019_01_15-prodigy-001", "prodigy-102", "2019_01_16-prodigy-003"]
    first = v.kept[0]
    assert "\r\n" in first["text"] and first["date"] == "2019-01-15" and first["title"] == "Plan de relance"
    assert spans_of(first) == [("PER", "Emmanuel Macron", "Q3052772"), ("ORG", "ONU", "Q1065"),
                               ("POLICY_EVENT", "plan de relance", ""), ("MONEY", "1\u00a0500\u202f€", ""),
                               ("LOC", "Bruxelles", "")]
    assert spans_of(v.kept[1])[1] == ("LOC", "Montréal", "")  # "Location" mapped
    assert [(f.kind, f.location.line) for f in v.findings] == [("not_accepted", 4), ("not_accepted", 5)]
    assert_round_trip(nlp, v.kept)


def test_labelstudio_takes_the_latest_annotation_and_fixes_utf16_offsets(nlp):
    v = run(nlp, "labelstudio", "labelstudio.json")
    assert [a["id"] for a in v.kept] == ["2019_02_01-ls-001", "2019_02_05-ls-002"]
    assert "\r\n" in v.kept[0]["text"]
    assert spans_of(v.kept[0]) == [("LOC", "Nîmes", ""), ("ORG", "CGT", ""),
                                   ("POLICY_EVENT", "réforme des retraites", ""), ("PER", "Élisabeth Borne", "")]
    assert v.kept[0]["meta"]["annotation"] == 2
    # an old Label Studio counted JavaScript UTF-16 units: after the flag emoji, offsets are 2 too high
    assert spans_of(v.kept[1]) == [("PER", "Thierry Breton", ""), ("LOC", "Bruxelles", ""),
                                   ("MONEY", "2\u00a0milliards d’euros", "")]
    assert kinds(v) == [("ignored", "not_accepted"), ("ignored", "superseded"), ("ignored", "not_a_span"),
                        ("fixed", "offsets_remapped"), ("fixed", "offsets_remapped"), ("fixed", "offsets_remapped"),
                        ("ignored", "not_accepted")]
    assert v.findings[-1].location.where == "task 3"
    assert_round_trip(nlp, v.kept)


@pytest.mark.parametrize("name,expected", [
    ("doccano_label.jsonl", {"doccano_label-1": [("ORG", "Conseil d'État", ""), ("PER", "Gérald Darmanin", ""),
                                                 ("LOC", "Lyon", "")],
                             "doccano_label-2": []}),
    ("doccano_entities.jsonl", {"doccano_entities-7": [("ORG", "Banque centrale européenne", ""),
                                                       ("PER", "Christine Lagarde", ""),
                                                       ("LOC", "Francfort-sur-le-Main", "")]}),
])
def test_doccano_both_variants(nlp, name, expected):
    v = run(nlp, "doccano", name)
    assert {a["id"]: spans_of(a) for a in v.kept} == expected
    assert all(f.kind == "not_a_span" for f in v.findings)  # the relation of the entities variant
    assert_round_trip(nlp, v.kept)


def test_brat_keeps_crlf_offsets_and_wikidata_links(nlp):
    v = run(nlp, "brat", "brat")
    assert [a["id"] for a in v.kept] == ["2019_03_01-brat-001", "2019_03_04-brat-002"]
    first = v.kept[0]
    assert first["text"].count("\r\n") == 2 and first["date"] == "2019-03-01"
    assert spans_of(first) == [("PER", "Édouard Philippe", "Q3574"), ("LOC", "Matignon", ""),
                               ("ORG", "FNSEA", "Q1389632"), ("LOC", "Paris", "")]
    assert spans_of(v.kept[1])[1] == ("MONEY", "4,5\u00a0milliards d’euros", "")
    report = {(f.action, f.kind, f.location.line) for f in v.findings}
    assert report == {("span_rejected", "discontinuous_span", 5), ("ignored", "not_a_span", 9),
                      ("ignored", "not_a_span", 10), ("ignored", "link_not_imported", 7),
                      ("article_rejected", "missing_annotations", None)}
    assert_round_trip(nlp, v.kept)


def test_conll_iob2_documents_split_at_docstart(nlp):
    v = run(nlp, "conll", "iob2.conll")
    assert [a["id"] for a in v.kept] == ["iob2-0001", "iob2-0002"]
    assert v.kept[0]["text"] == ("Angela Merkel rencontre François Hollande à Berlin .\n"
                                 "La Commission européenne débloque 1\u00a0500 € .")
    assert spans_of(v.kept[0]) == [("PER", "Angela Merkel", ""), ("PER", "François Hollande", ""),
                                   ("LOC", "Berlin", ""), ("ORG", "Commission européenne", ""),
                                   ("MONEY", "1\u00a0500 €", "")]
    assert spans_of(v.kept[1]) == [("PER", "Ségolène Royal", ""), ("LOC", "Besançon", "")]
    assert v.findings == []
    assert_round_trip(nlp, v.kept)


def test_conll_iob1_blank_line_groups_are_documents(nlp):
    assert b"\r\n" in (FIXTURES / "iob1.conll").read_bytes()
    v = run(nlp, "conll", "iob1.conll")  # tab-separated, Windows line endings, no -DOCSTART-
    assert [a["text"] for a in v.kept] == ["Marine Le Pen quitte Hénin-Beaumont Lille .",
                                           "Le MoDem soutient la loi Travail ."]
    assert spans_of(v.kept[0]) == [("PER", "Marine Le Pen", ""), ("LOC", "Hénin-Beaumont", ""), ("LOC", "Lille", "")]
    assert spans_of(v.kept[1]) == [("ORG", "MoDem", ""), ("POLICY_EVENT", "loi Travail", "")]
    assert_round_trip(nlp, v.kept)


def test_article_format_and_the_seed_article_read_as_is(nlp):
    v = run(nlp, "article", "articles.jsonl")
    assert len(v.kept) == 2 and v.findings == []
    seed = validate(import_items("article", ROOT / "seeds" / "alibaba-ia-cloud-2025.jsonl"), nlp)
    assert len(seed.kept) == 1 and seed.findings == []
    assert_round_trip(nlp, v.kept + seed.kept)


def cli(function) -> typer.Typer:
    app = typer.Typer()
    app.command()(function)
    return app


def test_import_command_writes_articles_and_report(tmp_path):
    out, report = tmp_path / "brat.jsonl", tmp_path / "brat.report.jsonl"
    result = CliRunner().invoke(cli(import_annotations.main),
                                [str(FIXTURES / "brat"), "brat", str(out), "--report", str(report)])
    assert result.exit_code == 0, result.output
    assert "articles: 2 kept, 1 rejected" in result.output and "spans:    7 kept, 1 rejected" in result.output
    assert [json.loads(line)["id"] for line in out.read_text(encoding="utf-8").splitlines()] == [
        "2019_03_01-brat-001", "2019_03_04-brat-002"]
    records = [json.loads(line) for line in report.read_text(encoding="utf-8").splitlines()]
    assert len(records) == 5 and {"action", "kind", "reason", "file", "line", "article_id", "span", "data"} <= set(
        records[0])


def test_import_command_strict_stops_at_the_first_rejection(tmp_path):
    out = tmp_path / "out.jsonl"
    result = CliRunner().invoke(cli(import_annotations.main), [str(FIXTURES / "brat"), "brat", str(out), "--strict"])
    assert result.exit_code == 1
    assert "2019_03_01-brat-001.ann:5" in result.output and "discontinuous_span" in result.output
    assert not out.exists() and (tmp_path / "out.report.jsonl").exists()


def test_convert_corpus_adds_extra_articles_next_to_winer(tmp_path):
    out = tmp_path / "articles.spacy"
    args = [str(WINER_DIR), str(ROOT / "annotations"), str(out), "--report", str(tmp_path / "r.json"),
            "--limit", "2", "--extra", str(FIXTURES / "articles.jsonl")]
    result = CliRunner().invoke(cli(convert_corpus.main), args)
    assert result.exit_code == 0, result.output
    docs = list(DocBin().from_disk(out).get_docs(spacy.blank("fr").vocab))
    assert len(docs) == 4
    extra = docs[2]
    assert extra.user_data == {"doc_id": "2019_04_01-good-1", "date": "2019-04-01", "url": "https://example.org/1",
                               "live_blog": False}
    assert [(e.text, e.label_, e.kb_id_) for e in extra.ents][:2] == [("Emmanuel Macron", "PER", "Q3052772"),
                                                                      ("Angela Merkel", "PER", "NIL")]
    assert json.loads((tmp_path / "r.json").read_text())["extra_articles"] == 2


def test_convert_corpus_refuses_an_extra_id_that_clashes_with_winer(tmp_path):
    clash = tmp_path / "clash.jsonl"
    winer_id = sorted(WINER_DIR.glob("2016/01/*.txt"))[0].stem
    clash.write_text(json.dumps({"id": winer_id, "text": "Paris.", "spans": []}) + "\n", encoding="utf-8")
    args = [str(WINER_DIR), str(ROOT / "annotations"), str(tmp_path / "a.spacy"), "--report",
            str(tmp_path / "r.json"), "--limit", "1", "--extra", str(clash)]
    result = CliRunner().invoke(cli(convert_corpus.main), args)
    assert result.exit_code == 1 and "duplicate_id" in result.output
    assert not (tmp_path / "a.spacy").exists()
