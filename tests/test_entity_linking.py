"""The link scorer, its calibration and the linking evaluation on a tiny trained linker."""

import math

import numpy
import pytest
import spacy
from spacy.kb import InMemoryLookupKB
from spacy.tokens import DocBin, Span
from spacy.training import Example

import entity_linking  # noqa: F401  (registers fr_news_link_scorer)
from calibrate_linker import fit, link_gold_mentions
from evaluate_linking import ambiguous_subset, candidate_baselines, candidate_rows

TEXTS = [
    ("Jack Ma a fondé Alibaba à Hangzhou.", [("Jack Ma", "PER", "Q1137062"), ("Alibaba", "ORG", "Q1359568")]),
    ("Ma Long a gagné le match de tennis de table.", [("Ma Long", "PER", "NIL")]),
    ("Le fondateur d'Alibaba, Ma, parle.", [("Alibaba", "ORG", "Q1359568"), ("Ma", "PER", "Q1137062")]),
]


def gold_doc(nlp, text, ents):
    doc = nlp.make_doc(text)
    spans = []
    for surface, label, kb_id in ents:
        start = text.index(surface)
        spans.append(doc.char_span(start, start + len(surface), label=label, kb_id=kb_id))
    doc.ents = spans
    return doc


@pytest.fixture(scope="module")
def linker_nlp():
    nlp = spacy.blank("fr")
    nlp.add_pipe("sentencizer")
    vectors = {"Q1137062": [1.0, 0.0, 0.0], "Q1359568": [0.0, 1.0, 0.0], "Q2": [0.0, 0.0, 1.0]}

    def create_kb(vocab):
        kb = InMemoryLookupKB(vocab, entity_vector_length=3)
        for qid, vector in vectors.items():
            kb.add_entity(qid, freq=10, entity_vector=vector)
        kb.add_alias("Jack Ma", ["Q1137062"], [0.9])
        kb.add_alias("Ma", ["Q1137062", "Q2"], [0.6, 0.3])
        kb.add_alias("Alibaba", ["Q1359568"], [0.95])
        return kb

    linker = nlp.add_pipe("entity_linker", config={"labels_discard": ["LOC"], "use_gold_ents": True})
    linker.set_kb(create_kb)
    examples = [Example(nlp.make_doc(t), gold_doc(nlp, t, e)) for t, e in TEXTS]
    nlp.initialize(lambda: examples)
    for _ in range(3):
        nlp.update(examples)
    nlp.add_pipe("fr_news_link_scorer")
    return nlp


def test_scorer_sets_probabilities_and_kb_ids(linker_nlp):
    doc = gold_doc(linker_nlp, *TEXTS[0])
    for _, component in linker_nlp.pipeline:
        doc = component(doc)
    by_text = {e.text: e for e in doc.ents}
    assert by_text["Jack Ma"].kb_id_ == "Q1137062"
    assert 0.0 < by_text["Jack Ma"]._.kb_score < 1.0
    raw = by_text["Jack Ma"]._.kb_raw_score
    assert by_text["Jack Ma"]._.kb_score == pytest.approx(1 / (1 + math.exp(-raw)))
    features = by_text["Jack Ma"]._.kb_features
    assert features["raw"] == pytest.approx(features["prior"] + features["similarity"]
                                            - features["prior"] * features["similarity"])


def test_calibrated_weights_read_the_similarity(linker_nlp):
    scorer = linker_nlp.get_pipe("fr_news_link_scorer")
    saved = scorer.weights
    scorer.weights = {"raw": 0.0, "similarity": 4.0, "prior": 0.0}
    try:
        close = scorer.probability({"raw": 1.0, "similarity": 0.9, "prior": 1.0})
        far = scorer.probability({"raw": 1.0, "similarity": 0.1, "prior": 1.0})
        assert close > far  # same raw score, different context: the score now differs
    finally:
        scorer.weights = saved
    with pytest.raises(ValueError, match="unknown feature"):
        type(scorer)(linker_nlp, "entity_linker", {"slope": 1.0}, 0.0, 0.0)


def test_threshold_turns_weak_links_into_nil(linker_nlp):
    scorer = linker_nlp.get_pipe("fr_news_link_scorer")
    scorer.threshold = 1.01
    try:
        doc = gold_doc(linker_nlp, *TEXTS[0])
        for _, component in linker_nlp.pipeline:
            doc = component(doc)
        assert {e.kb_id_ for e in doc.ents} == {"NIL"}
    finally:
        scorer.threshold = 0.0


