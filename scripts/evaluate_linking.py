"""Score entity linking on held-out articles, next to three baselines on the same mentions.

- accuracy on gold PER / ORG mentions that have a QID (gold entities given to the linker);
  baselines on the same mentions: a random candidate (expected accuracy), the highest prior,
  and the oracle (a correct candidate exists);
- NIL precision / recall over all gold PER / ORG mentions;
- end to end: the NER's predicted entities linked, (start, end, QID) against gold, P / R / F.
"""

import json
from pathlib import Path

import spacy
import typer
from spacy.tokens import Doc, DocBin

from calibrate_linker import link, link_gold_mentions, unlinked_copy
from corpus_rules import LINKED_LABELS, NIL
from ner_scoring import prf


def candidate_baselines(linker, gold_docs: list[Doc]) -> dict[str, float]:
    """Random, highest-prior and oracle accuracy on gold mentions that have a QID."""
    total = random_hits = prior_hits = oracle_hits = 0
    for doc in gold_docs:
        for ent in doc.ents:
            if ent.label_ not in LINKED_LABELS or ent.kb_id_ in ("", NIL):
                continue
            total += 1
            candidates = list(linker.get_candidates(linker.kb, ent))
            ids = [c.entity_ for c in candidates]
            if ent.kb_id_ in ids:
                oracle_hits += 1
                random_hits += 1 / len(ids)
                prior_hits += max(candidates, key=lambda c: c.prior_prob).entity_ == ent.kb_id_
    return {"mentions_with_qid": total, "random_baseline": round(random_hits / total, 4),
            "prior_baseline": round(prior_hits / total, 4), "oracle": round(oracle_hits / total, 4)}


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
    metrics = {"accuracy": round(sum(g == p for g, p in with_qid) / len(with_qid), 4),
               **candidate_baselines(nlp.get_pipe("entity_linker"), gold)}
    nil_tp = sum(g == NIL and p == NIL for g, p, _ in rows)
    metrics["nil"] = prf(nil_tp, sum(p == NIL for _, p, _ in rows), sum(g == NIL for g, _, _ in rows))
    predicted = list(DocBin().from_disk(predictions).get_docs(nlp.vocab))
    metrics["end_to_end"] = end_to_end(nlp, predicted, gold)
    metrics["gold_mentions"] = len(rows)
    output.write_text(json.dumps(metrics, indent=2), encoding="utf-8")
    typer.echo(json.dumps(metrics))


if __name__ == "__main__":
    typer.run(main)
