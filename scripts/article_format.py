"""The project's annotated-article format (JSON Lines) and its validator.

One article per line (full description in docs/article_format.md):

  {"id": "2019_03_01-lemonde-001", "title": "...", "date": "2019-03-01", "url": "...",
   "text": "...", "spans": [{"start": 0, "end": 6, "label": "PER", "kb_id": "Q42", "text": "..."}]}

`spans` is Prodigy's span list (extra keys such as token_start are ignored), so Prodigy output
that carries ids reads as is. Validation never loses data silently: every rejected file, article
or span, every annotation left out on purpose and every automatic fix becomes a Finding, which
the callers write to a JSONL report.
"""

import bisect
import datetime
import json
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import spacy
from spacy.language import Language
from spacy.tokens import Doc

from corpus_rules import LABELS, LINKED_LABELS, NIL, QID_PATTERN
from spans_to_docs import CharSpan

METADATA_FIELDS = ("title", "date", "url")

# Spellings met in annotation tools and public corpora. Anything else is an unknown label (an
# error): mapping e.g. MISC or FAC to one of ours would be a guess. OntoNotes GPE (countries,
# cities, regions) is LOC by the project's rules.
LABEL_ALIASES = {
    "PER": "PER", "PERS": "PER", "PERSON": "PER", "PERSONNE": "PER",
    "ORG": "ORG", "ORGANIZATION": "ORG", "ORGANISATION": "ORG",
    "LOC": "LOC", "LOCATION": "LOC", "LIEU": "LOC", "GPE": "LOC",
    "MONEY": "MONEY",
    "POLICY_EVENT": "POLICY_EVENT",
}
assert set(LABEL_ALIASES.values()) == set(LABELS)

# What a report line does with the data: the first three lose something and fail --strict.
REJECTIONS = ("file_rejected", "article_rejected", "span_rejected")
NOTES = ("ignored", "fixed", "token_split")


class StrictModeError(Exception):
    """Raised on the first rejection when validating with strict=True."""

    def __init__(self, finding: "Finding"):
        super().__init__(finding.message())
        self.finding = finding


@dataclass(frozen=True)
class Location:
    file: str
    line: int | None = None
    article_id: str | None = None
    where: str = ""  # for inputs without lines, e.g. "task 3" of a Label Studio export

    def __str__(self) -> str:
        text = self.file + (f":{self.line}" if self.line else "")
        text += f" ({self.where})" if self.where else ""
        return text + (f" [article {self.article_id}]" if self.article_id else "")


@dataclass(frozen=True)
class Finding:
    """One report line: what happened (action), why (kind, reason), where, and the data itself."""

    action: str
    kind: str
    reason: str
    location: Location
    span: dict | None = None
    data: object = None  # the rejected article or raw line, so that nothing is lost

    @property
    def rejects(self) -> bool:
        return self.action in REJECTIONS

    def message(self) -> str:
        span = f" span {describe_span(self.span)}" if self.span else ""
        return f"{self.location}{span}: {self.kind}: {self.reason}"

    def record(self) -> dict:
        where = self.location
        return {"action": self.action, "kind": self.kind, "reason": self.reason, "file": where.file,
                "line": where.line, "where": where.where or None, "article_id": where.article_id,
                "span": self.span, "data": self.data}


@dataclass(frozen=True)
class Candidate:
    """An article as read from an input, before validation."""

    article: object
    location: Location


ImportItem = Candidate | Finding


class _Reject(Exception):
    def __init__(self, kind: str, reason: str):
        super().__init__(reason)
        self.kind = kind
        self.reason = reason


def canonical_label(label: str) -> str | None:
    """PER for 'Person', 'PERSON', 'per'...; None when the spelling is not in LABEL_ALIASES."""
    return LABEL_ALIASES.get(label.strip().upper().replace("-", "_").replace(" ", "_"))


def describe_span(span: dict) -> str:
    if not isinstance(span, dict):
        return repr(span)
    text = f" {span['text']!r}" if isinstance(span.get("text"), str) else ""
    return f"{span.get('start')}-{span.get('end')} {span.get('label')}{text}"


def read_jsonl(path: Path) -> Iterator[tuple[int, object] | Finding]:
    """(line number, parsed value) per non-blank line; a Finding for a line that is not JSON."""
    # utf-8-sig: Windows editors add a BOM. Universal newlines are safe: raw CR or LF cannot
    # occur inside a JSON string, and U+2028 (which str.splitlines would split on) stays put.
    with path.open(encoding="utf-8-sig") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                yield number, json.loads(line)
            except json.JSONDecodeError as error:
                yield Finding("article_rejected", "invalid_json", f"{error.msg} at column {error.colno}",
                              Location(str(path), number), data=line.rstrip("\r\n"))


