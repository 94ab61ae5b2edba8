"""Importers from annotation tools into the article format (docs/article_format.md).

Each importer yields Candidate articles, checked afterwards by article_format.Validator, and a
Finding for everything it leaves out (a rejected Prodigy answer, a relation, a discontinuous brat
span...), so that nothing disappears without a line in the report. Importers never fix offsets
or labels themselves: that is the validator's job, the same for every tool.
"""

import json
import re
from collections.abc import Callable, Generator, Iterator
from pathlib import Path

from spacy.tokens import Doc
from spacy.training import biluo_tags_to_offsets, iob_to_biluo
from spacy.vocab import Vocab

from article_format import (
    METADATA_FIELDS,
    Candidate,
    Finding,
    ImportItem,
    Location,
    canonical_label,
    is_iso_date,
    read_articles,
    read_jsonl,
)
from corpus_rules import LINKED_LABELS, read_text_exact


def _first_id(*values: object) -> str | None:
    """The first usable id among the candidates (tools store ids as strings or integers)."""
    for value in values:
        if isinstance(value, str) and value.strip():
            return value
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
    return None


def _metadata(*sources: dict) -> dict:
    """title / date / url from the first source that has them."""
    found = {}
    for key in METADATA_FIELDS:
        found[key] = next((s[key] for s in sources if isinstance(s.get(key), str)), "")
    return found


def _as_dict(value: object) -> dict:
    return value if isinstance(value, dict) else {}


# --- Prodigy -------------------------------------------------------------------------------

def import_prodigy(path: Path) -> Iterator[ImportItem]:
    """Prodigy JSONL (db-out): accepted tasks only; id from id, meta.id, else the input hash."""
    for item in read_jsonl(path):
        if isinstance(item, Finding):
            yield item
            continue
        number, task = item
        if not isinstance(task, dict):
            yield Candidate(task, Location(str(path), number))
            continue
        meta = _as_dict(task.get("meta"))
        article_id = _first_id(task.get("id"), meta.get("id")) or f"{path.stem}-{task.get('_input_hash', number)}"
        where = Location(str(path), number, article_id)
        if task.get("answer") != "accept":
            yield Finding("ignored", "not_accepted", f"answer is {task.get('answer')!r}; only 'accept' is imported",
                          where, data=task)
            continue
        yield Candidate({"id": article_id, **_metadata(task, meta), "text": task.get("text"),
                         "spans": task.get("spans"), "meta": {**meta, "tool": "prodigy"}}, where)


# --- Label Studio --------------------------------------------------------------------------

def import_labelstudio(path: Path, text_key: str = "text") -> Iterator[ImportItem]:
    """Label Studio JSON export: a list of tasks; spans are the `labels` results of one annotation."""
    try:
        tasks = json.loads(path.read_text(encoding="utf-8-sig"))
    except json.JSONDecodeError as error:
        yield Finding("file_rejected", "invalid_json", f"{error.msg} at line {error.lineno} column {error.colno}",
                      Location(str(path), error.lineno))
        return
    if not isinstance(tasks, list):
        yield Finding("file_rejected", "not_an_object", "expected a list of tasks (Label Studio 'JSON' export)",
                      Location(str(path)), data=tasks)
        return
    for index, task in enumerate(tasks, start=1):
        yield from _labelstudio_task(path, index, task, text_key)


def _labelstudio_task(path: Path, index: int, task: object, text_key: str) -> Iterator[ImportItem]:
    where = Location(str(path), where=f"task {index}")
    if not isinstance(task, dict) or not isinstance(task.get("data"), dict):
        yield Finding("article_rejected", "not_an_object", "a task needs a 'data' object", where, data=task)
        return
    data = task["data"]
    article_id = _first_id(data.get("id"), data.get("doc_id")) or f"{path.stem}-{task.get('id', index)}"
    where = Location(str(path), None, article_id, f"task {index}")
    chosen = yield from _chosen_annotation(task, where)
    if chosen is None:
        return
    spans = []
    for result in chosen.get("result") or []:
        if not isinstance(result, dict) or result.get("type") != "labels":
            kind = result.get("type") if isinstance(result, dict) else type(result).__name__
            yield Finding("ignored", "not_a_span", f"result of type {kind!r} is not a text span label", where,
                          data=result)
            continue
        value = _as_dict(result.get("value"))
        for label in value.get("labels") or [None]:  # one span per label; [None] lets validation reject it
            spans.append({"start": value.get("start"), "end": value.get("end"), "label": label,
                          "text": value.get("text")})
    meta = {"tool": "labelstudio", "task": task.get("id"), "annotation": chosen.get("id"),
            "annotator": chosen.get("completed_by")}
    yield Candidate({"id": article_id, **_metadata(data), "text": data.get(text_key), "spans": spans,
                     "meta": meta}, where)


