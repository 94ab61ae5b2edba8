"""Fit the link scorer: the candidate ranker on the train split, then the score calibration and
the NIL cut-off on the dev split. Writes calibration.json.

- Ranker (with --train): on train mentions whose alias has two or more candidates, one of them
  gold, a logistic regression of "this candidate is the gold one" on the candidate's features
  (entity_linking.RANK_FEATURES: prior, linker similarity, e5 context similarity), each centred
  on the mention's candidates, so that only differences between candidates count.
- Calibration: logistic regression of "the chosen QID is right" on the chosen candidate's
  features (entity_linking.FEATURES: linker score, context similarity, prior).
- Cut-off: the lowest probability threshold whose dev accuracy over all gold PER / ORG mentions
  (a QID is right when it equals the gold QID; NIL is right when the gold is NIL) is within one
  standard error of the best threshold's: a cut-off that wins one or two dev mentions is noise.
"""

import json
from pathlib import Path

import numpy
import spacy
import typer
from sklearn.linear_model import LogisticRegression
from spacy.tokens import Doc, DocBin, Span

from corpus_rules import LINKED_LABELS, NIL
from entity_linking import FEATURES, RANK_FEATURES, best_candidate

LINKING_COMPONENTS = ("sentencizer", "entity_linker", "fr_news_link_scorer")


def link(nlp, doc: Doc) -> Doc:
    """Run only the linking components: the entities are given (gold or predicted)."""
    for name, component in nlp.pipeline:
        if name in LINKING_COMPONENTS:
            doc = component(doc)
    return doc


def unlinked_copy(nlp, gold: Doc) -> Doc:
    """The gold tokens and entities, without their links, for the linker to fill."""
    doc = Doc(nlp.vocab, words=[t.text for t in gold], spaces=[bool(t.whitespace_) for t in gold])
    doc.ents = [Span(doc, e.start, e.end, label=e.label_) for e in gold.ents]
    return doc


Row = tuple[str, str, dict[str, float] | None]


def link_gold_mentions(nlp, gold_docs: list[Doc]) -> list[Row]:
    """(gold id, predicted id, features of the chosen candidate or None) for every gold PER / ORG mention."""
    rows = []
    for gold in gold_docs:
        doc = link(nlp, unlinked_copy(nlp, gold))
        predicted = {(e.start_char, e.end_char): e for e in doc.ents}
        for ent in gold.ents:
            if ent.label_ in LINKED_LABELS:
                guess = predicted[(ent.start_char, ent.end_char)]
                rows.append((ent.kb_id_ or NIL, guess.kb_id_ or NIL, guess._.kb_features))
    return rows


def choose_threshold(accuracy, mentions: int) -> float:
    """The lowest cut-off (0.00 to 0.99) whose accuracy is within one standard error of the best."""
    grid = [i / 100 for i in range(0, 100)]
    top = max(accuracy(t) for t in grid)
    standard_error = (top * (1 - top) / max(mentions, 1)) ** 0.5
    return min(t for t in grid if accuracy(t) >= top - standard_error)


def fit(rows: list[Row]) -> dict:
    scored = [(gold, guess, features) for gold, guess, features in rows if features is not None]
    x = numpy.array([[features[name] for name in FEATURES] for _, _, features in scored]).reshape(-1, len(FEATURES))
    y = numpy.array([gold == guess for gold, guess, _ in scored])
    if len(set(y)) < 2:
        # Degenerate dev set (tiny runs): a constant probability equal to the observed rate.
        rate = min(max(float(y.mean()) if len(y) else 0.5, 0.02), 0.98)
        weights, intercept = dict.fromkeys(FEATURES, 0.0), float(numpy.log(rate / (1 - rate)))
        probabilities = numpy.full(len(y), rate)
    else:
        model = LogisticRegression().fit(x, y)
        weights = {name: float(w) for name, w in zip(FEATURES, model.coef_[0], strict=True)}
        intercept = float(model.intercept_[0])
        probabilities = model.predict_proba(x)[:, 1]
    unscored_right = sum(gold == NIL for gold, _, features in rows if features is None)

    def accuracy(threshold: float) -> float:
        right = sum((guess if p >= threshold else NIL) == gold
                    for (gold, guess, _), p in zip(scored, probabilities, strict=True))
        return (right + unscored_right) / len(rows)

    best = choose_threshold(accuracy, len(rows))
    return {"weights": weights, "intercept": intercept, "threshold": best, "dev_accuracy": round(accuracy(best), 4),
            "dev_accuracy_without_threshold": round(accuracy(0.0), 4), "dev_mentions": len(rows),
            "dev_mentions_with_candidates": len(scored)}


