"""The project's MONEY / POLICY_EVENT layers are complete, consistent with the texts, and agreed."""

import subprocess
import sys

from agreement import agreement
from conftest import ROOT, WINER_DIR
from layer_stats import check_article


def test_layer_statistics_and_checks_pass():
    result = subprocess.run([sys.executable, "scripts/layer_stats.py", str(WINER_DIR), "annotations"],
                            cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]
    last = result.stdout.strip().splitlines()[-1]
    fields = dict(item.split("=") for item in last.split())
    assert fields["reviewed"] == "1191/1191"
    assert int(fields["money"]) > 0 and int(fields["policy_event"]) > 0
    assert int(fields["double_annotated"]) >= 80


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