def test_calibration_and_baselines(linker_nlp):
    golds = [gold_doc(linker_nlp, t, e) for t, e in TEXTS]
    rows = link_gold_mentions(linker_nlp, golds)
    assert [g for g, _, _ in rows] == ["Q1137062", "Q1359568", "NIL", "Q1359568", "Q1137062"]
    assert rows[2][2] is None  # "Ma Long" has no candidate: NIL without a score
    calibration = fit(rows)
    assert 0.0 <= calibration["threshold"] < 1.0 and calibration["dev_mentions"] == 5
    assert set(calibration["weights"]) == {"raw", "similarity", "prior"}
    baselines = candidate_baselines(candidate_rows(linker_nlp.get_pipe("entity_linker"), golds))
    assert baselines["mentions_with_qid"] == 4
    assert baselines["oracle"] == 1.0
    assert baselines["random_baseline"] == pytest.approx((1 + 1 + 1 + 0.5) / 4, abs=1e-4)
    assert baselines["prior_baseline"] == 1.0


def test_scores_survive_docbin(linker_nlp):
    doc = gold_doc(linker_nlp, *TEXTS[2])
    for _, component in linker_nlp.pipeline:
        doc = component(doc)
    restored = next(DocBin(docs=[doc], store_user_data=True).get_docs(linker_nlp.vocab))
    assert isinstance(restored.ents[0], Span)
    assert [e._.kb_score for e in restored.ents] == [e._.kb_score for e in doc.ents]


def test_baselines_and_the_ambiguous_subset():
    # (candidates, gold among them, highest prior is gold) for four mentions with a QID
    rows = [(1, True, True), (2, True, False), (2, True, True), (3, False, False)]
    assert candidate_baselines(rows) == {"mentions_with_qid": 4, "random_baseline": 0.5, "prior_baseline": 0.5,
                                         "oracle": 0.75}
    # Mentions 2 and 3 are ambiguous; the linker is right where the prior is wrong and vice versa.
    assert ambiguous_subset(rows, [True, True, False, False]) == {"mentions": 2, "accuracy": 0.5,
                                                                  "prior_baseline": 0.5}
    assert ambiguous_subset(rows[:1], [True]) == {"mentions": 0}


def test_prior_baseline_breaks_ties_at_random():
    from calibrate_linker import prior_credit

    surname = numpy.array([0.3, 0.3, 0.3])  # Barbara, George W. and George H. W. Bush
    assert prior_credit(surname, 0) == pytest.approx(1 / 3)  # not 1 because it sorts first
    assert prior_credit(numpy.array([0.9, 0.1]), 1) == 0.0
    assert prior_credit(numpy.array([0.9, 0.1]), -1) == 0.0  # gold not among the candidates
    assert prior_credit(numpy.array([]), -1) == 0.0


def test_ranker_lets_the_context_overrule_the_prior(linker_nlp):
    scorer = linker_nlp.get_pipe("fr_news_link_scorer")
    encoded = []

    def encode_like_q2(texts):  # a sentence embedding pointing at Q2's KB vector
        encoded.extend(texts)
        return numpy.array([[0.0, 0.0, 1.0]] * len(texts))

    scorer.encode_context = encode_like_q2
    try:
        for ranker, expected in (({"context": 1.0}, "Q2"), ({"prior": 1.0}, "Q1137062")):
            scorer.ranker = ranker
            doc = gold_doc(linker_nlp, *TEXTS[2])
            for _, component in linker_nlp.pipeline:
                doc = component(doc)
            assert {e.text: e.kb_id_ for e in doc.ents}["Ma"] == expected
        # Only the ambiguous "Ma" was encoded, never the single-candidate "Alibaba".
        assert encoded == ["Le fondateur d'Alibaba, Ma, parle."]
    finally:
        scorer.ranker = {}
        del scorer.encode_context


def test_fit_ranker_learns_the_context_where_priors_tie():
    from calibrate_linker import fit_ranker

    rows = []
    for i in range(12):  # two tied candidates; the gold one is always closer to the context
        gold = i % 2
        context = numpy.array([0.80, 0.82]) if gold else numpy.array([0.82, 0.80])
        rows.append(({"prior": numpy.array([0.45, 0.45]), "similarity": numpy.array([0.1, 0.1]),
                      "context": context}, gold))
    fitted = fit_ranker(rows)
    assert fitted["ranker"]["context"] > 0
    assert fitted["ranker_train_accuracy"] == 1.0 and fitted["prior_train_accuracy"] == 0.5
    assert fit_ranker(rows[:3]) == {"ranker": {}, "ranker_mentions": 3}


def test_threshold_must_beat_the_noise():
    from calibrate_linker import choose_threshold

    # 500 mentions: a cut-off that wins one mention (0.002) is within one standard error: none.
    assert choose_threshold(lambda t: 0.976 if t >= 0.9 else 0.974, 500) == 0.0
    # One that wins 10 % of them is kept, at its lowest value.
    assert choose_threshold(lambda t: 0.95 if t >= 0.5 else 0.85, 500) == 0.5