RankRow = tuple[dict[str, numpy.ndarray], int]


def ranking_rows(nlp, gold_docs: list[Doc]) -> list[RankRow]:
    """(features per candidate, index of the gold candidate) for gold mentions with two or more
    candidates, one of them the gold QID."""
    scorer = nlp.get_pipe("fr_news_link_scorer")
    rows = []
    for gold in gold_docs:
        gold_ids = {(e.start_char, e.end_char): e.kb_id_ for e in gold.ents}
        doc = nlp.get_pipe("sentencizer")(unlinked_copy(nlp, gold))
        for ent, candidates, features in scorer.mention_features(doc, with_context=True):
            qids = [c.entity_ for c in candidates]
            gold_id = gold_ids[(ent.start_char, ent.end_char)]
            if len(qids) > 1 and gold_id in qids:
                rows.append(({name: features[name] for name in RANK_FEATURES}, qids.index(gold_id)))
    return rows


def prior_credit(priors: numpy.ndarray, gold: int) -> float:
    """The highest-prior baseline's expected accuracy on one mention (gold: the gold candidate's
    index, -1 when absent): candidates tied at the highest prior are chosen between at random."""
    if not len(priors):
        return 0.0
    tied = numpy.flatnonzero(priors == priors.max())
    return float(gold in tied) / len(tied)


def fit_ranker(rows: list[RankRow]) -> dict:
    """Ranker weights (raw feature scale) from centred, standardised candidate features."""
    if len(rows) < 5:  # too few ambiguous train mentions (tiny runs): keep spaCy's choice
        return {"ranker": {}, "ranker_mentions": len(rows)}
    x = numpy.vstack([numpy.column_stack([f[name] - f[name].mean() for name in RANK_FEATURES]) for f, _ in rows])
    y = numpy.concatenate([numpy.arange(len(f["prior"])) == gold for f, gold in rows])
    scale = x.std(axis=0)
    scale[scale == 0] = 1.0
    model = LogisticRegression(fit_intercept=False).fit(x / scale, y)
    weights = {name: float(w / s) for name, w, s in zip(RANK_FEATURES, model.coef_[0], scale, strict=True)}

    return {"ranker": weights, "ranker_mentions": len(rows),
            "ranker_train_accuracy": round(sum(best_candidate(weights, f) == g for f, g in rows) / len(rows), 4),
            "prior_train_accuracy": round(sum(prior_credit(f["prior"], g) for f, g in rows) / len(rows), 4)}


def main(
    linker_model: Path = typer.Argument(..., help="Trained linker pipeline (sentencizer + entity_linker)"),
    dev_path: Path = typer.Argument(..., help="Dev DocBin with gold entities and kb_ids"),
    output: Path = typer.Argument(..., help="calibration.json to write"),
    train_path: Path = typer.Option(None, "--train", help="Train DocBin with kb_ids: fit the candidate ranker"),
    code: list[Path] = typer.Option([], help="Custom code to import first"),
) -> None:
    """Fit the ranker on train (optional), the calibration and cut-off on dev, and write them."""
    for path in code:
        spacy.util.import_file(path.stem, path)
    nlp = spacy.load(linker_model)
    if "fr_news_link_scorer" not in nlp.pipe_names:
        nlp.add_pipe("fr_news_link_scorer")
    ranker = {}
    if train_path:
        ranker = fit_ranker(ranking_rows(nlp, list(DocBin().from_disk(train_path).get_docs(nlp.vocab))))
        nlp.get_pipe("fr_news_link_scorer").ranker = ranker["ranker"]
    gold = list(DocBin().from_disk(dev_path).get_docs(nlp.vocab))
    calibration = {**fit(link_gold_mentions(nlp, gold)), **ranker}
    output.write_text(json.dumps(calibration, indent=2), encoding="utf-8")
    typer.echo(json.dumps(calibration))


if __name__ == "__main__":
    typer.run(main)
