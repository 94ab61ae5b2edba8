"""Annotate French news texts with a pipeline; write one JSON line per document.

    python scripts/annotate.py PIPELINE INPUT OUTPUT [--code FILE]... [--batch-size N] [--include-text]
    python -m scripts.annotate ...        (the same, run from the project root)

PIPELINE is a pipeline folder or an installed package name. INPUT is a .txt file, a .jsonl file
(one {"id"?, "text", ...meta} object per line) or a folder searched recursively for both.
Each output line: {"id", "source", "text" (with --include-text), "meta", "entities": [{"start",
"end", "label", "text", "kb_id", "kb_score", "amount", "amount_range", "currency"}]}; offsets are
character offsets into the text as read. Bad inputs (unreadable file, invalid JSON line, missing
text, non-UTF-8 bytes, text over nlp.max_length) are reported on stderr and in the errors JSONL,
and skipped. Exit code 0 when at least one document was annotated, else 1.
"""

import json
import re
import sys
from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import spacy
import typer
from spacy.language import Language
from spacy.tokens import Doc, Span
from tqdm import tqdm

MONEY_CODE = Path(__file__).with_name("money_normalizer.py")
INPUT_SUFFIXES = (".txt", ".jsonl")
QID = re.compile(r"^Q[1-9][0-9]*$")


@dataclass(frozen=True)
class Record:
    id: str | int
    path: str
    line: int | None  # JSONL line number; None for a .txt file
    text: str
    meta: dict = field(default_factory=dict)

    @property
    def source(self) -> str:
        return f"{self.path}:{self.line}" if self.line is not None else self.path


@dataclass(frozen=True)
class Problem:
    path: str
    line: int | None
    reason: str

    @property
    def source(self) -> str:
        return f"{self.path}:{self.line}" if self.line is not None else self.path


# ---------------------------------------------------------------- reading


def read_inputs(path: Path, exclude: Collection[Path] = ()) -> Iterator[Record | Problem]:
    """Records and problems from a .txt file, a .jsonl file or a folder of them, in path order."""
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.suffix in INPUT_SUFFIXES and p.is_file())
        for file in files:
            if file.resolve() not in exclude:  # never read our own output
                yield from read_file(file, file.relative_to(path).with_suffix("").as_posix())
    elif path.exists():
        yield from read_file(path, path.stem)
    else:
        yield Problem(str(path), None, "no such file or folder")


def read_file(path: Path, doc_id: str) -> Iterator[Record | Problem]:
    if path.suffix == ".jsonl":
        yield from read_jsonl(path, doc_id)
    elif path.suffix == ".txt":
        yield read_txt(path, doc_id)
    else:
        yield Problem(str(path), None, f"unsupported file type {path.suffix!r} (expected .txt or .jsonl)")


def read_txt(path: Path, doc_id: str) -> Record | Problem:
    """The whole file is one document; bytes decoded as they are (no newline translation)."""
    try:
        data = path.read_bytes()
    except OSError as error:
        return Problem(str(path), None, f"unreadable: {error.strerror or error}")
    try:
        return Record(doc_id, str(path), None, data.decode("utf-8"))
    except UnicodeDecodeError as error:
        return Problem(str(path), data.count(b"\n", 0, error.start) + 1, _not_utf8(error))


def read_jsonl(path: Path, doc_id: str) -> Iterator[Record | Problem]:
    """One document per line; a bad line is a problem of its own, the other lines still count."""
    try:
        with path.open("rb") as handle:
            for number, raw in enumerate(handle, start=1):
                if raw.strip():
                    yield parse_json_line(raw, str(path), number, f"{doc_id}:{number}")
    except OSError as error:
        yield Problem(str(path), None, f"unreadable: {error.strerror or error}")


def parse_json_line(raw: bytes, source: str, number: int, default_id: str) -> Record | Problem:
    try:
        record = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as error:
        return Problem(source, number, _not_utf8(error))
    except json.JSONDecodeError as error:
        return Problem(source, number, f"invalid JSON: {error.msg} (column {error.colno})")
    if not isinstance(record, dict):
        return Problem(source, number, "not a JSON object")
    if not isinstance(record.get("text"), str):
        return Problem(source, number, 'missing "text" (a string)')
    doc_id = record.get("id", default_id)
    if isinstance(doc_id, bool) or not isinstance(doc_id, str | int):
        return Problem(source, number, '"id" must be a string or an integer')
    meta = {key: value for key, value in record.items() if key not in ("id", "text")}
    return Record(doc_id, source, number, record["text"], meta)


def _not_utf8(error: UnicodeDecodeError) -> str:
    return f"not UTF-8: byte 0x{error.object[error.start]:02x} at byte offset {error.start}"


# ---------------------------------------------------------------- pipeline and output