def _chosen_annotation(task: dict, where: Location) -> Generator[Finding, None, dict | None]:
    """Generator returning the annotation to import: ground truth, else the most recently updated."""
    annotations = [a for a in task.get("annotations") or [] if isinstance(a, dict)]
    for annotation in annotations:
        if annotation.get("was_cancelled"):
            yield Finding("ignored", "not_accepted", f"annotation {annotation.get('id')} was cancelled (skipped)",
                          where, data=annotation)
    done = [a for a in annotations if not a.get("was_cancelled")]
    if not done:
        yield Finding("ignored", "not_accepted", "no completed annotation (predictions are not imported)", where,
                      data=task)
        return None
    chosen = max(done, key=lambda a: (bool(a.get("ground_truth")), a.get("updated_at") or a.get("created_at") or ""))
    for other in done:
        if other is not chosen:
            yield Finding("ignored", "superseded", f"annotation {other.get('id')} superseded by annotation "
                          f"{chosen.get('id')} (ground truth, else most recent)", where, data=other)
    return chosen


# --- doccano -------------------------------------------------------------------------------

def import_doccano(path: Path) -> Iterator[ImportItem]:
    """doccano JSONL: "label": [[start, end, label]] or "entities": [{start_offset, end_offset, label}]."""
    for item in read_jsonl(path):
        if isinstance(item, Finding):
            yield item
            continue
        number, record = item
        if not isinstance(record, dict):
            yield Candidate(record, Location(str(path), number))
            continue
        article_id = (_first_id(record.get("doc_id"), record.get("article_id"), _as_dict(record.get("meta")).get("id"))
                      or f"{path.stem}-{_first_id(record.get('id')) or number}")
        where = Location(str(path), number, article_id)
        entries = record.get("entities") if "entities" in record else record.get("label", record.get("labels"))
        spans = []
        for entry in entries or []:
            if isinstance(entry, str):  # a text-classification label, not a span
                yield Finding("ignored", "not_a_span", f"document category {entry!r} is not a span", where)
            else:
                spans.append(_doccano_span(entry))
        for relation in record.get("relations") or []:
            yield Finding("ignored", "not_a_span", "relations are not imported", where, data=relation)
        yield Candidate({"id": article_id, **_metadata(record, _as_dict(record.get("meta"))),
                         "text": record.get("text"), "spans": spans,
                         "meta": {"tool": "doccano", "doccano_id": record.get("id")}}, where)


def _doccano_span(entry: object) -> object:
    if isinstance(entry, list | tuple) and len(entry) == 3:
        return {"start": entry[0], "end": entry[1], "label": entry[2]}
    if isinstance(entry, dict):
        return {"start": entry.get("start_offset", entry.get("start")),
                "end": entry.get("end_offset", entry.get("end")), "label": entry.get("label")}
    return entry  # left as is: validation rejects it as malformed, with the value in the report


# --- brat ----------------------------------------------------------------------------------

WINER_STYLE_ID = re.compile(r"^\d{4}_\d{2}_\d{2}\b")
BRAT_KINDS = {"R": "relation", "E": "event", "A": "attribute", "M": "attribute", "#": "note", "*": "equivalence"}


