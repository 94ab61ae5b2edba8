"""Convert an annotation tool's export into the project's article format, validated.

  python scripts/import_annotations.py INPUT FORMAT OUTPUT.jsonl --report REPORT.jsonl [--strict]

Default: a bad span is rejected alone, a bad article as a whole, and each rejection (and each
annotation left out on purpose, each automatic fix) gets a line in the report.
--strict: stop at the first rejection, write no output.
"""

from collections import Counter
from enum import StrEnum
from pathlib import Path

import typer

from article_format import StrictModeError, Validator, write_jsonl
from corpus_rules import SPLITS, split_of
from importers import import_items


class Format(StrEnum):
    prodigy = "prodigy"
    labelstudio = "labelstudio"
    doccano = "doccano"
    brat = "brat"
    conll = "conll"
    article = "article"


def default_report(output: Path) -> Path:
    return output.with_name(output.stem + ".report.jsonl")


def split_line(articles: list[dict]) -> str:
    """Where the kept articles would go: the split rule reads the id (a 2018... id goes to test)."""
    counts = Counter(split_of(article["id"]) for article in articles)
    return ", ".join(f"{counts[split]} {split}" for split in SPLITS)


def print_summary(summary: dict, output: Path | None, report: Path, report_lines: int) -> None:
    typer.echo(f"  articles: {summary['articles_kept']} kept, {summary['articles_rejected']} rejected"
               f" ({summary['articles_with_rejected_spans']} kept articles lost a span)"
               + (f"; files rejected: {summary['files_rejected']}" if summary["files_rejected"] else ""))
    typer.echo(f"  spans:    {summary['spans_kept']} kept, {summary['spans_rejected']} rejected"
               f" (+{summary['spans_in_rejected_articles']} in rejected articles)")
    typer.echo(f"  noted:    {summary['ignored']} ignored by design, {summary['fixed']} fixed, "
               f"{summary['token_splits']} token splits")
    if output:
        typer.echo(f"  output:   {output}")
    typer.echo(f"  report:   {report} ({report_lines} lines)")


def main(
    input_path: Path = typer.Argument(..., help="Export file (a folder for brat)", exists=True),
    fmt: Format = typer.Argument(..., metavar="FORMAT", help="Tool that wrote INPUT"),
    output: Path = typer.Argument(..., help="Article JSONL to write"),
    report: Path = typer.Option(None, help="JSONL report (default: OUTPUT with .report.jsonl)"),
    strict: bool = typer.Option(False, "--strict", help="Fail on the first rejection; write no output"),
    text_key: str = typer.Option("text", help="Label Studio: the data field that holds the text"),
) -> None:
    """Import INPUT (FORMAT) into OUTPUT, validated; every rejection is written to the report."""
    report = report or default_report(output)
    validator = Validator(strict=strict)
    typer.echo(f"Importing {input_path} ({fmt.value})")
    try:
        validator.run(import_items(fmt.value, input_path, text_key=text_key))
    except StrictModeError as error:
        lines = write_jsonl(report, validator.report_records())
        typer.echo(f"error (--strict): {error}", err=True)
        print_summary(validator.summary(), None, report, lines)
        typer.echo(f"  nothing written to {output}", err=True)
        raise typer.Exit(1) from error
    write_jsonl(output, validator.kept)
    lines = write_jsonl(report, validator.report_records())
    print_summary(validator.summary(), output, report, lines)
    typer.echo(f"  split:    {split_line(validator.kept)} (by id, scripts/corpus_rules.py)")


if __name__ == "__main__":
    typer.run(main)