def load_pipeline(name: str, code: Iterable[Path], add_money: bool) -> Language:
    """spacy.load a folder or a package, after importing the code its config refers to."""
    for path in code:
        spacy.util.import_file(path.stem, path)
    if not Language.has_factory("money_normalizer"):
        spacy.util.import_file("money_normalizer", MONEY_CODE)
    nlp = spacy.load(Path(name) if Path(name).exists() else name)
    if add_money and "money_normalizer" not in nlp.pipe_names:
        nlp.add_pipe("money_normalizer", last=True)  # trained pipelines do not include it
    return nlp


def _extension(span: Span, name: str) -> object:
    return getattr(span._, name) if Span.has_extension(name) else None


def entity_json(span: Span) -> dict:
    amount, bounds, score = (_extension(span, n) for n in ("amount", "amount_range", "kb_score"))
    return {
        "start": span.start_char,
        "end": span.end_char,
        "label": span.label_,
        "text": span.text,
        "kb_id": span.kb_id_ if QID.match(span.kb_id_) else None,  # empty or NIL -> null
        "kb_score": float(score) if score is not None else None,
        "amount": str(amount) if amount is not None else None,
        "amount_range": [str(value) for value in bounds] if bounds else None,
        "currency": _extension(span, "currency"),
    }


def document_json(record: Record, doc: Doc, include_text: bool) -> dict:
    output = {"id": record.id, "source": record.source}
    if include_text:
        output["text"] = record.text
    output["meta"] = record.meta
    output["entities"] = [entity_json(span) for span in doc.ents]
    return output


class ErrorLog:
    """Problems go to stderr (without breaking the progress bar) and to the errors JSONL."""

    def __init__(self, handle: IO[str]) -> None:
        self.handle = handle
        self.count = 0

    def report(self, problem: Problem) -> None:
        tqdm.write(f"skipped {problem.source}: {problem.reason}", file=sys.stderr)
        self.handle.write(json.dumps({"source": problem.path, "line": problem.line, "reason": problem.reason},
                                     ensure_ascii=False) + "\n")
        self.count += 1


def valid_records(items: Iterable[Record | Problem], errors: ErrorLog, max_length: int) -> Iterator[Record]:
    for item in items:
        if isinstance(item, Record) and len(item.text) > max_length:  # nlp.pipe would raise and stop the batch
            item = Problem(item.path, item.line, f"text of {len(item.text)} characters is over nlp.max_length")
        if isinstance(item, Problem):
            errors.report(item)
        else:
            yield item


def default_errors_path(output: Path) -> Path:
    return output.with_name(output.name.removesuffix(".jsonl") + ".errors.jsonl")


# ---------------------------------------------------------------- command


def main(
    pipeline: str = typer.Argument(..., help="Pipeline folder or installed package name"),
    input_path: Path = typer.Argument(..., help="A .txt file, a .jsonl file or a folder of them"),
    output: Path = typer.Argument(..., help="JSONL to write, one line per document"),
    code: list[Path] = typer.Option([], "--code", exists=True, dir_okay=False,
                                    help="Python file to import first (registered functions); repeatable"),
    batch_size: int = typer.Option(32, min=1, help="Documents per nlp.pipe batch"),
    include_text: bool = typer.Option(False, "--include-text", help="Copy each document's text into the output"),
    errors: Path | None = typer.Option(None, help="Errors JSONL (default: next to OUTPUT, named *.errors.jsonl)"),
    gpu_id: int = typer.Option(-1, help="GPU id, -1 for CPU"),
    add_money: bool = typer.Option(True, help="Add money_normalizer when the pipeline lacks it"),
) -> None:
    """Annotate texts and write one JSON line per document; bad inputs are reported and skipped."""
    if gpu_id >= 0:
        spacy.require_gpu(gpu_id)
    try:
        nlp = load_pipeline(pipeline, code, add_money)
    except (OSError, ValueError) as error:  # unknown package, missing registered function, bad config
        typer.echo(f"Cannot load pipeline {pipeline!r}: {error}", err=True)
        raise typer.Exit(1) from error
    errors = errors or default_errors_path(output)
    for path in (output, errors):
        path.parent.mkdir(parents=True, exist_ok=True)
    with output.open("w", encoding="utf-8") as out, errors.open("w", encoding="utf-8") as err:
        log = ErrorLog(err)
        records = valid_records(read_inputs(input_path, {output.resolve(), errors.resolve()}), log, nlp.max_length)
        pairs = nlp.pipe(((r.text, r) for r in records), batch_size=batch_size, as_tuples=True)
        annotated = 0
        for doc, record in tqdm(pairs, desc="Annotating", unit="doc"):
            out.write(json.dumps(document_json(record, doc, include_text), ensure_ascii=False) + "\n")
            annotated += 1
    typer.echo(f"Annotated {annotated} documents -> {output}; skipped {log.count} inputs -> {errors}")
    if not annotated:
        raise typer.Exit(1)


app = typer.Typer(add_completion=False)
app.command()(main)

if __name__ == "__main__":
    app()