def read_articles(path: Path) -> Iterator[ImportItem]:
    """The `article` format itself: one Candidate per JSON line."""
    for item in read_jsonl(path):
        if isinstance(item, Finding):
            yield item
            continue
        number, record = item
        article_id = record.get("id") if isinstance(record, dict) else None
        yield Candidate(record, Location(str(path), number, article_id if isinstance(article_id, str) else None))


def write_jsonl(path: Path, records: Iterable[dict]) -> int:
    """Write one JSON object per line (UTF-8, LF line endings); return the number of lines."""
    path.parent.mkdir(parents=True, exist_ok=True)
    count = 0
    with path.open("w", encoding="utf-8", newline="\n") as handle:
        for record in records:
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
            count += 1
    return count


def to_char_spans(article: dict, source: str = "extra") -> list[CharSpan]:
    """The spans of a validated article, ready for spans_to_docs.build_doc."""
    return [CharSpan(s["start"], s["end"], s["label"], s.get("kb_id", ""), source) for s in article["spans"]]


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _invisible(char: str) -> bool:
    return char.isspace() or unicodedata.category(char) == "Cf"


def is_iso_date(value: str) -> bool:
    try:
        datetime.date.fromisoformat(value)
    except ValueError:
        return False
    return len(value) == 10


def article_problem(article: object) -> tuple[str, str] | None:
    """(kind, reason) when the article as a whole cannot be used, else None."""
    if not isinstance(article, dict):
        return "not_an_object", f"expected a JSON object, got {type(article).__name__}"
    if not isinstance(article.get("id"), str) or not article["id"].strip():
        return "missing_id", "every article needs a non-empty string 'id'"
    if not isinstance(article.get("text"), str):
        return "missing_text", "no 'text' string"
    if not article["text"].strip():
        return "empty_article", "the text is empty or only whitespace"
    for key in METADATA_FIELDS:
        if article.get(key) is not None and not isinstance(article[key], str):
            return "bad_metadata", f"'{key}' must be a string"
    if article.get("date") and not is_iso_date(article["date"]):
        return "bad_metadata", f"date {article['date']!r} is not YYYY-MM-DD"
    if article.get("spans") is not None and not isinstance(article["spans"], list):
        return "malformed_spans", "'spans' must be a list"
    return None


def parse_span(raw: object) -> dict:
    """Shape, label and kb_id checks; raises _Reject."""
    if not isinstance(raw, dict):
        raise _Reject("malformed_span", f"expected an object, got {type(raw).__name__}")
    if not (_is_int(raw.get("start")) and _is_int(raw.get("end"))):
        raise _Reject("malformed_span", "'start' and 'end' must be integers")
    if not isinstance(raw.get("label"), str):
        raise _Reject("malformed_span", "'label' must be a string")
    if raw.get("text") is not None and not isinstance(raw["text"], str):
        raise _Reject("malformed_span", "'text' must be a string")
    label = canonical_label(raw["label"])
    if label is None:
        raise _Reject("unknown_label", f"{raw['label']!r} is none of {', '.join(LABELS)} (nor a known spelling)")
    kb_id = raw.get("kb_id") or ""
    if kb_id and label not in LINKED_LABELS:
        raise _Reject("kb_id_not_allowed", f"{label} takes no kb_id (only {', '.join(LINKED_LABELS)}), got {kb_id!r}")
    if kb_id and (not isinstance(kb_id, str) or (kb_id != NIL and not QID_PATTERN.match(kb_id))):
        raise _Reject("malformed_qid", f"kb_id {kb_id!r} is neither {NIL} nor a Wikidata QID such as Q42")
    return {"start": raw["start"], "end": raw["end"], "label": label, "kb_id": kb_id, "text": raw.get("text")}


def _offset_tables(text: str) -> Iterator[tuple[str, dict[int, int]]]:
    """Offset translations for tools that miscount: JavaScript UTF-16 units, CRLF counted as one."""
    if any(ord(char) > 0xFFFF for char in text):
        table, units = {}, 0
        for index, char in enumerate(text):
            table[units] = index
            units += 2 if ord(char) > 0xFFFF else 1
        yield "in UTF-16 code units", {**table, units: len(text)}
    if "\r\n" in text:
        table, counted = {}, 0
        for index, char in enumerate(text):
            if not (char == "\n" and index and text[index - 1] == "\r"):
                table[counted] = index
                counted += 1
        yield "with \\r\\n as one character", {**table, counted: len(text)}


