"""Exact-match scoring, bootstrap intervals and the boundary/type error breakdown."""

from ner_scoring import bootstrap_f, error_breakdown, score


def test_score_counts_exact_matches_per_label_and_overall():
    gold = {(0, 5, "PER"), (10, 15, "ORG"), (20, 25, "LOC")}
    predicted = {(0, 5, "PER"), (10, 15, "LOC"), (30, 35, "LOC")}
    result = score([(predicted, gold)], ("PER", "ORG", "LOC"))
    assert result["PER"] == {"p": 1.0, "r": 1.0, "f": 1.0, "support": 1}
    assert result["ORG"]["r"] == 0.0
    assert result["LOC"]["p"] == 0.0 and result["LOC"]["support"] == 1
    assert result["overall"]["p"] == round(1 / 3, 4) and result["overall"]["r"] == round(1 / 3, 4)


def test_bootstrap_interval_contains_the_point_estimate():
    pairs = [({(0, 5, "PER")}, {(0, 5, "PER")}), (set(), {(0, 5, "PER")}), ({(1, 2, "PER")}, {(1, 2, "PER")})] * 5
    point = score(pairs, ("PER",))["PER"]["f"]
    low, high = bootstrap_f(pairs, ("PER",), samples=300)["PER"]
    assert low <= point <= high and low < high


def test_error_breakdown_separates_boundary_from_type_errors():
    gold = {(0, 10, "ORG"), (20, 30, "PER"), (40, 50, "LOC"), (60, 70, "ORG"), (80, 90, "PER")}
    predicted = {(0, 10, "ORG"), (20, 30, "ORG"), (40, 45, "LOC"), (62, 70, "LOC"), (100, 110, "MONEY")}
    table = error_breakdown([(predicted, gold)])
    assert table["ORG"]["correct"] == 1 and table["ORG"]["boundary_and_type_error"] == 1
    assert table["PER"]["type_error"] == 1 and table["PER"]["type_error_as_ORG"] == 1 and table["PER"]["missed"] == 1
    assert table["LOC"]["boundary_error"] == 1
    assert table["MONEY"]["spurious"] == 1
