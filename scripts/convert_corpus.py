"""Convert WiNER-fr (brat standoff) plus the project's annotation layers into one DocBin.

Mapping: Person->PER, Organization->ORG, Location->LOC; other types are dropped; where kept
spans nest, the outermost wins. Project layers (MONEY / POLICY_EVENT, adjudication,
corrections) are merged when present; the links layer is not (scripts/link_corpus.py).
Every span that is dropped or needs a token split is reported.
Validated article JSONL files (scripts/import_annotations.py) can be added with --extra.
"""

import json
import unicodedata
from collections import Counter
from pathlib import Path

import spacy
import typer
from spacy.tokens import Doc, DocBin
from tqdm import tqdm

from article_format import StrictModeError, read_articles, to_char_spans, validate
from corpus_rules import (
    PROJECT_LAYER_LABELS,
    WINER_TYPE_TO_LABEL,
    article_url_map,
    is_live_blog,
    read_text_exact,
    winer_document_paths,
)
from project_layers import ADDED_SPAN_ID_PREFIX, ProjectLayers, load_layers
from spans_to_docs import CharSpan, build_doc


def read_brat(ann_path: Path) -> list[dict]:
    """Text-bound (T) annotations of a brat .ann file; discontinuous spans keep their extent."""
    records = []
    for line in ann_path.read_text(encoding="utf-8").splitlines():
        if not line.startswith("T"):
            continue
        ann_id, type_and_offsets, surface = line.split("\t", 2)
        entity_type, offsets = type_and_offsets.split(" ", 1)
        pieces = [tuple(map(int, p.split())) for p in offsets.split(";")]
        records.append({"id": ann_id, "type": entity_type, "start": pieces[0][0],
                        "end": pieces[-1][1], "text": surface})
    return records


def outermost(spans: list[dict]) -> tuple[list[dict], list[dict]]:
    """Keep spans not contained in a longer kept span; crossing spans keep the longer one."""
    kept: list[dict] = []
    dropped: list[dict] = []
    for span in sorted(spans, key=lambda s: (s["start"], -(s["end"] - s["start"]))):
        clash = next((k for k in kept if span["start"] < k["end"] and k["start"] < span["end"]), None)
        if clash is None:
            kept.append(span)
            continue
        nested = clash["start"] <= span["start"] and span["end"] <= clash["end"]
        dropped.append({**span, "reason": "nested in " + clash["id"] if nested else "crosses " + clash["id"]})
    return kept, dropped


def winer_spans(
    doc_id: str, text: str, annotations: list[dict], layers: ProjectLayers
) -> tuple[list[dict], list[dict]]:
    """Mapped WiNER spans after corrections (and the spans added where WiNER missed one) and
    nesting resolution, plus what was dropped."""
    mapped = []
    for ann in annotations:
        corrected = layers.correct(doc_id, ann)
        if corrected is None:
            continue
        label = WINER_TYPE_TO_LABEL.get(corrected["type"]) or corrected.get("label")
        if label:
            mapped.append(trim_whitespace(text, {**corrected, "label": label}))
    mapped += [trim_whitespace(text, span) for span in layers.added_spans(doc_id)]
    return outermost(mapped)


def _invisible(char: str) -> bool:
    return char.isspace() or unicodedata.category(char) == "Cf"


def trim_whitespace(text: str, span: dict) -> dict:
    """WiNER has a few spans with edge spaces or format marks (U+200F); trim them (reported)."""
    start, end = span["start"], span["end"]
    while start < end and _invisible(text[start]):
        start += 1
    while end > start and _invisible(text[end - 1]):
        end -= 1
    return {**span, "start": start, "end": end, "trimmed": (start, end) != (span["start"], span["end"])}


def convert_document(
    nlp, txt_path: Path, layers: ProjectLayers, urls: dict[str, str], stats: Counter, issues: list[dict]
) -> Doc:
    doc_id = txt_path.stem
    text = read_text_exact(txt_path)
    kept, dropped = winer_spans(doc_id, text, read_brat(txt_path.with_suffix(".ann")), layers)
    for span in kept:
        if span["trimmed"]:
            issues.append({"doc_id": doc_id, "kind": "winer_span_trimmed", **span})
    for span in dropped:
        stats["winer_spans_dropped_nested"] += 1
        issues.append({"doc_id": doc_id, "kind": "winer_span_not_outermost", **span})
    stats["winer_spans_trimmed"] += sum(s["trimmed"] for s in kept)
    stats["spans_added_by_corrections"] += sum(s["id"].startswith(ADDED_SPAN_ID_PREFIX) for s in kept)
    project = layers.spans_for(doc_id)
    replaced = {ann_id for span in project for ann_id in span.get("replaces_winer", [])}
    # Links are put on later (scripts/link_corpus.py): re-linking must not retrain the NER.
    spans = [CharSpan(s["start"], s["end"], s["label"], "", "winer")
             for s in kept if s["id"] not in replaced]
    spans += [CharSpan(s["start"], s["end"], s["label"], "", "project") for s in project]
    stats["winer_spans_replaced_by_project"] += len([s for s in kept if s["id"] in replaced])
    doc = build_reported_doc(nlp, doc_id, text, spans, stats, issues)
    doc.user_data.update({"doc_id": doc_id, "date": doc_id[:10].replace("_", "-"),
                          "url": urls.get(doc_id, ""), "live_blog": is_live_blog(text)})
    return doc


