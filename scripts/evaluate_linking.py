"""Score entity linking on held-out articles, next to three baselines on the same mentions.

- accuracy on gold PER / ORG mentions that have a QID (gold entities given to the linker);
  baselines on the same mentions: a random candidate (expected accuracy), the highest prior
  (expected accuracy: ties, as among the candidates of a surname never seen in train, are broken
  at random, not in the KB's order), and the oracle (a correct candidate exists); the same on
  the ambiguous mentions alone (two or more candidates), where the context can beat the prior;
- NIL precision / recall over all gold PER / ORG mentions;
- end to end: the NER's predicted entities linked, (start, end, QID) against gold, P / R / F.
"""

import json
from pathlib import Path

import numpy
import spacy
import typer
from spacy.tokens import Doc, DocBin

from calibrate_linker import link, link_gold_mentions, prior_credit, unlinked_copy
from corpus_rules import LINKED_LABELS, NIL
from ner_scoring import prf


def candidate_rows(linker, gold_docs: list[Doc]) -> list[tuple[int, bool, float]]:
    """(number of candidates, gold among them, highest-prior credit) per gold mention with a QID,
    in the order of link_gold_mentions."""
    rows = []
    for doc in gold_docs:
        for ent in doc.ents:
            if ent.label_ not in LINKED_LABELS or ent.kb_id_ in ("", NIL):
                continue
            candidates = list(linker.get_candidates(linker.kb, ent))
            qids = [c.entity_ for c in candidates]
            gold = qids.index(ent.kb_id_) if ent.kb_id_ in qids else -1
            priors = numpy.array([c.prior_prob for c in candidates])
            rows.append((len(candidates), gold >= 0, prior_credit(priors, gold)))
    return rows


def candidate_baselines(rows: list[tuple[int, bool, float]]) -> dict[str, float]:
    """Random, highest-prior and oracle accuracy on gold mentions that have a QID."""
    total = max(len(rows), 1)
    return {"mentions_with_qid": len(rows),
            "random_baseline": round(sum(1 / n for n, hit, _ in rows if hit) / total, 4),
            "prior_baseline": round(sum(top for _, _, top in rows) / total, 4),
            "oracle": round(sum(hit for _, hit, _ in rows) / total, 4)}


def ambiguous_subset(rows: list[tuple[int, bool, float]], correct: list[bool]) -> dict:
    """The mentions where the linker has to choose (two or more candidates, one of them right)."""
    chosen = [(top, ok) for (n, hit, top), ok in zip(rows, correct, strict=True) if n > 1 and hit]
    if not chosen:
        return {"mentions": 0}
    return {"mentions": len(chosen), "accuracy": round(sum(ok for _, ok in chosen) / len(chosen), 4),
            "prior_baseline": round(sum(top for top, _ in chosen) / len(chosen), 4)}


def linked_set(doc: Doc) -> set[tuple[int, int, str]]:
    return {(e.start_char, e.end_char, e.kb_id_) for e in doc.ents
            if e.label_ in LINKED_LABELS and e.kb_id_ not in ("", NIL)}


def end_to_end(nlp, predicted_docs: list[Doc], gold_docs: list[Doc]) -> dict[str, float]:
    tp = pred = gold = 0
    for predicted, reference in zip(predicted_docs, gold_docs, strict=True):
        doc = link(nlp, unlinked_copy(nlp, predicted))
        ours, theirs = linked_set(doc), linked_set(reference)
        tp, pred, gold = tp + len(ours & theirs), pred + len(ours), gold + len(theirs)
    return prf(tp, pred, gold)


def main(
    linker_model: Path = typer.Argument(..., help="Linker pipeline with fr_news_link_scorer"),
    test_path: Path = typer.Argument(..., help="Gold DocBin with kb_ids"),
    predictions: Path = typer.Argument(..., help="The NER's predicted Docs on the same articles"),
    output: Path = typer.Argument(..., help="Linking metrics JSON"),
    code: list[Path] = typer.Option([], help="Custom code to import first"),
) -> None:
    """Write linking accuracy, baselines, NIL P/R and end-to-end P/R/F."""
    for path in code:
        spacy.util.import_file(path.stem, path)
    nlp = spacy.load(linker_model)
    gold = list(DocBin().from_disk(test_path).get_docs(nlp.vocab))
    rows = link_gold_mentions(nlp, gold)
    with_qid = [(g, p) for g, p, _ in rows if g != NIL]
    candidates = candidate_rows(nlp.get_pipe("entity_linker"), gold)
    correct = [g == p for g, p in with_qid]
    metrics = {"accuracy": round(sum(correct) / max(len(correct), 1), 4), **candidate_baselines(candidates),
               "ambiguous": ambiguous_subset(candidates, correct)}
    nil_tp = sum(g == NIL and p == NIL for g, p, _ in rows)
    metrics["nil"] = prf(nil_tp, sum(p == NIL for _, p, _ in rows), sum(g == NIL for g, _, _ in rows))
    predicted = list(DocBin().from_disk(predictions).get_docs(nlp.vocab))
    metrics["end_to_end"] = end_to_end(nlp, predicted, gold)
    metrics["gold_mentions"] = len(rows)
    output.write_text(json.dumps(metrics, indent=2), encoding="utf-8")
    typer.echo(json.dumps(metrics))


if __name__ == "__main__":
    typer.run(main)
