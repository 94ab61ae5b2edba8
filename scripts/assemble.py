"""Assemble the shipped pipeline: the trained transformer + NER, plus MONEY normalisation.

Adding rule-based components after training keeps them out of the training run (they have
nothing to learn) and lets the evaluation and the package use exactly the same pipeline.
"""

from pathlib import Path

import spacy
import typer


def main(
    trained: Path = typer.Argument(..., help="Trained pipeline (model-best)", exists=True),
    output: Path = typer.Argument(..., help="Folder for the assembled pipeline"),
    code: list[Path] = typer.Option([], help="Files registering the custom components"),
) -> None:
    """Add money_normalizer after the NER and save the pipeline."""
    for path in code:
        spacy.util.import_file(path.stem, path)
    nlp = spacy.load(trained)
    if "money_normalizer" not in nlp.pipe_names:
        nlp.add_pipe("money_normalizer", after="ner")
    nlp.to_disk(output)
    typer.echo(f"Saved {output} with pipeline {nlp.pipe_names}")


if __name__ == "__main__":
    typer.run(main)