def _mismatch(text: str, start: int, end: int, given: str) -> _Reject:
    if start < 0 or end > len(text) or start >= end:
        return _Reject("offsets_out_of_range", f"{start}-{end} is not a range inside the text (length {len(text)})")
    found = [m.start() for m in re.finditer(re.escape(given), text)] if given else []
    hint = ""
    if found:
        nearest = min(found, key=lambda offset: abs(offset - start))
        hint = f"; {given!r} occurs at {nearest}-{nearest + len(given)}"
    return _Reject("text_mismatch", f"text[{start}:{end}] is {text[start:end]!r}, the span says {given!r}{hint}")


def locate(span: dict, text: str, notes: list[tuple[str, str, str]]) -> dict:
    """Offsets checked against the text (remapped when the span's own text proves a miscount)."""
    start, end, given = span["start"], span["end"], span["text"]
    if given is not None and text[max(start, 0):max(end, 0)] != given:
        for how, table in _offset_tables(text):
            mapped = table.get(start), table.get(end)
            if None not in mapped and text[mapped[0]:mapped[1]] == given:
                reason = f"{start}-{end} were counted {how}; now {mapped[0]}-{mapped[1]}"
                notes.append(("fixed", "offsets_remapped", reason))
                start, end = mapped
                break
        else:
            raise _mismatch(text, start, end, given)
    if start < 0 or end > len(text):
        raise _Reject("offsets_out_of_range", f"{start}-{end} is outside the text (length {len(text)})")
    if start >= end:
        raise _Reject("empty_span", f"start {start} is not before end {end}")
    return {**span, **_trimmed(text, start, end, notes)}


def _trimmed(text: str, start: int, end: int, notes: list[tuple[str, str, str]]) -> dict:
    """Spaces and format marks at the edges are trimmed (a span never includes them): reported."""
    new_start, new_end = start, end
    while new_start < new_end and _invisible(text[new_start]):
        new_start += 1
    while new_end > new_start and _invisible(text[new_end - 1]):
        new_end -= 1
    if new_start == new_end:
        raise _Reject("empty_span", f"{start}-{end} holds only whitespace")
    if (new_start, new_end) != (start, end):
        notes.append(("fixed", "trimmed", f"edge whitespace trimmed: {start}-{end} -> {new_start}-{new_end}"))
    return {"start": new_start, "end": new_end, "text": text[new_start:new_end]}


class TokenIndex:
    """Token boundaries of spacy.blank('fr') for one text."""

    def __init__(self, doc: Doc):
        self.doc = doc
        self.starts = [token.idx for token in doc]  # sorted, for bisect
        self.start_set = set(self.starts)
        self.ends = {token.idx + len(token.text) for token in doc}

    def check(self, span: dict, notes: list[tuple[str, str, str]]) -> None:
        """A cut inside a word is an error; a cut at punctuation only needs a token split (noted)."""
        text = self.doc.text
        for which, offset, aligned in (("start", span["start"], span["start"] in self.start_set),
                                       ("end", span["end"], span["end"] in self.ends)):
            if aligned:
                continue
            token = self.doc[bisect.bisect_right(self.starts, offset) - 1]
            where = f"{which} {offset} cuts the token {token.text!r} ({token.idx}-{token.idx + len(token.text)})"
            before, after = text[offset - 1], text[offset]
            if before.isalnum() and after.isalnum():
                raise _Reject("inside_word", f"{where} inside a word, between {before!r} and {after!r}")
            notes.append(("token_split", "token_split", f"{where} between {before!r} and {after!r}; token split"))


