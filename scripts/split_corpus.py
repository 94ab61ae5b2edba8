"""Split the converted articles into train / dev / test by the rule in corpus_rules.split_of."""

import json
from collections import Counter, defaultdict
from pathlib import Path

import spacy
import typer
from spacy.tokens import Doc, DocBin

from corpus_rules import SPLITS, split_of


def corpus_stats(docs: list[Doc]) -> dict:
    """Articles, tokens and entities per label of a list of articles."""
    labels = Counter(ent.label_ for doc in docs for ent in doc.ents)
    return {"articles": len(docs), "tokens": sum(len(d) for d in docs), "entities": dict(sorted(labels.items()))}


def main(
    articles: Path = typer.Argument(..., help="DocBin from convert_corpus.py", exists=True),
    output_dir: Path = typer.Argument(..., help="Folder for train.spacy, dev.spacy, test.spacy"),
) -> None:
    """Write one DocBin per split and print the counts of articles, tokens and entities."""
    nlp = spacy.blank("fr")
    docs = list(DocBin().from_disk(articles).get_docs(nlp.vocab))
    by_split: dict[str, list] = defaultdict(list)
    for doc in docs:
        by_split[split_of(doc.user_data["doc_id"])].append(doc)
    stats = {}
    output_dir.mkdir(parents=True, exist_ok=True)
    for split in SPLITS:
        split_docs = by_split[split]
        DocBin(docs=split_docs, store_user_data=True).to_disk(output_dir / f"{split}.spacy")
        stats[split] = corpus_stats(split_docs)
        typer.echo(f"{split:5} {stats[split]}")
    (output_dir / "split_stats.json").write_text(json.dumps(stats, indent=2), encoding="utf-8")


if __name__ == "__main__":
    typer.run(main)
