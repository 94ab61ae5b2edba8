"""Entity boundary rules from ANNOTATION.md, applied to the NER's output in the shipped pipeline.

Shipped with `spacy package --code`: keep it importable with spaCy alone (no project modules).
"""

import re

from spacy.language import Language
from spacy.tokens import Doc, Span

# Words and marks that cannot end an entity under ANNOTATION.md's boundary rules: a span never
# ends on punctuation, a preposition, a determiner, a relative pronoun or an auxiliary. The NER
# sometimes runs past the end of a long POLICY_EVENT ("cessez-le-feu qui", "alternée a été").
TRAILING_NON_ENTITY = frozenset(
    "de du des d' d’ à au aux le la les l' l’ un une et ou qui que qu' qu’ dont a ont est sont été "
    "sera par pour sur en avec dans , . ; : « » ( ) - – —".split()
)
SENTENCE_END = frozenset(". ! ? ;".split())
# A conjugated auxiliary starts a clause: no POLICY_EVENT of the layers holds one (0 of 1,101), but
# the NER runs on into the verb ("liste noire sont les Bahamas" -> [liste noire]).
AUXILIARIES = frozenset("est sont a ont était étaient sera seront fut furent avait avaient".split())
# A date right after a POLICY_EVENT identifies it and is part of the span (ANNOTATION.md:
# [élections sénatoriales de ce dimanche 24 septembre]); the layers include it every time in train
# (a year 47 of 47 times, "du 5 septembre 2014" 7 of 7, "de juin 2017" 6 of 6). The NER often stops
# before it ("projet de loi de finances" 2019). "en 2006" is left out: the layers split on it 3/3.
_MONTH = "(?:janvier|février|mars|avril|mai|juin|juillet|août|septembre|octobre|novembre|décembre)"
_WEEKDAY = "(?:lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche)"
_YEAR = r"(?:1[89]|20)\d\d"
_DAY = r"(?:1er|\d{1,2})"
DATE_COMPLEMENT = re.compile(
    rf"[ \t]+(?:{_YEAR}"
    rf"|de {_YEAR}"
    rf"|(?:de|d'|d’) ?{_MONTH}(?: {_YEAR}| dernier| prochain)?"
    rf"|(?:du|des) (?:{_WEEKDAY} )?{_DAY}(?: (?:et|au) {_DAY})? {_MONTH}(?: {_YEAR}| dernier| prochain)?"
    rf"|(?:de|du) {_WEEKDAY}(?: (?:matin|après-midi|soir|dernier|prochain))?"
    r")(?![\w-])"
)
# A participle clause ends a POLICY_EVENT (ANNOTATION.md: "décrets visant à…" -> [décrets]).
# Without a tagger in the pipeline, a participle is a word in -ant that is not one of these
# nouns, adjectives or prepositions.
NOT_PARTICIPLES = frozenset(
    "avant devant durant pendant suivant cependant maintenant pourtant tant quant néant géant instant "
    "enfant habitant étudiant manifestant dirigeant gouvernant représentant participant commandant "
    "lieutenant montant restaurant vivant levant croissant important puissant".split()
)


def is_participle(word: str) -> bool:
    word = word.lower()
    return len(word) > 5 and word.endswith("ant") and word.isalpha() and word not in NOT_PARTICIPLES


# Nor starts on a determiner or on "nouveau"/"récent", which the layers leave outside a
# POLICY_EVENT (train + dev: 9 of 11 times); ordinals stay in ([premier tour de la primaire]).
LEADING_NON_ENTITY = frozenset(
    "le la les l' l’ un une des du ce cet cette ces nouveau nouvel nouvelle nouveaux nouvelles "
    "récent récente récents récentes".split()
)


@Language.factory("fr_news_entity_boundaries", default_config={"labels": ["POLICY_EVENT"]}, requires=["doc.ents"],
                  assigns=["doc.ents"])
def make_entity_boundaries(nlp: Language, name: str, labels: list[str]) -> "EntityBoundaries":
    return EntityBoundaries(labels)


class EntityBoundaries:
    """Trims predicted entities of the given labels to ANNOTATION.md's boundaries.

    An entity that crosses a sentence end, a line break or a run of spaces (a WiNER title followed
    by its date) or that goes on into a participle clause or a conjugated auxiliary keeps the part
    before it; trailing function words and punctuation and leading determiners and
    "nouveau"/"récent" are dropped. An entity left empty is removed. A date right after the
    entity joins it, unless another entity starts inside the date.
    """

    def __init__(self, labels: list[str]) -> None:
        self.labels = set(labels)

    def __call__(self, doc: Doc) -> Doc:
        entities = []
        for ent in doc.ents:
            trimmed = self.trim(ent) if ent.label_ in self.labels else ent
            if trimmed is not None:
                entities.append(trimmed)
        doc.ents = [self.with_date(ent, entities) if ent.label_ in self.labels else ent for ent in entities]
        return doc

    @staticmethod
    def with_date(ent: Span, entities: list[Span]) -> Span:
        """The entity extended over a date complement that follows it, if one does."""
        match = DATE_COMPLEMENT.match(ent.doc.text, ent.end_char)
        if match is None:
            return ent
        extended = ent.doc.char_span(ent.start_char, match.end(), label=ent.label_, kb_id=ent.kb_id_)
        if extended is None or any(o.start < extended.end and o.end > ent.end for o in entities if o is not ent):
            return ent
        return extended

    @staticmethod
    def trim(ent: Span) -> Span | None:
        end = min(_break_end(ent), _participle_end(ent), _auxiliary_end(ent))
        doc = ent.doc
        while end > ent.start and doc[end - 1].lower_ in TRAILING_NON_ENTITY:
            end -= 1
        start = ent.start
        while start < end and doc[start].lower_ in LEADING_NON_ENTITY:
            start += 1
        if start == end:
            return None
        if (start, end) == (ent.start, ent.end):
            return ent
        return Span(doc, start, end, label=ent.label_, kb_id=ent.kb_id_)


def _break_end(ent: Span) -> int:
    """End of the part before a sentence end, a line break or a run of spaces."""
    doc = ent.doc
    for i in range(ent.start, ent.end - 1):
        if doc[i].text in SENTENCE_END or doc[i + 1].is_space or "\n" in doc[i].whitespace_ + doc[i + 1].text:
            return i + 1
    return ent.end


def _participle_end(ent: Span) -> int:
    """End of the part before a participle clause ("loi réduisant la prescription" -> "loi")."""
    for token in ent[1:]:
        if is_participle(token.text):
            return token.i
    return ent.end


def _auxiliary_end(ent: Span) -> int:
    """End of the part before a conjugated auxiliary ("liste noire sont les Bahamas" -> "liste noire")."""
    for token in ent[1:]:
        if token.lower_ in AUXILIARIES:
            return token.i
    return ent.end
