"""Put the links layer (QID or NIL per PER/ORG mention) on the split corpora for the linker.

The NER corpora carry no links, so that re-linking mentions or growing the knowledge base
reruns only the linking steps (KB, linker, calibration, evaluation), never the hour-long NER
training. Mentions are matched by (doc_id, start, end); a PER/ORG entity without a link
record is reported and left without kb_id (the linker skips it).
"""

import json
from collections import Counter
from pathlib import Path

import spacy
import typer
from spacy.tokens import Doc, DocBin, Span
from tqdm import tqdm

from corpus_rules import LINKED_LABELS, NIL, SPLITS
from project_layers import load_links


def link_doc(doc: Doc, links: dict[tuple[str, int, int], str], stats: Counter) -> Doc:
    doc_id = doc.user_data["doc_id"]
    ents = []
    for ent in doc.ents:
        kb_id = ent.kb_id_
        if ent.label_ in LINKED_LABELS and not kb_id:
            kb_id = links.get((doc_id, ent.start_char, ent.end_char), "")
            stats["no_link_record" if not kb_id else NIL if kb_id == NIL else "qid"] += 1
        ents.append(Span(doc, ent.start, ent.end, label=ent.label_, kb_id=kb_id))
    doc.ents = ents
    return doc


def main(
    corpus_dir: Path = typer.Argument(..., help="Folder with train/dev/test.spacy", exists=True, file_okay=False),
    links_dir: Path = typer.Argument(..., help="The links layer (annotations/links)", exists=True, file_okay=False),
    output_dir: Path = typer.Argument(..., help="Where to write the linked train/dev/test.spacy"),
) -> None:
    """Write corpus_dir/<split>.spacy with each PER/ORG entity's QID or NIL as kb_id."""
    links = load_links(links_dir)
    nlp = spacy.blank("fr")
    output_dir.mkdir(parents=True, exist_ok=True)
    report: dict[str, dict] = {}
    for split in SPLITS:
        stats: Counter = Counter()
        docs = DocBin().from_disk(corpus_dir / f"{split}.spacy").get_docs(nlp.vocab)
        linked = [link_doc(doc, links, stats) for doc in tqdm(docs, desc=f"Linking {split}", unit="doc")]
        DocBin(docs=linked, store_user_data=True).to_disk(output_dir / f"{split}.spacy")
        report[split] = dict(sorted(stats.items()))
        typer.echo(f"{split}: {report[split]}")
    (output_dir / "link_report.json").write_text(json.dumps(report, indent=1), encoding="utf-8")


if __name__ == "__main__":
    typer.run(main)
