"""Keep a fraction of a corpus's articles, for learning curves ("would more annotation help?").

Articles are ranked by a hash of their document id, so the choice does not depend on file order
and smaller fractions are subsets of larger ones (25% ⊂ 50% ⊂ 100%).
"""

import hashlib
from pathlib import Path

import spacy
import typer
from spacy.tokens import Doc, DocBin

from split_corpus import corpus_stats


def article_rank(doc_id: str, seed: int) -> str:
    """A stable pseudo-random sort key for an article."""
    return hashlib.sha1(f"{seed}:{doc_id}".encode()).hexdigest()


def subsample(docs: list[Doc], fraction: float, seed: int = 0) -> list[Doc]:
    """The first round(fraction × n) articles in hash order, at least one."""
    if not 0 < fraction <= 1:
        raise ValueError(f"fraction must be in (0, 1], got {fraction}")
    ranked = sorted(docs, key=lambda doc: article_rank(doc.user_data["doc_id"], seed))
    return ranked[: max(1, round(fraction * len(docs)))]


def main(
    corpus: Path = typer.Argument(..., help="DocBin of articles, e.g. corpus/train.spacy", exists=True),
    output: Path = typer.Argument(..., help="DocBin to write"),
    fraction: float = typer.Option(0.5, help="Share of the articles to keep, in (0, 1]"),
    seed: int = typer.Option(0, help="Changes which articles are kept"),
) -> None:
    """Write a DocBin with a fraction of the articles and print what it holds."""
    nlp = spacy.blank("fr")
    docs = list(DocBin().from_disk(corpus).get_docs(nlp.vocab))
    try:
        kept = subsample(docs, fraction, seed)
    except ValueError as error:
        raise typer.BadParameter(str(error), param_hint="--fraction") from error
    output.parent.mkdir(parents=True, exist_ok=True)
    DocBin(docs=kept, store_user_data=True).to_disk(output)
    stats = corpus_stats(kept)
    typer.echo(f"{stats['articles']}/{len(docs)} articles, {stats['tokens']} tokens, {stats['entities']} -> {output}")


if __name__ == "__main__":
    typer.run(main)
