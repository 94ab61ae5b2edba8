"""Inter-annotator agreement on the double-annotated sample: exact-match span F1 per label.

Compares the first pass (annotations/money_policy/batch_*.jsonl) with the independent
second pass (annotations/agreement/second_pass.jsonl) on the articles both annotated, and
writes every disagreement so it can be adjudicated.
"""

import json
from pathlib import Path

import typer

from corpus_rules import PROJECT_LAYER_LABELS
from ner_scoring import score
from project_layers import load_layers, read_jsonl


def span_set(record: dict) -> set[tuple[int, int, str]]:
    return {(s["start"], s["end"], s["label"]) for s in record["spans"]}


def agreement(first: dict[str, dict], second: dict[str, dict]) -> tuple[dict, list[dict]]:
    """F1 per label (first pass as reference; F1 is symmetric) and the disagreements."""
    shared = sorted(set(first) & set(second))
    pairs = [(span_set(second[d]), span_set(first[d])) for d in shared]
    disagreements = []
    for doc_id, (b, a) in zip(shared, pairs, strict=True):
        for start, end, label in sorted(a ^ b):
            disagreements.append({"doc_id": doc_id, "start": start, "end": end, "label": label,
                                  "only_in": "first_pass" if (start, end, label) in a else "second_pass"})
    return score(pairs, PROJECT_LAYER_LABELS), disagreements


def main(
    layers_dir: Path = typer.Argument(Path("annotations"), help="Project annotation layers"),
    output: Path = typer.Option(Path("annotations/agreement/disagreements.jsonl"), help="Disagreements to adjudicate"),
) -> None:
    """Print agreement F1 per label and write the disagreements."""
    first = load_layers(layers_dir).reviews
    second = {r["doc_id"]: r for r in read_jsonl(layers_dir / "agreement" / "second_pass.jsonl")}
    scores, disagreements = agreement(first, second)
    typer.echo(f"double-annotated articles: {len(set(first) & set(second))}")
    typer.echo("label          F1     spans (first pass / second pass)")
    for label, s in scores.items():
        typer.echo(f"{label:13} {s['f']:.3f}  P {s['p']:.3f} R {s['r']:.3f} support {s['support']}")
    with output.open("w", encoding="utf-8") as handle:
        for record in disagreements:
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
    typer.echo(f"{len(disagreements)} disagreements written to {output}")


if __name__ == "__main__":
    typer.run(main)