def import_brat(folder: Path) -> Iterator[ImportItem]:
    """A folder of brat .txt + .ann pairs (searched recursively); the id is the file stem."""
    if not folder.is_dir():
        yield Finding("file_rejected", "missing_text", "brat input must be a folder of .txt + .ann pairs",
                      Location(str(folder)))
        return
    for ann in sorted(folder.rglob("*.ann")):
        if not ann.with_suffix(".txt").exists():
            yield Finding("article_rejected", "missing_text", "no .txt file next to this .ann", Location(str(ann)))
    for txt in sorted(folder.rglob("*.txt")):
        if txt.with_suffix(".ann").exists():
            yield from _brat_document(txt, txt.with_suffix(".ann"))
        else:  # an unannotated text would teach the model that it mentions nothing
            yield Finding("article_rejected", "missing_annotations", "no .ann file next to this .txt",
                          Location(str(txt), article_id=txt.stem), data=read_text_exact(txt))


def _brat_document(txt: Path, ann: Path) -> Iterator[ImportItem]:
    article_id, text = txt.stem, read_text_exact(txt)
    spans: dict[str, dict] = {}
    links: list[tuple[int, str]] = []
    # split on \n only: str.splitlines would also cut at U+0085 or U+2028 inside a surface text
    for number, line in enumerate(read_text_exact(ann).split("\n"), start=1):
        line = line.removesuffix("\r")
        where = Location(str(ann), number, article_id)
        if line.startswith("T"):
            span = yield from _brat_span(line, text, where)
            if span:
                spans[span["id"]] = span
        elif line.startswith("N"):
            links.append((number, line))
        elif line.strip():
            what = BRAT_KINDS.get(line[:1], "unknown")
            yield Finding("ignored", "not_a_span", f"brat {what} annotation not imported", where, data=line)
    for number, line in links:
        yield from _brat_link(line, spans, Location(str(ann), number, article_id))
    date = article_id[:10].replace("_", "-") if WINER_STYLE_ID.match(article_id) else ""  # as convert_corpus
    date = date if is_iso_date(date) else ""
    yield Candidate({"id": article_id, "title": "", "date": date, "url": "", "text": text,
                     "spans": list(spans.values()), "meta": {"tool": "brat"}}, Location(str(ann), None, article_id))


def _brat_span(line: str, text: str, where: Location) -> Generator[Finding, None, dict | None]:
    """Generator returning the span of a T line (None when rejected)."""
    fields = line.split("\t")
    try:
        label, offsets = fields[1].split(" ", 1)
        pieces = [tuple(int(n) for n in piece.split()) for piece in offsets.split(";")]
        if any(len(piece) != 2 for piece in pieces):
            raise ValueError(offsets)
    except (IndexError, ValueError):
        yield Finding("span_rejected", "malformed_span", "expected 'T<n>\\t<label> <start> <end>\\t<text>'", where,
                      data=line)
        return None
    if len(pieces) > 1:  # a flat NER span cannot skip text; taking the extent would change it
        yield Finding("span_rejected", "discontinuous_span", f"fragments {offsets} cannot be one flat span", where,
                      data=line)
        return None
    (start, end), surface = pieces[0], fields[2] if len(fields) > 2 else None
    if surface is not None and _same_but_line_breaks(surface, text[start:end]):
        surface = text[start:end]  # brat writes a line break inside a span as a space
    return {"id": fields[0], "start": start, "end": end, "label": label, "text": surface}


def _same_but_line_breaks(surface: str, actual: str) -> bool:
    if len(surface) != len(actual):
        return False
    return all(a == b or (a == " " and b in "\r\n") for a, b in zip(surface, actual, strict=True))


