"""Assemble the shipped pipeline: the trained transformer + NER, the MONEY and POLICY_EVENT
boundary rules, document-level label consistency for names, the entity linker with its
calibrated link scorer, MONEY normalisation, and the CPU bfloat16 switch for the encoder.

Components trained apart (the linker) or with nothing to learn (sentencizer, scorer, money)
are added after training, so the evaluation and the package use exactly the same pipeline.
"""

import json
from pathlib import Path

import spacy
import typer
from spacy.language import Language


def main(
    trained: Path = typer.Argument(..., help="Trained NER pipeline (model-best)", exists=True),
    output: Path = typer.Argument(..., help="Folder for the assembled pipeline"),
    linker: Path = typer.Option(None, help="Trained linker pipeline (sentencizer + entity_linker)"),
    calibration: Path = typer.Option(None, help="calibration.json from calibrate_linker.py"),
    code: list[Path] = typer.Option([], help="Files registering the custom components"),
) -> None:
    """Add fr_news_cpu_bf16 first, the entity rules and the linker (when given) after the NER,
    money_normalizer last; save."""
    for path in code:
        spacy.util.import_file(path.stem, path)
    nlp = spacy.load(trained)
    if linker is not None:
        add_linker(nlp, spacy.load(linker), json.loads(calibration.read_text()) if calibration else {})
    add_entity_rules(nlp)
    if "transformer" in nlp.pipe_names and "fr_news_cpu_bf16" not in nlp.pipe_names:
        nlp.add_pipe("fr_news_cpu_bf16", first=True)
    if "money_normalizer" not in nlp.pipe_names:
        nlp.add_pipe("money_normalizer", last=True)
    nlp.to_disk(output)
    typer.echo(f"Saved {output} with pipeline {nlp.pipe_names}")


# The rule components after the NER, in pipeline order (scripts/evaluate.py scores each step).
ENTITY_RULES = ("money_boundaries", "fr_news_entity_boundaries", "fr_news_label_consistency")


def add_entity_rules(nlp: Language) -> None:
    """Right after the NER: MONEY spans by the amount grammar, POLICY_EVENT ends trimmed, then
    the repeats of the names found tagged (after the trimming, so trimmed names are matched)."""
    previous = "ner"
    for name in ENTITY_RULES:
        if name not in nlp.pipe_names:
            nlp.add_pipe(name, after=previous)
        previous = name


def add_linker(nlp: Language, linker_nlp: Language, calibration: dict) -> None:
    nlp.add_pipe("sentencizer", source=linker_nlp, after="ner")
    nlp.add_pipe("entity_linker", source=linker_nlp, after="sentencizer")
    config = {k: calibration[k] for k in ("weights", "intercept", "threshold", "ranker") if k in calibration}
    nlp.add_pipe("fr_news_link_scorer", after="entity_linker", config=config)


if __name__ == "__main__":
    typer.run(main)
