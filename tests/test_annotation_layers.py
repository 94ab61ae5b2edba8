"""The project's MONEY / POLICY_EVENT layers are complete, consistent with the texts, and agreed."""

import json
import subprocess
import sys

import pytest

from agreement import agreement
from conftest import ROOT, WINER_DIR
from layer_stats import check_article
from project_layers import load_layers


def test_layer_statistics_and_checks_pass():
    result = subprocess.run([sys.executable, "scripts/layer_stats.py", str(WINER_DIR), "annotations"],
                            cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]
    last = result.stdout.strip().splitlines()[-1]
    fields = dict(item.split("=") for item in last.split())
    assert fields["reviewed"] == "1191/1191"
    assert int(fields["money"]) > 0 and int(fields["policy_event"]) > 0
    # 80 articles read twice for both labels, every other one read twice for POLICY_EVENT.
    assert fields["double_annotated"] == "1191"


def test_second_reading_covers_every_article_and_its_removals_exist():
    from project_layers import SECOND_READING, SECOND_READING_ADJUDICATION, read_jsonl

    second = {r["doc_id"] for r in read_jsonl(ROOT / "annotations" / "agreement" / SECOND_READING)}
    sample = set((ROOT / "annotations" / "agreement" / "sample_ids.txt").read_text().split())
    all_ids = {p.stem for p in WINER_DIR.glob("*/*/*.txt")}
    test_ids = {p.stem for p in WINER_DIR.glob("2018/*/*.txt")}
    # Every article outside the agreement sample, and every test article, was read a second time.
    assert second | sample == all_ids and test_ids <= second
    before = load_layers(ROOT / "annotations", with_second_reading=False)
    for decision in read_jsonl(ROOT / "annotations" / "agreement" / SECOND_READING_ADJUDICATION):
        assert decision["decision"] in ("first_pass", "second_pass", "other") and decision["reason"]
        spans = {(s["start"], s["end"], s["label"]) for s in before.final_spans(decision["doc_id"])}
        assert {(r["start"], r["end"], r["label"]) for r in decision["remove"]} <= spans


def test_check_article_finds_each_kind_of_problem():
    text = "Le plan de relance de 750 milliards d'euros à Paris."
    winer = [{"id": "T1", "start": text.index("Paris"), "end": text.index("Paris") + 5}]
    good = [{"start": 3, "end": 18, "label": "POLICY_EVENT", "text": "plan de relance"},
            {"start": 22, "end": 43, "label": "MONEY"}]
    assert check_article("d", text, good, winer) == []
    assert "not on word boundaries" in check_article("d", text, [{"start": 4, "end": 18, "label": "MONEY"}], winer)[0]
    assert "overlap" in check_article("d", text, good + [{"start": 10, "end": 18, "label": "MONEY"}], winer)[-1]
    assert "text" in check_article("d", text, [{**good[0], "text": "plan"}], winer)[0]
    assert "replaces_winer" in check_article("d", text, [{"start": 46, "end": 51, "label": "MONEY"}], winer)[0]
    assert "outside" in check_article("d", text, [{"start": 40, "end": 99, "label": "MONEY"}], winer)[0]


def test_agreement_counts_exact_matches_only():
    money = {"start": 0, "end": 5, "label": "MONEY"}
    first = {"a": {"spans": [money, {"start": 10, "end": 20, "label": "POLICY_EVENT"}]}}
    second = {"a": {"spans": [money, {"start": 10, "end": 18, "label": "POLICY_EVENT"}]}}
    scores, disagreements = agreement(first, second)
    assert scores["MONEY"]["f"] == 1.0
    assert scores["POLICY_EVENT"]["f"] == 0.0
    assert len(disagreements) == 2
    only_events, _ = agreement(first, second, ("POLICY_EVENT",))
    assert list(only_events) == ["POLICY_EVENT", "overall"] and only_events["overall"]["f"] == 0.0