def _brat_link(line: str, spans: dict[str, dict], where: Location) -> Iterator[Finding]:
    """N<n>\\tReference T<n> Wikidata:Q42\\t<name>: the QID becomes the span's kb_id."""
    fields = line.split("\t")
    parts = fields[1].split(" ") if len(fields) > 1 else []
    if len(parts) != 3 or parts[0] != "Reference" or ":" not in parts[2]:
        yield Finding("ignored", "link_not_imported", "expected 'N<n>\\tReference T<n> Wikidata:Q<id>'", where,
                      data=line)
        return
    target, (resource, kb_id) = parts[1], parts[2].split(":", 1)
    span = spans.get(target)
    label = canonical_label(span["label"]) if span else None
    if resource.lower() != "wikidata":
        reason = f"resource {resource!r} is not Wikidata"
    elif span is None:
        reason = f"{target} is not an imported span"
    elif label not in LINKED_LABELS:  # a link on LOC is not worth losing the LOC span for
        reason = f"{span['label']} takes no kb_id (only {', '.join(LINKED_LABELS)})"
    elif span.get("kb_id") not in (None, kb_id):
        reason = f"{target} already links to {span['kb_id']}"
    else:
        span["kb_id"] = kb_id
        return
    yield Finding("ignored", "link_not_imported", reason, where, data=line)


# --- CoNLL-2003 / IOB ----------------------------------------------------------------------

TAG = re.compile(r"^(O|[BI]-\S+)$")
COLUMN_SEPARATOR = re.compile(r"[ \t]+")  # not str.split(): U+00A0 inside a token is no separator


def import_conll(path: Path) -> Iterator[ImportItem]:
    """CoNLL-2003 / IOB1 / IOB2: token first, tag last; -DOCSTART- or each blank-line group is a document."""
    lines = path.read_text(encoding="utf-8-sig").split("\n")  # not splitlines(): U+2028 is no line break here
    by_docstart = any(line.startswith("-DOCSTART-") for line in lines)
    for index, (first_line, sentences) in enumerate(_conll_documents(lines, by_docstart), start=1):
        yield _conll_article(path, f"{path.stem}-{index:04d}", first_line, sentences)


def _conll_documents(lines: list[str], by_docstart: bool) -> Iterator[tuple[int, list[list[tuple[int, str]]]]]:
    """(first line number, sentences of (line number, line)) per document."""
    document: list[list[tuple[int, str]]] = []
    sentence: list[tuple[int, str]] = []
    for number, line in enumerate([*lines, ""], start=1):  # the extra "" closes the last document
        docstart = line.startswith("-DOCSTART-")
        if line.strip() and not docstart:
            sentence.append((number, line))
            continue
        if sentence:
            document.append(sentence)
            sentence = []
        if document and (docstart or not by_docstart or number > len(lines)):
            yield document[0][0][0], document
            document = []


def _conll_article(path: Path, article_id: str, first_line: int, sentences: list) -> ImportItem:
    where = Location(str(path), first_line, article_id)
    words, spaces, tags = [], [], []
    for sentence in sentences:
        for position, (number, line) in enumerate(sentence):
            columns = COLUMN_SEPARATOR.split(line.strip(" \t\r"))
            if len(columns) < 2 or not TAG.match(columns[-1]):
                return Finding("article_rejected", "malformed_tag", f"line {number}: expected 'token ... IOB-tag', "
                               f"got {line!r}", where, data=[line for s in sentences for _, line in s])
            words.append(columns[0])
            tags.append(columns[-1])
            spaces.append(position < len(sentence) - 1)
        words.append("\n")  # sentences are lines of the rebuilt text
        tags.append("O")
        spaces.append(False)
    doc = Doc(Vocab(), words=words[:-1], spaces=spaces[:-1])
    spans = [{"start": start, "end": end, "label": label, "text": doc.text[start:end]}
             for start, end, label in biluo_tags_to_offsets(doc, iob_to_biluo(tags[:-1]))]
    return Candidate({"id": article_id, "title": "", "date": "", "url": "", "text": doc.text, "spans": spans,
                      "meta": {"tool": "conll"}}, where)


IMPORTERS: dict[str, Callable[..., Iterator[ImportItem]]] = {
    "article": read_articles,
    "prodigy": import_prodigy,
    "labelstudio": import_labelstudio,
    "doccano": import_doccano,
    "brat": import_brat,
    "conll": import_conll,
}


def import_items(fmt: str, path: Path, text_key: str = "text") -> Iterator[ImportItem]:
    """Candidates and Findings read from `path` in format `fmt` (one of IMPORTERS)."""
    if fmt == "labelstudio":
        return import_labelstudio(path, text_key)
    return IMPORTERS[fmt](path)
