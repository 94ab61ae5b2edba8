"""Turn a text and character-offset spans into a spaCy Doc, losing nothing.

spaCy's `Doc.char_span` returns None when a span does not fall on token boundaries, and
the usual converters then drop the span. Here the tokenisation is refined instead: a token
that a span boundary cuts is split at that boundary, so every span keeps its exact offsets,
and each split is reported.
"""

from dataclasses import dataclass, field

from spacy.language import Language
from spacy.tokens import Doc, Span


@dataclass(frozen=True)
class CharSpan:
    start: int
    end: int
    label: str
    kb_id: str = ""
    source: str = ""


@dataclass
class Conversion:
    doc: Doc
    split_tokens: list[dict] = field(default_factory=list)


def _cut_points(spans: list[CharSpan]) -> set[int]:
    return {offset for span in spans for offset in (span.start, span.end)}


def tokenize_at_boundaries(nlp: Language, text: str, spans: list[CharSpan]) -> tuple[Doc, list[dict]]:
    """Tokenise `text` with `nlp`'s tokenizer, splitting tokens at every span boundary."""
    doc = nlp.make_doc(text)
    cuts = _cut_points(spans)
    words: list[str] = []
    spaces: list[bool] = []
    splits = []
    for token in doc:
        start, end = token.idx, token.idx + len(token.text)
        inner = sorted(c for c in cuts if start < c < end)
        if inner:
            splits.append({"token": token.text, "start": start, "cuts": inner})
        bounds = [start, *inner, end]
        for i, (a, b) in enumerate(zip(bounds, bounds[1:], strict=False)):
            words.append(text[a:b])
            spaces.append(bool(token.whitespace_) if i == len(bounds) - 2 else False)
    if not splits:
        return doc, []
    return Doc(nlp.vocab, words=words, spaces=spaces), splits


def build_doc(nlp: Language, text: str, spans: list[CharSpan]) -> Conversion:
    """A Doc whose entities are exactly `spans` (which must not overlap)."""
    doc, splits = tokenize_at_boundaries(nlp, text, spans)
    if doc.text != text:
        raise ValueError("tokenisation changed the text")
    entities = []
    for span in sorted(spans, key=lambda s: s.start):
        entity = doc.char_span(span.start, span.end, label=span.label, kb_id=span.kb_id or "",
                               alignment_mode="strict")
        if entity is None:  # only whitespace-edged spans get here; validation rejects those
            raise ValueError(f"span {span} does not align with tokens")
        entities.append(entity)
    doc.ents = entities
    return Conversion(doc=doc, split_tokens=splits)


def entity_records(doc: Doc) -> list[dict]:
    return [_record(ent) for ent in doc.ents]


def _record(ent: Span) -> dict:
    return {"start": ent.start_char, "end": ent.end_char, "label": ent.label_, "text": ent.text,
            "kb_id": ent.kb_id_ or None}