def test_reread_decisions_apply_after_adjudication_and_cover_the_other_articles(tmp_path):
    def write(path, records):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")

    loi = {"start": 3, "end": 30, "label": "POLICY_EVENT", "text": "loi visant à réformer le code"}
    write(tmp_path / "money_policy" / "batch_1.jsonl", [
        {"doc_id": "a", "reviewed": True, "spans": [loi]}, {"doc_id": "b", "reviewed": True, "spans": [loi]}])
    write(tmp_path / "agreement" / "adjudication.jsonl", [{"doc_id": "b", "remove": [], "add": []}])
    write(tmp_path / "reread" / "batch_1.jsonl", [
        {"doc_id": "a", "remove": [loi], "add": [{"start": 3, "end": 6, "label": "POLICY_EVENT", "text": "loi"}]}])
    layers = load_layers(tmp_path)
    assert [(s["start"], s["end"]) for s in layers.final_spans("a")] == [(3, 6)]
    assert [(s["start"], s["end"]) for s in layers.final_spans("b")] == [(3, 30)]
    assert layers.reread_changes() == {"remove_POLICY_EVENT": 1, "add_POLICY_EVENT": 1}
    assert load_layers(tmp_path, with_rereads=False).final_spans("a") == [loi]
    # The second reading's decisions apply last; without it the layer is as the re-read left it.
    write(tmp_path / "agreement" / "second_reading_adjudication.jsonl", [
        {"doc_id": "a", "remove": [{"start": 3, "end": 6, "label": "POLICY_EVENT"}], "add": [], "reason": "r"}])
    assert load_layers(tmp_path).final_spans("a") == []
    assert [(s["start"], s["end"]) for s in load_layers(tmp_path, with_second_reading=False).final_spans("a")] \
        == [(3, 6)]
    (tmp_path / "agreement" / "second_reading_adjudication.jsonl").unlink()
    # An adjudicated article is settled: a re-read decision on it is an error, not a silent override.
    write(tmp_path / "reread" / "batch_2.jsonl", [{"doc_id": "b", "remove": [], "add": []}])
    with pytest.raises(ValueError, match="already adjudicated"):
        load_layers(tmp_path)


def test_corrections_delete_relabel_move_and_move_with_a_new_label():
    from project_layers import ProjectLayers

    ann = {"id": "T1", "start": 10, "end": 19, "type": "Person", "label": "PER", "text": "Haussmann"}
    layers = ProjectLayers(corrections={
        ("d1", "T1"): {"action": "delete"},
        ("d2", "T1"): {"action": "relabel", "label": "ORG"},
        ("d3", "T1"): {"action": "reoffset", "start": 0, "end": 19},
        ("d4", "T1"): {"action": "reoffset", "start": 0, "end": 19, "label": "LOC"},
    })
    assert layers.correct("d1", ann) is None
    assert layers.correct("d2", ann)["label"] == "ORG"
    moved = layers.correct("d3", ann)
    assert (moved["start"], moved["end"], moved["label"]) == (0, 19, "PER")
    moved_and_relabelled = layers.correct("d4", ann)
    assert (moved_and_relabelled["start"], moved_and_relabelled["label"]) == (0, "LOC")
    assert layers.correct("d5", ann) is ann


def test_added_spans_load_check_and_convert(tmp_path):
    """An `add` correction (a PER/ORG/LOC span WiNER missed) is loaded apart from the id-keyed
    corrections, checked against the text, and becomes an entity of the converted doc."""
    from convert_corpus import winer_spans
    from layer_stats import check_additions

    text = "Les Gilets jaunes ont bloqué Brest. Des Gilets jaunes à Paris."
    first, second = text.index("Gilets"), text.rindex("Gilets")
    added = {"doc_id": "d", "action": "add", "start": second, "end": second + 13, "text": "Gilets jaunes",
             "label": "ORG", "reason": "movement name"}
    (tmp_path / "corrections").mkdir()
    (tmp_path / "corrections" / "batch_1.jsonl").write_text(json.dumps(added) + "\n", encoding="utf-8")
    layers = load_layers(tmp_path)
    assert layers.corrections == {} and layers.additions == {"d": [added]}
    brest = text.index("Brest")
    winer = [{"id": "T1", "type": "Organization", "start": first, "end": first + 13, "text": "Gilets jaunes"},
             {"id": "T2", "type": "Location", "start": brest, "end": brest + 5, "text": "Brest"}]
    kept, dropped = winer_spans("d", text, winer, layers)
    assert [(text[s["start"]:s["end"]], s["label"]) for s in kept] == [
        ("Gilets jaunes", "ORG"), ("Brest", "LOC"), ("Gilets jaunes", "ORG")] and dropped == []
    assert check_additions("d", text, [added], [added, *winer]) == []
    # Wrong text, a cut word, a clash with a WiNER span and a label WiNER does not have are reported.
    bad = [{**added, "text": "Gilets"}, {**added, "start": second + 1},
           {**added, "start": first, "end": first + 13}, {**added, "label": "MONEY"}]
    problems = [" ".join(check_additions("d", text, [span], [span, *winer])) for span in bad]
    assert "text 'Gilets'" in problems[0] and "word boundaries" in problems[1]
    assert "overlaps" in problems[2] and "PER, ORG or LOC" in problems[3]
