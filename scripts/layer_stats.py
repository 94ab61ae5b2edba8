"""Statistics and consistency checks of the project's MONEY / POLICY_EVENT layers.

Checks every span against the article text (offsets, span text, word boundaries, no
overlap between project spans, overlaps with WiNER PER/ORG/LOC spans declared in
`replaces_winer`) and every span added where WiNER missed one (fits the text, overlaps
nothing), prints counts per label and split, and ends with one machine-readable
line: reviewed=<n>/1191 money=<n> policy_event=<n> double_annotated=<n>.
Exits 1 when a check fails.
"""

from collections import Counter
from pathlib import Path

import typer

from convert_corpus import read_brat
from corpus_rules import PROJECT_LAYER_LABELS, WINER_TYPE_TO_LABEL, read_text_exact, split_of, winer_document_paths
from project_layers import SAMPLE_SECOND_PASS, SECOND_READING, ProjectLayers, load_layers, read_jsonl


def _cuts_a_word(text: str, offset: int) -> bool:
    return 0 < offset < len(text) and text[offset - 1].isalnum() and text[offset].isalnum()


def _inside(text: str, span: dict) -> bool:
    return 0 <= span["start"] < span["end"] <= len(text)


def _surface_problems(where: str, text: str, span: dict) -> list[str]:
    """A span's recorded text (when it has one) must be the text at its offsets, which must not
    cut a word nor hold edge spaces."""
    problems = []
    surface = text[span["start"]:span["end"]]
    if "text" in span and span["text"] != surface:
        problems.append(f"{where}: text {span['text']!r} != {surface!r}")
    if surface != surface.strip() or _cuts_a_word(text, span["start"]) or _cuts_a_word(text, span["end"]):
        problems.append(f"{where}: not on word boundaries ({surface!r})")
    return problems


def check_article(doc_id: str, text: str, spans: list[dict], winer: list[dict]) -> list[str]:
    """Problems with one article's project spans (empty when all is well)."""
    problems = []
    ordered = sorted(spans, key=lambda s: s["start"])
    for span in ordered:
        where = f"{doc_id} [{span['start']}:{span['end']}] {span['label']}"
        if not _inside(text, span):
            problems.append(f"{where}: offsets outside the text")
            continue
        problems += _surface_problems(where, text, span)
        if span["label"] not in PROJECT_LAYER_LABELS:
            problems.append(f"{where}: unknown label")
        overlapping = {w["id"] for w in winer if w["start"] < span["end"] and span["start"] < w["end"]}
        if overlapping != set(span.get("replaces_winer", [])):
            problems.append(f"{where}: overlaps WiNER {sorted(overlapping)} but replaces_winer says "
                            f"{sorted(span.get('replaces_winer', []))}")
    for a, b in zip(ordered, ordered[1:], strict=False):
        if b["start"] < a["end"]:
            problems.append(f"{doc_id}: spans [{a['start']}:{a['end']}] and [{b['start']}:{b['end']}] overlap")
    return problems


def kept_winer_spans(ann_path: Path) -> list[dict]:
    return [a for a in read_brat(ann_path) if a["type"] in WINER_TYPE_TO_LABEL]


def check_additions(doc_id: str, text: str, additions: list[dict], taken: list[dict]) -> list[str]:
    """Problems with the spans added where WiNER missed one: they must fit the text and overlap
    no other added span, no WiNER span kept after the corrections and no project span."""
    problems = []
    for span in sorted(additions, key=lambda s: s["start"]):
        where = f"{doc_id} added [{span['start']}:{span['end']}] {span['label']}"
        if span["label"] not in WINER_TYPE_TO_LABEL.values():
            problems.append(f"{where}: an added span must be PER, ORG or LOC")
        if not _inside(text, span):
            problems.append(f"{where}: offsets outside the text")
            continue
        if "text" not in span:
            problems.append(f"{where}: no text recorded")
        problems += _surface_problems(where, text, span)
        clashes = [t for t in taken if t is not span and t["start"] < span["end"] and span["start"] < t["end"]]
        if clashes:
            problems.append(f"{where}: overlaps {[text[c['start']:c['end']] for c in clashes]}")
    return problems


def corrected(doc_id: str, winer: list[dict], layers: ProjectLayers) -> list[dict]:
    """The WiNER spans after their recorded corrections (deleted ones left out)."""
    return [fixed for fixed in (layers.correct(doc_id, ann) for ann in winer) if fixed is not None]


def collect(winer_dir: Path, layers: ProjectLayers) -> tuple[Counter, list[str]]:
    counts: Counter = Counter()
    problems: list[str] = []
    paths = winer_document_paths(winer_dir)
    for path in paths:
        doc_id = path.stem
        review = layers.reviews.get(doc_id)
        if not review or not review.get("reviewed"):
            continue
        counts["reviewed"] += 1
        spans = layers.final_spans(doc_id)
        text = read_text_exact(path)
        winer = kept_winer_spans(path.with_suffix(".ann"))
        problems += check_article(doc_id, text, spans, winer)
        additions = layers.additions.get(doc_id, [])
        taken = [*additions, *spans, *corrected(doc_id, winer, layers)]
        problems += check_additions(doc_id, text, additions, taken)
        counts["added_winer_labels"] += len(additions)
        for span in spans:
            counts[span["label"]] += 1
            counts[(split_of(doc_id), span["label"])] += 1
        counts[(split_of(doc_id), "articles")] += 1
    counts["articles"] = len(paths)
    return counts, problems


def main(
    winer_dir: Path = typer.Argument(..., help="WiNER-fr folder", exists=True),
    layers_dir: Path = typer.Argument(Path("annotations"), help="Project annotation layers"),
) -> None:
    """Print layer statistics and check the layers against the texts."""
    layers = load_layers(layers_dir)
    counts, problems = collect(winer_dir, layers)
    second_passes = [layers_dir / "agreement" / name for name in (SAMPLE_SECOND_PASS, SECOND_READING)]
    read_twice = [{r["doc_id"] for r in read_jsonl(path)} if path.exists() else set() for path in second_passes]
    double = len(set.union(*read_twice) & set(layers.reviews))
    for split in ("train", "dev", "test"):
        row = " ".join(f"{label}={counts[(split, label)]}" for label in PROJECT_LAYER_LABELS)
        typer.echo(f"{split:5} articles={counts[(split, 'articles')]} {row}")
    typer.echo(f"corrections of WiNER spans: {len(layers.corrections)}; "
               f"PER/ORG/LOC spans added where WiNER missed one: {counts['added_winer_labels']}; "
               f"adjudicated decisions: {layers.adjudicated}")
    changes = ", ".join(f"{k}={v}" for k, v in sorted(layers.reread_changes().items())) or "no change"
    typer.echo(f"consistency re-read: {len(layers.rereads)} articles ({changes})")
    typer.echo(f"read twice independently: {len(read_twice[0])} articles for both labels (agreement sample), "
               f"{len(read_twice[1])} for POLICY_EVENT (second reading; adjudicated decisions on "
               f"{len(layers.second_reading)} of them: {layers.second_reading_decided})")
    for problem in problems:
        typer.echo(f"PROBLEM {problem}", err=True)
    typer.echo(f"{len(problems)} problems")
    typer.echo(f"reviewed={counts['reviewed']}/{counts['articles']} money={counts['MONEY']} "
               f"policy_event={counts['POLICY_EVENT']} double_annotated={double}")
    if problems:
        raise typer.Exit(1)


if __name__ == "__main__":
    typer.run(main)
