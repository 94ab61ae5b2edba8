"""Inter-annotator agreement on a double-annotated sample: exact-match span F1 per label.

By default compares the first pass (annotations/money_policy/batch_*.jsonl) with the independent
second pass (annotations/agreement/second_pass.jsonl) on the articles both annotated. With
`--against layer` the reference is the layer as the corpus had it before the second reading
(first pass + adjudication + re-read), as for the blind POLICY_EVENT second reading:

  python scripts/agreement.py --second-pass annotations/agreement/second_reading.jsonl \
      --against layer --label POLICY_EVENT --output annotations/agreement/second_reading_disagreements.jsonl

Every disagreement is written so it can be adjudicated.
"""

import json
from pathlib import Path

import typer

from corpus_rules import PROJECT_LAYER_LABELS, split_of
from ner_scoring import score
from project_layers import SAMPLE_SECOND_PASS, load_layers, read_jsonl


def span_set(record: dict) -> set[tuple[int, int, str]]:
    return {(s["start"], s["end"], s["label"]) for s in record["spans"]}


def agreement(first: dict[str, dict], second: dict[str, dict],
              labels: tuple[str, ...] = PROJECT_LAYER_LABELS) -> tuple[dict, list[dict]]:
    """F1 per label (first pass as reference; F1 is symmetric) and the disagreements."""
    shared = sorted(set(first) & set(second))
    pairs = [(span_set(second[d]), span_set(first[d])) for d in shared]
    disagreements = []
    for doc_id, (b, a) in zip(shared, pairs, strict=True):
        for start, end, label in sorted(a ^ b):
            disagreements.append({"doc_id": doc_id, "start": start, "end": end, "label": label,
                                  "only_in": "first_pass" if (start, end, label) in a else "second_pass"})
    return score(pairs, labels), disagreements


def only_labels(records: dict[str, dict], labels: list[str]) -> dict[str, dict]:
    """Each article's spans restricted to the labels both passes annotated."""
    return {doc_id: {"spans": [s for s in r["spans"] if s["label"] in labels]} for doc_id, r in records.items()}


def reference_layer(layers_dir: Path, against: str, labels: list[str]) -> dict[str, dict]:
    """The records the second pass is compared with, restricted to the labels it annotated."""
    if against == "first-pass":
        records = load_layers(layers_dir).reviews
    elif against == "layer":
        layers = load_layers(layers_dir, with_second_reading=False)
        records = {doc_id: {"spans": layers.final_spans(doc_id)} for doc_id in layers.reviews}
    else:
        raise typer.BadParameter(f"--against must be first-pass or layer, not {against!r}")
    return only_labels(records, labels)


def main(
    layers_dir: Path = typer.Argument(Path("annotations"), help="Project annotation layers"),
    second_pass: Path = typer.Option(Path("annotations/agreement") / SAMPLE_SECOND_PASS, help="The independent pass"),
    against: str = typer.Option("first-pass", help="first-pass, or layer (first pass + adjudication + re-read)"),
    label: list[str] = typer.Option(list(PROJECT_LAYER_LABELS), help="Labels the second pass annotated"),
    output: Path = typer.Option(Path("annotations/agreement/disagreements.jsonl"), help="Disagreements to adjudicate"),
) -> None:
    """Print agreement F1 per label and write the disagreements."""
    first = reference_layer(layers_dir, against, label)
    second = only_labels({r["doc_id"]: r for r in read_jsonl(second_pass)}, label)
    scores, disagreements = agreement(first, second, tuple(label))
    typer.echo(f"double-annotated articles: {len(set(first) & set(second))}")
    typer.echo("label          F1     spans (first pass / second pass)")
    for name, s in scores.items():
        typer.echo(f"{name:13} {s['f']:.3f}  P {s['p']:.3f} R {s['r']:.3f} support {s['support']}")
    splits = sorted({split_of(d) for d in set(first) & set(second)})
    for split in splits if len(splits) > 1 else []:
        part, _ = agreement({d: r for d, r in first.items() if split_of(d) == split}, second, tuple(label))
        typer.echo(f"  {split:5} " + "  ".join(f"{name} F1 {s['f']:.3f} (support {s['support']})"
                                               for name, s in part.items() if name != "overall"))
    with output.open("w", encoding="utf-8") as handle:
        for record in disagreements:
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
    typer.echo(f"{len(disagreements)} disagreements written to {output}")


if __name__ == "__main__":
    typer.run(main)
