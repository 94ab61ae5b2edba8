"""Calibrate the link score on the dev split: logistic regression of "the chosen QID is right"
on the chosen candidate's features (entity_linking.FEATURES: linker score, context similarity,
prior), then the probability cut-off below which a mention is NIL.

The cut-off maximises dev accuracy over all gold PER / ORG mentions (a QID is right when it
equals the gold QID; NIL is right when the gold is NIL). Writes calibration.json.
"""

import json
from pathlib import Path

import numpy
import spacy
import typer
from sklearn.linear_model import LogisticRegression
from spacy.tokens import Doc, DocBin, Span

from corpus_rules import LINKED_LABELS, NIL
from entity_linking import FEATURES

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

    grid = [i / 100 for i in range(0, 100)]
    best = max(grid, key=accuracy)
    return {"weights": weights, "intercept": intercept, "threshold": best, "dev_accuracy": round(accuracy(best), 4),
            "dev_accuracy_without_threshold": round(accuracy(0.0), 4), "dev_mentions": len(rows),
            "dev_mentions_with_candidates": len(scored)}


def main(
    linker_model: Path = typer.Argument(..., help="Trained linker pipeline (sentencizer + entity_linker)"),
    dev_path: Path = typer.Argument(..., help="Dev DocBin with gold entities and kb_ids"),
    output: Path = typer.Argument(..., help="calibration.json to write"),
    code: list[Path] = typer.Option([], help="Custom code to import first"),
) -> None:
    """Fit the calibration on dev and write it."""
    for path in code:
        spacy.util.import_file(path.stem, path)
    nlp = spacy.load(linker_model)
    if "fr_news_link_scorer" not in nlp.pipe_names:
        nlp.add_pipe("fr_news_link_scorer")
    gold = list(DocBin().from_disk(dev_path).get_docs(nlp.vocab))
    calibration = fit(link_gold_mentions(nlp, gold))
    output.write_text(json.dumps(calibration, indent=2), encoding="utf-8")
    typer.echo(json.dumps(calibration))


if __name__ == "__main__":
    typer.run(main)