def build_reported_doc(nlp, doc_id: str, text: str, spans: list[CharSpan], stats: Counter, issues: list[dict]) -> Doc:
    """build_doc, with each token split reported and entities counted."""
    conversion = build_doc(nlp, text, spans)
    for split in conversion.split_tokens:
        stats["tokens_split_for_alignment"] += 1
        issues.append({"doc_id": doc_id, "kind": "token_split_to_align_span", **split})
    for ent in conversion.doc.ents:
        stats[f"entities_{ent.label_}"] += 1
    return conversion.doc


def load_extra_articles(nlp, paths: list[Path], winer_ids: list[str]) -> list[dict]:
    """Articles of validated JSONL files, checked again strictly (ids must not clash with WiNER)."""
    try:
        validator = validate((item for path in paths for item in read_articles(path)), nlp, strict=True,
                             known_ids=winer_ids, known_source="WiNER-fr")
    except StrictModeError as error:
        typer.echo(f"--extra: {error}\n  Run scripts/import_annotations.py on it and read its report.", err=True)
        raise typer.Exit(1) from error
    return validator.kept


def convert_article(nlp, article: dict, stats: Counter, issues: list[dict]) -> Doc:
    """A Doc for an extra article, with the same user_data as the WiNER articles."""
    doc = build_reported_doc(nlp, article["id"], article["text"], to_char_spans(article), stats, issues)
    doc.user_data.update({"doc_id": article["id"], "date": article["date"], "url": article["url"],
                          "live_blog": False})
    return doc


def main(
    winer_dir: Path = typer.Argument(..., help="WiNER-fr folder (YYYY/MM/*.txt + .ann)", exists=True),
    layers_dir: Path = typer.Argument(..., help="Project annotation layers (annotations/)"),
    output: Path = typer.Argument(..., help="DocBin to write"),
    report: Path = typer.Option(Path("corpus/conversion_report.json"), help="Counts and every dropped/split span"),
    limit: int = typer.Option(0, help="Convert only the first N articles (tests)"),
    extra: list[Path] = typer.Option([], "--extra", exists=True, dir_okay=False,
                                     help="Validated article JSONL to add (repeatable)"),
) -> None:
    """Convert WiNER-fr plus project layers into a DocBin of articles."""
    nlp = spacy.blank("fr")
    layers = load_layers(layers_dir)
    urls = article_url_map(winer_dir)
    paths = winer_document_paths(winer_dir)
    paths = paths[:limit] if limit else paths
    winer_ids = [p.stem for p in winer_document_paths(winer_dir)]
    layers.check_coverage(winer_ids)
    extra_articles = load_extra_articles(nlp, extra, winer_ids) if extra else []
    stats: Counter = Counter()
    issues: list[dict] = []
    doc_bin = DocBin(store_user_data=True)
    for path in tqdm(paths, desc="Converting articles", unit="doc"):
        doc_bin.add(convert_document(nlp, path, layers, urls, stats, issues))
    for article in extra_articles:
        doc_bin.add(convert_article(nlp, article, stats, issues))
    if extra_articles:
        stats["extra_articles"] = len(extra_articles)
    output.parent.mkdir(parents=True, exist_ok=True)
    doc_bin.to_disk(output)
    summary = {"articles": len(paths), **dict(sorted(stats.items())),
               "project_layers": layers.summary(), "issues": issues}
    report.parent.mkdir(parents=True, exist_ok=True)
    report.write_text(json.dumps(summary, indent=1, ensure_ascii=False), encoding="utf-8")
    typer.echo(f"Wrote {len(paths) + len(extra_articles)} articles to {output}")
    for key, value in sorted(stats.items()):
        typer.echo(f"  {key}: {value}")
    merged = ", ".join(PROJECT_LAYER_LABELS) if layers.merged else "none (layers incomplete)"
    typer.echo(f"  project layers merged: {merged}; report: {report}")


if __name__ == "__main__":
    typer.run(main)