class Validator:
    """Validate Candidates into clean articles; collect a Finding for everything not kept as is."""

    def __init__(self, nlp: Language | None = None, strict: bool = False, known_ids: Iterable[str] = (),
                 known_source: str = "the existing corpus"):
        self.nlp = nlp or spacy.blank("fr")
        self.strict = strict
        self.seen: dict[str, Location] = {doc_id: Location(known_source) for doc_id in known_ids}
        self.kept: list[dict] = []
        self.findings: list[Finding] = []
        self.counts: Counter = Counter()

    def run(self, items: Iterable[ImportItem]) -> "Validator":
        for item in items:
            if isinstance(item, Finding):
                self.note(item)
            else:
                self.check_article(item)
        return self

    def note(self, finding: Finding) -> None:
        self.findings.append(finding)
        self.counts[finding.action] += 1
        if self.strict and finding.rejects:
            raise StrictModeError(finding)

    def check_article(self, candidate: Candidate) -> None:
        article, where = candidate.article, candidate.location
        if isinstance(article, dict) and "answer" in article and article["answer"] != "accept":
            self.note(Finding("ignored", "not_accepted", f"answer is {article['answer']!r}; only 'accept' is imported",
                              where, data=article))
            return
        problem = article_problem(article)
        if problem is None and article["id"] in self.seen:
            problem = ("duplicate_id", f"id {article['id']!r} already used at {self.seen[article['id']]}")
        if problem:
            spans = article.get("spans") if isinstance(article, dict) else None
            self.counts["spans_in_rejected_articles"] += len(spans) if isinstance(spans, list) else 0
            self.note(Finding("article_rejected", *problem, where, data=article))
            return
        rejected_before = self.counts["span_rejected"]
        spans = self.check_spans(article, where)
        self.counts["articles_with_rejected_spans"] += self.counts["span_rejected"] > rejected_before
        self.seen[article["id"]] = where
        self.kept.append(clean_article(article, spans))

    def check_spans(self, article: dict, where: Location) -> list[dict]:
        text = article["text"]
        tokens = TokenIndex(self.nlp.make_doc(text))
        valid = [span for raw in article.get("spans") or [] if (span := self.check_span(raw, text, tokens, where))]
        return self.without_overlaps(valid, where)

    def check_span(self, raw: object, text: str, tokens: TokenIndex, where: Location) -> dict | None:
        notes: list[tuple[str, str, str]] = []
        try:
            span = locate(parse_span(raw), text, notes)
            tokens.check(span, notes)
        except _Reject as error:
            self.note(Finding("span_rejected", error.kind, error.reason, where, span=raw))
            return None
        for action, kind, reason in notes:
            self.note(Finding(action, kind, reason, where, span=raw))
        return span

    def without_overlaps(self, spans: list[dict], where: Location) -> list[dict]:
        """Spans never overlap: the outermost, then the first in text order, is kept (as for WiNER)."""
        kept: list[dict] = []
        for span in sorted(spans, key=lambda s: (s["start"], -s["end"])):
            if kept and span["start"] < kept[-1]["end"]:
                same = (span["start"], span["end"]) == (kept[-1]["start"], kept[-1]["end"])
                reason = f"{'same offsets as' if same else 'overlaps'} {describe_span(kept[-1])}, which is kept"
                self.note(Finding("span_rejected", "overlap", reason, where, span=clean_span(span)))
            else:
                kept.append(span)
        return kept

    def summary(self) -> dict:
        counts = self.counts
        return {"articles_kept": len(self.kept), "articles_rejected": counts["article_rejected"],
                "files_rejected": counts["file_rejected"],
                "articles_with_rejected_spans": counts["articles_with_rejected_spans"],
                "spans_kept": sum(len(article["spans"]) for article in self.kept),
                "spans_rejected": counts["span_rejected"],
                "spans_in_rejected_articles": counts["spans_in_rejected_articles"],
                "ignored": counts["ignored"], "fixed": counts["fixed"], "token_splits": counts["token_split"]}

    def report_records(self) -> list[dict]:
        return [finding.record() for finding in self.findings]


def clean_span(span: dict) -> dict:
    record = {"start": span["start"], "end": span["end"], "label": span["label"], "text": span["text"]}
    return {**record, "kb_id": span["kb_id"]} if span.get("kb_id") else record


def clean_article(article: dict, spans: list[dict]) -> dict:
    """The article in canonical form: every field present, labels canonical, span text filled in."""
    record = {"id": article["id"], **{key: article.get(key) or "" for key in METADATA_FIELDS},
              "text": article["text"], "spans": [clean_span(span) for span in spans]}
    if isinstance(article.get("meta"), dict) and article["meta"]:
        record["meta"] = article["meta"]
    return record


def validate(items: Iterable[ImportItem], nlp: Language | None = None, strict: bool = False,
             known_ids: Iterable[str] = (), known_source: str = "the existing corpus") -> Validator:
    """Run a Validator over importer output; read .kept, .findings and .summary() from it."""
    return Validator(nlp, strict, known_ids, known_source).run(items)
