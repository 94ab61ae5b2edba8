"""Exact-match scoring, bootstrap intervals and the boundary/type error breakdown."""

import spacy
from spacy.tokens import Span

from ner_scoring import bootstrap_f, error_breakdown, recall_by_novelty, score, training_mentions


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


def test_recall_by_novelty_splits_gold_mentions_by_their_text_in_training():
    nlp = spacy.blank("fr")
    train = nlp("Emmanuel Macron défend la loi Travail.")
    train.ents = [Span(train, 0, 2, "PER"), Span(train, 4, 6, "POLICY_EVENT")]
    seen = training_mentions([train])
    assert seen == {"PER": {"emmanuel macron"}, "POLICY_EVENT": {"loi travail"}}
    gold = nlp("La LOI TRAVAIL et le moratoire : Emmanuel Macron et Édouard Philippe.")
    gold.ents = [Span(gold, 1, 3, "POLICY_EVENT"), Span(gold, 5, 6, "POLICY_EVENT"),
                 Span(gold, 7, 9, "PER"), Span(gold, 10, 12, "PER")]
    predicted = nlp(gold.text)
    # Finds the seen event, the unseen person; "Emmanuel Macron" typed as ORG does not count.
    predicted.ents = [Span(predicted, 1, 3, "POLICY_EVENT"), Span(predicted, 7, 9, "ORG"),
                      Span(predicted, 10, 12, "PER")]
    table = recall_by_novelty([predicted], [gold], seen, ("PER", "POLICY_EVENT"))
    assert table["POLICY_EVENT"] == {"seen": {"support": 1, "r": 1.0}, "unseen": {"support": 1, "r": 0.0}}
    assert table["PER"] == {"seen": {"support": 1, "r": 0.0}, "unseen": {"support": 1, "r": 1.0}}
