"""MONEY normalisation: each MONEY entity gets an amount (Decimal) and an ISO 4217 currency.

Shipped inside the packaged pipeline with `spacy package --code`: keep it importable with
spaCy alone (no project modules). Add it with `nlp.add_pipe("money_normalizer", after="ner")`.

Span extensions, filled on MONEY entities and None on every other span:
- `._.amount`: decimal.Decimal ("52,5 milliards de dollars" -> Decimal("52500000000")), or None
  for a range or an amount that cannot be read;
- `._.amount_range`: (low, high) Decimals for a range ("20 et 30 millions", "2 à 3 millions"),
  else None. A range has no single amount: picking a bound would invent a figure;
- `._.currency`: ISO 4217 code, or None when the text does not say which currency.

Decisions (a wrong figure or currency is worse than None, as a wrong QID is worse than NIL):
- French scales: billion = 10^12, trillion = 10^18; "M"/"m"/"Mio" = 10^6; "Md"/"Mds"/"Mrd" = 10^9;
  "bn" = 10^9 (English, as in "£ 2bn"); "k" = 10^3. "une dizaine de", "une centaine de" count
  as 10 and 100 (the stated figure); "des millions" has no number and gets None.
- Separators: spaces, no-break spaces and apostrophes group thousands; a single comma is a
  decimal comma; a single dot followed by exactly three digits groups thousands ("2.600 €"),
  any other single dot is a decimal point ("1.5 M$"); with both, the last one is the decimal.
- "$"/"dollars" -> USD unless a qualifier says otherwise (canadiens, HK$, de Hong Kong...);
  an unknown nationality adjective gives None. "livres" alone -> GBP (the pound of French news).
- "¥" alone is JPY or CNY: CNY when the span or the 60 tokens (context_tokens) each side name China,
  JPY when they name Japan, None when both or neither. "yuans" -> CNY, "yens" -> JPY.
- "francs CFA" -> XOF when the span or the text around states BCEAO, UEMOA or Afrique de l'Ouest,
  XAF for BEAC, CEMAC or Afrique centrale, else None. Plain "francs" -> None (Swiss, CFA,
  Burundian and pre-2002 French francs all occur); only "francs français" -> FRF.
- "pesos", "couronnes", "dinars", "dirhams", "riyals" without a country -> None. A currency this
  module does not know ("10 zorkmids") -> None; the amount is still read.
- Shapes it does not read safely ("un euro et demi", "1 € 50", "12x €", 40-digit figures) -> None.
- "centimes" -> amount / 100 in the parent currency named ("centimes de dollar"), EUR when none is
  named, None when the parent is unclear ("centimes de franc");
  "pence" -> GBP / 100; "cents" after digits -> / 100 in the named currency, else None.
Values live in doc.user_data as strings, so Docs still serialise (DocBin, n_process > 1).
"""

import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from spacy.language import Language
from spacy.tokens import Doc, Span

USER_DATA_KEY = "money_normalizer"
HALF = Decimal("0.5")

# ---------------------------------------------------------------- text and tokens

_SPACE_LIKE = re.compile(r"[\s\u00a0\u202f\u2007\u2009]+")
_APOSTROPHES = str.maketrans({"’": "'", "`": "'", "ʼ": "'"})
# Digits; groups of exactly three after a space or apostrophe; dots and commas kept for _parse_literal.
_NUMBER = r"\d+(?:[.,]\d+)*(?:[ ']\d{3}(?:[.,]\d+)*(?!\d))*"
_TOKEN = re.compile(rf"(?P<num>{_NUMBER})|(?P<word>[^\W\d_]+)|(?P<sym>[€$£¥₹₽₩₺₪])|(?P<dash>[-–—])")


@dataclass(frozen=True)
class _Tok:
    kind: str  # num, word, sym, dash, subunit
    text: str  # lowercased
    glued: bool = False  # a word written right after digits: "100m", "12x"


def _normalise(text: str) -> str:
    return _SPACE_LIKE.sub(" ", text.translate(_APOSTROPHES)).strip()


def _tokens(text: str) -> list[_Tok]:
    tokens: list[_Tok] = []
    previous_end = -1
    for match in _TOKEN.finditer(text.lower()):
        kind, value = match.lastgroup or "", match.group()
        after_digits = bool(tokens) and tokens[-1].kind == "num"
        # "50 cents" is a subunit, "trois cents" is 300: digits decide.
        if value in ("cent", "cents") and after_digits:
            kind = "subunit"
        tokens.append(_Tok(kind, value, after_digits and match.start() == previous_end))
        previous_end = match.end()
    # A dash joins words of one number ("quatre-vingt-dix", "demi-milliard"); kept only before digits ("20-30").
    return [t for t, nxt in zip(tokens, [*tokens[1:], None], strict=True)
            if t.kind != "dash" or (nxt is not None and nxt.kind == "num")]


# ---------------------------------------------------------------- numbers

_UNITS = {
    "zéro": 0, "zero": 0, "un": 1, "une": 1, "deux": 2, "trois": 3, "quatre": 4, "cinq": 5, "six": 6,
    "sept": 7, "huit": 8, "neuf": 9, "dix": 10, "onze": 11, "douze": 12, "treize": 13, "quatorze": 14,
    "quinze": 15, "seize": 16, "vingt": 20, "vingts": 20, "trente": 30, "quarante": 40, "cinquante": 50,
    "soixante": 60, "septante": 70, "huitante": 80, "octante": 80, "nonante": 90,
}
_TENS_BEFORE_ET = {"vingt", "trente", "quarante", "cinquante", "soixante"}  # vingt et un, soixante et onze
_HUNDRED = {"cent", "cents"}
_THOUSAND = {"mille", "mil", "k"}
_COLLECTIVES = {
    "dizaine": 10, "dizaines": 10, "douzaine": 12, "douzaines": 12, "quinzaine": 15, "vingtaine": 20,
    "trentaine": 30, "quarantaine": 40, "cinquantaine": 50, "soixantaine": 60, "centaine": 100,
    "centaines": 100, "millier": 1000, "milliers": 1000,
}
_SCALE_WORDS = {
    "million": 10**6, "millions": 10**6, "milliard": 10**9, "milliards": 10**9,
    "billion": 10**12, "billions": 10**12, "trillion": 10**18, "trillions": 10**18,
}
_SCALE_ABBREVIATIONS = {"m": 10**6, "mio": 10**6, "md": 10**9, "mds": 10**9, "mrd": 10**9, "mrds": 10**9, "bn": 10**9}
_SCALES = {**_SCALE_WORDS, **_SCALE_ABBREVIATIONS}
_HALVES = {"demi", "demie"}
_NUMBER_WORDS = set(_UNITS) | _HUNDRED | {"mille", "mil"} | _HALVES
_QUANTITY_WORDS = _NUMBER_WORDS | _THOUSAND | set(_COLLECTIVES) | set(_SCALES)
_RANGE_WORDS = {"à", "et"}


def _grouped(digits: str, separator: str) -> bool:
    """True for 1 234 567-style grouping: 1-3 digits, then groups of exactly three."""
    head, *groups = digits.split(separator)
    return 1 <= len(head) <= 3 and all(len(group) == 3 for group in groups)


def _parse_literal(literal: str) -> Decimal | None:
    digits = literal.replace(" ", "").replace("'", "")
    commas, dots = digits.count(","), digits.count(".")
    if commas and dots:
        decimal_sep = "," if digits.rfind(",") > digits.rfind(".") else "."
        group_sep = "." if decimal_sep == "," else ","
        whole, _, fraction = digits.rpartition(decimal_sep)
        if decimal_sep in whole or not _grouped(whole, group_sep):
            return None
        return Decimal(f"{whole.replace(group_sep, '')}.{fraction}")
    separator = "," if commas else "." if dots else ""
    count = commas or dots
    if not separator:
        return Decimal(digits)
    if count > 1 or (separator == "." and len(digits.rpartition(".")[2]) == 3):
        return Decimal(digits.replace(separator, "")) if _grouped(digits, separator) else None
    return Decimal(digits.replace(separator, "."))


def _starts_number(token: _Tok) -> bool:
    return token.kind == "num" or (token.kind == "word" and token.text in _NUMBER_WORDS - _HALVES)


def _is_connector(tokens: list[_Tok], i: int) -> bool:
    """Does token i join two amounts of a range ("20 et 30", "2 à 3", "20-30")?"""
    token, nxt = tokens[i], tokens[i + 1] if i + 1 < len(tokens) else None
    if nxt is None:
        return False
    if token.kind == "dash":
        return nxt.kind == "num"
    if token.kind != "word" or token.text not in _RANGE_WORDS or not _starts_number(nxt):
        return False
    previous = tokens[i - 1].text if i else ""
    return not (token.text == "et" and previous in _TENS_BEFORE_ET and nxt.text in ("un", "une", "onze"))


def _has_number(tokens: list[_Tok]) -> bool:
    return any(_starts_number(t) or t.text in _HALVES for t in tokens)


def _segments(tokens: list[_Tok]) -> list[list[_Tok]]:
    """Split "20 et 30 millions de dollars" into ["20"], ["30 millions de dollars"]."""
    segments: list[list[_Tok]] = [[]]
    for i, token in enumerate(tokens):
        if _has_number(segments[-1]) and _is_connector(tokens, i):
            segments.append([])
        else:
            segments[-1].append(token)
    return segments


def _is_quantity(tokens: list[_Tok], i: int) -> bool:
    token = tokens[i]
    if token.kind == "num" or (token.kind == "word" and token.text in _QUANTITY_WORDS):
        return True
    # "vingt et un", "deux millions et demi", "une centaine de millions" stay inside the number.
    nxt = tokens[i + 1] if i + 1 < len(tokens) else None
    if nxt is None or nxt.kind != "word":
        return False
    if token.text == "et":
        return nxt.text in _QUANTITY_WORDS and nxt.text not in _SCALE_ABBREVIATIONS
    return token.text in ("de", "d") and nxt.text in _SCALE_WORDS


def _core(tokens: list[_Tok]) -> list[_Tok] | None:
    """The run of number tokens, from the first one; None when a second number follows it."""
    starts = [i for i, t in enumerate(tokens) if _starts_number(t) or t.text in _HALVES]
    if not starts:
        return None
    end = starts[0]
    while end < len(tokens) and _is_quantity(tokens, end):
        end += 1
    if any(t.kind == "num" or t.text in _HALVES for t in tokens[end:]):
        return None  # "un euro et demi", "1 € 50": not a shape we read safely
    return tokens[starts[0]:end]


class _Accumulator:
    """French number grammar: units add, cent multiplies, mille and scales close a group."""

    def __init__(self) -> None:
        self.total = Decimal(0)  # closed by million, milliard...
        self.small = Decimal(0)  # closed by mille
        self.current: Decimal | None = None
        self.last_scale = Decimal(1)

    def add(self, token: _Tok, previous: str) -> bool:
        text = token.text
        if token.kind == "num":
            if self.current is not None:
                return False
            self.current = _parse_literal(text)
            return self.current is not None
        if text in _UNITS:
            quatre_vingt = text in ("vingt", "vingts") and previous == "quatre"
            self.current = (self.current or Decimal(0)) + (76 if quatre_vingt else _UNITS[text])
        elif text in _HUNDRED or text in _COLLECTIVES:
            self.current = self._current_or_one() * (100 if text in _HUNDRED else _COLLECTIVES[text])
        elif text in _HALVES:
            self._half(previous)
        elif text in _THOUSAND:
            self.small += self._current_or_one() * 1000
            self.current, self.last_scale = None, Decimal(1000)
        elif text in _SCALES:
            self._scale(Decimal(_SCALES[text]))
        return True

    def _current_or_one(self) -> Decimal:
        return Decimal(1) if self.current is None else self.current

    def _half(self, previous: str) -> None:
        if previous != "et":  # "un demi-milliard"
            self.current = self._current_or_one() * HALF
        elif self.current is not None:  # "deux et demi"
            self.current += HALF
        else:  # "deux millions et demi"
            self.total += HALF * self.last_scale

    def _scale(self, scale: Decimal) -> None:
        if self.current is None and not self.small and self.total:
            self.total *= scale  # "un million de milliards"
        else:
            self.total += (self.small + (self.current or 0) or Decimal(1)) * scale
        self.small, self.current, self.last_scale = Decimal(0), None, scale

    def value(self) -> Decimal:
        return self.total + self.small + (self.current or 0)


def _segment_value(tokens: list[_Tok]) -> tuple[Decimal, Decimal] | None:
    """(value, last scale used: 1 when none) of one amount; None when it cannot be read."""
    core = _core(tokens)
    if core is None or any(t.glued and t.kind == "word" and not _is_unit_word(t.text) for t in tokens):
        return None  # "12x €"
    accumulator, previous = _Accumulator(), ""
    for token in core:
        if token.kind == "word" and token.text not in _QUANTITY_WORDS and token.text not in ("et", "de", "d"):
            return None
        if not accumulator.add(token, previous):
            return None
        previous = token.text
    return accumulator.value(), accumulator.last_scale


def _is_unit_word(word: str) -> bool:
    """A scale or currency word, the only words that may stick to digits ("100m", "5euros")."""
    if word in _SCALES or word in _THOUSAND or word.upper() in _ISO_CODES or word.upper() in _ISO_ALIASES:
        return True
    return any(pattern.fullmatch(word) for pattern, _ in _FAMILY_PATTERNS)


def _range_values(values: list[tuple[Decimal, Decimal]]) -> tuple[Decimal, Decimal]:
    """Low and high; "20 et 30 millions": the high end's scale also applies to a bare low end."""
    high, scale = values[-1]
    numbers = []
    for value, own_scale in values:
        if own_scale == 1 and value * scale <= high:
            value *= scale  # "500 000 à 2 millions" keeps 500 000: scaling would pass the high end
        numbers.append(value)
    return min(numbers), max(numbers)


def parse_amount(text: str) -> tuple[Decimal | None, tuple[Decimal, Decimal] | None]:
    """(amount, None) for one amount, (None, (low, high)) for a range, (None, None) if unreadable."""
    segments = _segments(_tokens(_normalise(text)))
    values = [_segment_value(segment) for segment in segments]
    if any(value is None for value in values):
        return None, None
    read = [value for value in values if value is not None]
    if len(read) == 1:
        return read[0][0], None
    return None, _range_values(read)


# ---------------------------------------------------------------- currencies

CFA, YEN_SIGN = "CFA?", "¥?"  # resolved from the text around the span
UNNAMED = "?"  # a currency word is there but does not say which currency ("francs", "pesos")

# Prefixed signs and explicit forms, checked first (lowercased, spaces normalised).
_PREFIXED = [(re.compile(pattern), code) for pattern, code in (
    (r"\bus ?\$|\$ ?us\b", "USD"), (r"(?<![\w$])(?:c|ca|can)\$|\$ ?can?\b", "CAD"),
    (r"(?<![\w$])(?:a|au)\$", "AUD"), (r"\bnz ?\$", "NZD"), (r"\bhk ?\$", "HKD"), (r"\bnt ?\$", "TWD"),
    (r"(?<![\w$])s\$", "SGD"), (r"(?<![\w$])r\$", "BRL"), (r"\bmx ?\$", "MXN"),
    (r"\b(?:cn|rmb) ?¥|¥ ?cn\b", "CNY"), (r"\bjp ?¥|¥ ?jp\b", "JPY"), (r"(?<![^\W\d_])f? ?cfa(?![^\W\d_])", CFA),
)]

# ISO codes and aliases written in capitals in the original text.
_ISO_ALIASES = {"RMB": "CNY", "FCFA": CFA}
_ISO_CODES = {
    "EUR", "USD", "GBP", "CHF", "JPY", "CNY", "CAD", "AUD", "NZD", "HKD", "TWD", "SGD", "XOF", "XAF", "XPF",
    "RUB", "INR", "BRL", "MXN", "ARS", "CLP", "COP", "KRW", "SEK", "NOK", "DKK", "PLN", "CZK", "HUF", "RON",
    "TRY", "ILS", "ZAR", "NGN", "EGP", "MAD", "DZD", "TND", "SAR", "AED", "QAR", "THB", "IDR", "MYR", "VND",
    "PHP", "UAH", "KES", "BIF", "CDF", "GNF", "RWF", "ISK", "PKR", "IRR", "KWD", "LBP", "BGN", "FRF",
}
_ISO = re.compile(r"(?<![A-Za-z])(" + "|".join(sorted(_ISO_CODES | set(_ISO_ALIASES))) + r")(?![A-Za-z])")


@dataclass(frozen=True)
class _Family:
    words: str  # regex of the currency word, matched between letters boundaries
    signs: str  # symbols, matched anywhere ("120M€", "150€")
    default: str | None  # the code when no qualifier follows
    qualifiers: tuple[tuple[str, str | None], ...] = ()

    def pattern(self) -> re.Pattern[str]:
        parts = [rf"(?<![^\W\d_])(?:{self.words})(?![^\W\d_])"] if self.words else []
        parts += [f"[{re.escape(self.signs)}]"] if self.signs else []
        return re.compile("|".join(parts))


_FAMILIES = (
    _Family(r"dollars?", "$", "USD", (
        (r"us|am[ée]ricains?|des [ée]tats-unis", "USD"), (r"canadiens?", "CAD"), (r"australiens?", "AUD"),
        (r"n[ée]o-z[ée]landais", "NZD"), (r"de hong[- ]?kong|hongkongais", "HKD"),
        (r"ta[ïi]wanais|de ta[ïi]wan", "TWD"), (r"singapouriens?|de singapour", "SGD"),
        (r"jama[ïi]ca[ïi]ns?", "JMD"), (r"namibiens?", "NAD"), (r"lib[ée]riens?", "LRD"),
        (r"zimbabw[ée]ens?", "ZWL"),
    )),
    _Family(r"euros?", "€", "EUR"),
    _Family(r"livres?", "£", "GBP", (
        (r"sterling|britanniques?|anglaises?", "GBP"), (r"[ée]gyptiennes?", "EGP"), (r"libanaises?", "LBP"),
        (r"syriennes?", "SYP"), (r"soudanaises?", "SDG"), (r"turques?", "TRY"),
    )),
    _Family(r"yuans?|renminbis?", "", "CNY", ((r"chinois", "CNY"),)),
    _Family(r"yens?", "", "JPY", ((r"japonais", "JPY"),)),
    _Family("", "¥", YEN_SIGN),
    _Family(r"francs?", "", None, (
        (r"suisses?", "CHF"), (r"cfa", CFA), (r"burundais", "BIF"), (r"congolais", "CDF"),
        (r"guin[ée]ens", "GNF"), (r"rwandais", "RWF"), (r"djiboutiens?", "DJF"), (r"comoriens?", "KMF"),
        (r"cfp|pacifique", "XPF"), (r"fran[çc]ais", "FRF"),
    )),
    _Family(r"roubles?", "₽", "RUB", ((r"russes?", "RUB"), (r"bi[ée]lorusses?", "BYN"))),
    _Family(r"roupies?", "₹", "INR", (
        (r"indiennes?", "INR"), (r"pakistanaises?", "PKR"), (r"n[ée]palaises?", "NPR"),
        (r"sri-?lankaises?", "LKR"), (r"mauriciennes?", "MUR"), (r"seychelloises?", "SCR"),
    )),
    _Family(r"r[ée]als?|reais|r[ée]aux", "", "BRL"),
    _Family(r"pesos?", "", None, (
        (r"mexicains?", "MXN"), (r"argentins?", "ARS"), (r"chiliens?", "CLP"), (r"colombiens?", "COP"),
        (r"philippins?", "PHP"), (r"cubains?", "CUP"), (r"uruguayens?", "UYU"), (r"dominicains?", "DOP"),
    )),
    _Family(r"couronnes?", "", None, (
        (r"su[ée]doises?", "SEK"), (r"norv[ée]giennes?", "NOK"), (r"danoises?", "DKK"),
        (r"tch[èe]ques?", "CZK"), (r"islandaises?", "ISK"),
    )),
    _Family(r"dinars?", "", None, (
        (r"alg[ée]riens?", "DZD"), (r"tunisiens?", "TND"), (r"kowe[ïi]tiens?", "KWD"),
        (r"jordaniens?", "JOD"), (r"irakiens?", "IQD"), (r"libyens?", "LYD"), (r"serbes?", "RSD"),
    )),
    _Family(r"dirhams?", "", None, ((r"marocains?", "MAD"), (r"[ée]miratis?|des [ée]mirats", "AED"))),
    _Family(r"riy?als?", "", None, (
        (r"saoudiens?", "SAR"), (r"qataris?", "QAR"), (r"iraniens?", "IRR"), (r"omanais", "OMR"),
        (r"y[ée]m[ée]nites?", "YER"),
    )),
    _Family(r"wons?", "₩", "KRW", ((r"sud-cor[ée]ens?", "KRW"), (r"nord-cor[ée]ens?", "KPW"))),
    _Family(r"shillings?", "", None, (
        (r"k[ée]nyans?", "KES"), (r"ougandais", "UGX"), (r"tanzaniens?", "TZS"), (r"somaliens?", "SOS"),
    )),
    _Family(r"lires?", "₺", None, ((r"turques?", "TRY"),)),
    _Family(r"bahts?", "", "THB"), _Family(r"zlotys?", "", "PLN"), _Family(r"forints?", "", "HUF"),
    _Family(r"lei|leus?", "", "RON", ((r"moldaves?", "MDL"),)), _Family(r"hryvnias?", "", "UAH"),
    _Family(r"sh[ée]kels?", "₪", "ILS"), _Family(r"rands?", "", "ZAR"), _Family(r"nairas?", "", "NGN"),
    _Family(r"ringgits?", "", "MYR"), _Family(r"roupiahs?|rupiahs?", "", "IDR"), _Family(r"dongs?", "", "VND"),
    _Family(r"birrs?", "", "ETB"), _Family(r"cedis?", "", "GHS"), _Family(r"kwanzas?", "", "AOA"),
    _Family(r"ariarys?", "", "MGA"),
)
_FAMILY_PATTERNS = [(family.pattern(), family) for family in _FAMILIES]
_QUALIFIER_PATTERNS = {
    family: [(re.compile(rf"\s*(?:(?:de|du|des) |d')?(?:{pattern})(?![^\W\d_])"), code)
             for pattern, code in family.qualifiers]
    for family in _FAMILIES
}
# A nationality adjective that no table knows: "dollars fidjiens" is not USD.
_UNKNOWN_ADJECTIVE = re.compile(
    r"\s*[^\W\d_][\w-]*(?:ains?|aines?|iens?|iennes?|ais|aises?|ois|oises?|éens?|éennes?)(?![^\W\d_])")

_SUBUNITS = [(re.compile(pattern, re.IGNORECASE), code) for pattern, code in (
    (r"\bcentimes?\b", "EUR"), (r"\b(?:pence|penny)\b", "GBP"), (r"\bkop[eé]c?ks?\b", "RUB"))]

_CFA_ZONES = {"XOF": re.compile(r"bceao|uemoa|afrique de l'ouest|ouest-africain"),
              "XAF": re.compile(r"beac|cemac|afrique centrale|centrafricain")}
_YEN_COUNTRIES = {"CNY": re.compile(r"\bchin(?:e|ois|oise|oises)\b|\byuans?\b|renminbi|\brmb\b|pékin|beijing"),
                  "JPY": re.compile(r"\bjapon(?:ais|aise|aises)?\b|\byens?\b|tokyo")}


def _family_currency(text: str) -> str | None:
    """The first currency word or sign in the (lowercased) text, read with its qualifier."""
    found = [(m.start(), m.end(), i) for i, (pattern, _) in enumerate(_FAMILY_PATTERNS) for m in pattern.finditer(text)]
    if not found:
        return None
    _, end, index = min(found)
    family, rest = _FAMILY_PATTERNS[index][1], text[end:]
    for pattern, code in _QUALIFIER_PATTERNS[family]:
        if pattern.match(rest):
            return code
    if family.qualifiers and _UNKNOWN_ADJECTIVE.match(rest):
        return UNNAMED
    return family.default or UNNAMED


def _raw_currency(text: str) -> str | None:
    lowered = text.lower()
    for pattern, code in _PREFIXED:
        if pattern.search(lowered):
            return code
    iso = _ISO.search(text)
    if iso:
        return _ISO_ALIASES.get(iso.group(1), iso.group(1))
    return _family_currency(lowered)


def _resolve(code: str | None, text: str, context: str) -> str | None:
    """Settle the currencies that need the text around: francs CFA and a bare ¥."""
    if code not in (CFA, YEN_SIGN):
        return None if code == UNNAMED else code
    around = f"{text} {context}".lower()
    table = _CFA_ZONES if code == CFA else _YEN_COUNTRIES
    matches = [iso for iso, pattern in table.items() if pattern.search(around)]
    return matches[0] if len(matches) == 1 else None


def needs_context(text: str) -> bool:
    """Only "¥" and francs CFA look at the text around the span; skip slicing it otherwise."""
    lowered = text.lower()
    return "¥" in lowered or "cfa" in lowered


def parse_currency(text: str, context: str = "") -> tuple[str | None, int]:
    """(ISO 4217 code or None, divisor): "50 centimes" -> ("EUR", 100)."""
    text = _normalise(text)
    lowered = text.lower()
    for pattern, default in _SUBUNITS:
        if pattern.search(lowered):  # "50 centimes" -> EUR, "50 centimes de franc" -> None
            parent = _raw_currency(pattern.sub(" ", text))
            return (default if parent is None else _resolve(parent, text, context)), 100
    if any(t.kind == "subunit" for t in _tokens(text)):
        return _resolve(_raw_currency(text), text, context), 100
    return _resolve(_raw_currency(text), text, context), 1


# ---------------------------------------------------------------- MONEY boundaries

# Where a MONEY span starts and ends, written from ANNOTATION.md's MONEY rules: a number (digits
# or words) with its scale, an optional range ("20 et 30", "2 à 3"), then the currency with its
# nationality; or a sign before the number ("US$ 5 millions"). Approximators stay outside because
# nothing here matches them. The NER finds the amounts; this grammar fixes where they end, which
# is where a transformer trained on 165 spans errs ("16 millions de francs] suisses").
_NUMBER_WORD = (r"(?:zéro|un|une|deux|trois|quatre|cinq|six|sept|huit|neuf|dix|onze|douze|treize|quatorze"
                r"|quinze|seize|vingts?|trente|quarante|cinquante|soixante|cents?|mille|demie?)")
_SPACE = r"[ \u00a0\u202f\u2009]"
_DIGIT_AMOUNT = rf"\d+(?:{_SPACE}\d{{3}}(?!\d))*(?:[.,]\d+)?"
_WORD_AMOUNT = rf"{_NUMBER_WORD}(?:(?:-|{_SPACE}+|{_SPACE}+et{_SPACE}+){_NUMBER_WORD})*"
_COLLECTIVE = r"une?\s+(?:dizaine|douzaine|quinzaine|vingtaine|trentaine|quarantaine|cinquantaine|centaine|millier)s?"
_SCALE = (rf"(?:(?:{_SPACE}*|-)(?:de{_SPACE}+)?(?:millions?|milliards?|billions?|trillions?)"
          rf"(?:{_SPACE}+et{_SPACE}+demie?)?|{_SPACE}*(?:Mds?|Mrds?|Mio|M|k|bn)(?![^\W\d_]))")
_QUANTITY = rf"(?:{_DIGIT_AMOUNT}|(?i:{_COLLECTIVE}|{_WORD_AMOUNT}))(?i:{_SCALE})?"
_RANGE = rf"{_QUANTITY}(?:{_SPACE}*(?P<connector>[-–]|(?i:à|et)){_SPACE}*(?P<high>{_QUANTITY}))?"
_PREFIX_SIGN = rf"(?:US{_SPACE}?\$|\$US|[CA]\$|HK\$|[€$£¥₹₽₩₺₪])"
_SUFFIX_SIGN = rf"(?:[€$£¥₹₽₩₺₪](?:{_SPACE}?(?:US|CA|CAN)(?![^\W\d_]))?|US\$|[CA]\$|HK\$)"


def _currency_words() -> str:
    """Each currency word with the qualifiers money_normalizer reads (the nationality is in the span)."""
    alternatives = []
    for family in _FAMILIES:
        if not family.words:
            continue
        qualifiers = "|".join(pattern for pattern, _ in family.qualifiers)
        qualifier = rf"(?:{_SPACE}+(?:(?:de|du|des){_SPACE}+|d')?(?:{qualifiers}))?" if qualifiers else ""
        alternatives.append(rf"(?:{family.words}){qualifier}(?![^\W\d_])")
    return "|".join([*alternatives, rf"centimes?(?:{_SPACE}+d['’]euros?)?(?![^\W\d_])"])


def _sign_qualifier() -> str:
    """The nationality after a sign: "71,50 $ américains"."""
    dollar = next(family for family in _FAMILIES if family.words == r"dollars?")
    return rf"(?:{_SPACE}+(?i:{'|'.join(pattern for pattern, _ in dollar.qualifiers)})(?![^\W\d_]))?"


_CURRENCY_AFTER = (rf"(?:{_SPACE}*(?i:d['’]{_SPACE}*|de{_SPACE}+)?(?i:{_currency_words()})"
                   rf"|{_SPACE}*(?:de{_SPACE}+(?=US\$))?{_SUFFIX_SIGN}{_sign_qualifier()}|{_SPACE}+(?:{'|'.join(sorted(_ISO_CODES))})(?![A-Za-z]))")
_UNNAMED_RANGE = re.sub(r"\?P<\w+>", "?:", _RANGE)  # a pattern names a group once
_MONEY_PATTERN = re.compile(
    rf"(?<![\w.,$€£¥])(?:{_PREFIX_SIGN}{_SPACE}*{_UNNAMED_RANGE}|{_RANGE}{_CURRENCY_AFTER})(?![\w$€£¥])"
)


# "et" joins a range only after "entre" or "respectivement": "calibre 7,65 et 104 000 euros" is not one.
_ET_RANGE_CUE = re.compile(r"(?:\bentre|\brespectivement(?:\s+(?:à|de))?)\s*$", re.IGNORECASE)
# A lone "un"/"une" before these words is an article: "un livre", "une couronne olympique".
_NOT_MONEY = re.compile(r"une?\s+(?:livre|couronne)", re.IGNORECASE)


def find_money(text: str) -> list[tuple[int, int]]:
    """Character offsets of the amounts of money in text, by ANNOTATION.md's boundary rules."""
    spans = []
    for match in _MONEY_PATTERN.finditer(text):
        start, end = match.span()
        connector = (match.group("connector") or "").lower()
        if connector == "et" and not _ET_RANGE_CUE.search(text[max(0, start - 30):start]):
            start = match.start("high")
        if not _NOT_MONEY.fullmatch(text[start:end]):
            spans.append((start, end))
    return spans


# ---------------------------------------------------------------- public API


@dataclass(frozen=True)
class Money:
    amount: Decimal | None
    currency: str | None
    amount_range: tuple[Decimal, Decimal] | None = None


def _tidy(value: Decimal) -> Decimal:
    """Decimal("52500000000.0") -> Decimal("52500000000"); 0.50 -> 0.5 (stable strings)."""
    return value.quantize(Decimal(1)) if value == value.to_integral_value() else value.normalize()


def normalize_money(text: str, context: str = "") -> Money:
    """Amount, range and currency of a MONEY text; context is the text around it (for ¥, CFA)."""
    try:
        currency, divisor = parse_currency(text, context)
    except (ArithmeticError, ValueError):
        currency, divisor = None, 1
    try:
        amount, bounds = parse_amount(text)
        amount = _tidy(amount / divisor) if amount is not None else None
        bounds = (_tidy(bounds[0] / divisor), _tidy(bounds[1] / divisor)) if bounds else None
    except (ArithmeticError, ValueError):  # InvalidOperation, Overflow: never crash a pipeline
        amount, bounds = None, None
    return Money(amount, currency, bounds)


# ---------------------------------------------------------------- spaCy glue


def _record(span: Span) -> dict | None:
    record = span.doc.user_data.get((USER_DATA_KEY, span.start_char, span.end_char))
    return record if record is not None and record.get("label") == span.label_ else None


def _decimal(value: str | None) -> Decimal | None:
    try:
        return Decimal(value) if value is not None else None
    except InvalidOperation:
        return None


def _get_amount(span: Span) -> Decimal | None:
    record = _record(span)
    return _decimal(record["amount"]) if record else None


def _get_range(span: Span) -> tuple[Decimal, Decimal] | None:
    record = _record(span)
    if not record or not record["range"]:
        return None
    low, high = (_decimal(v) for v in record["range"])
    return (low, high) if low is not None and high is not None else None


def _get_currency(span: Span) -> str | None:
    record = _record(span)
    return record["currency"] if record else None


def store_money(span: Span, money: Money) -> None:
    """Write a Money value for the span (strings, so the Doc stays serialisable)."""
    span.doc.user_data[(USER_DATA_KEY, span.start_char, span.end_char)] = {
        "label": span.label_,
        "amount": str(money.amount) if money.amount is not None else None,
        "currency": money.currency,
        "range": [str(v) for v in money.amount_range] if money.amount_range else None,
    }


def _setter(field: str) -> Callable[[Span, object], None]:
    def set_field(span: Span, value: object) -> None:
        current = Money(_get_amount(span), _get_currency(span), _get_range(span))
        store_money(span, Money(**{**current.__dict__, field: value}))

    return set_field


def register_extensions() -> None:
    """Span._.amount, ._.amount_range, ._.currency; re-registering (a second import) is harmless."""
    Span.set_extension("amount", getter=_get_amount, setter=_setter("amount"), force=True)
    Span.set_extension("amount_range", getter=_get_range, setter=_setter("amount_range"), force=True)
    Span.set_extension("currency", getter=_get_currency, setter=_setter("currency"), force=True)


class MoneyNormalizer:
    """Fills amount, amount_range and currency on every entity with the MONEY label."""

    def __init__(self, label: str = "MONEY", context_tokens: int = 60) -> None:
        self.label = label
        self.context_tokens = context_tokens
        register_extensions()

    def __call__(self, doc: Doc) -> Doc:
        for ent in doc.ents:
            if ent.label_ == self.label:
                store_money(ent, normalize_money(ent.text, self._context(ent)))
        return doc

    def _context(self, span: Span) -> str:
        """The tokens around the span: only read for "¥" and francs CFA."""
        if not needs_context(span.text):
            return ""
        doc, width = span.doc, self.context_tokens
        return doc[max(0, span.start - width):min(len(doc), span.end + width)].text


class MoneyBoundaries:
    """Sets MONEY entities' boundaries by find_money's grammar; runs after the NER, before money_normalizer.

    A grammar match replaces the MONEY entities it overlaps, and is added where no entity is. An
    entity of a yield_labels label that starts before the amount is cut before it (ANNOTATION.md:
    a POLICY_EVENT ends before its amount); over any other entity the NER's decision stands. MONEY
    entities that no match overlaps are kept when keep_unmatched (amounts the grammar does not
    know), else dropped.
    """

    def __init__(self, label: str = "MONEY", keep_unmatched: bool = True,
                 yield_labels: tuple[str, ...] = ("POLICY_EVENT",)) -> None:
        self.label = label
        self.keep_unmatched = keep_unmatched
        self.yield_labels = set(yield_labels)

    def __call__(self, doc: Doc) -> Doc:
        entities, matches = list(doc.ents), find_money(doc.text)
        for start, end in matches:
            span = doc.char_span(start, end, label=self.label, alignment_mode="expand")
            if span is None:
                continue
            overlapping = [e for e in entities if e.start < span.end and span.start < e.end]
            others = [e for e in overlapping if e.label_ != self.label]
            if any(e.label_ not in self.yield_labels or e.start >= span.start for e in others):
                continue  # the NER's decision stands
            # "[plan de relance] de [750 milliards d'euros]": the event ends before the amount.
            shortened = [Span(doc, e.start, span.start, label=e.label_) for e in others]
            entities = [e for e in entities if e not in overlapping] + shortened + [span]
        if not self.keep_unmatched:
            entities = [e for e in entities if e.label_ != self.label or self._covers(e, matches)]
        doc.ents = sorted(entities, key=lambda e: e.start)
        return doc

    @staticmethod
    def _covers(span: Span, matches: list[tuple[int, int]]) -> bool:
        return any(start < span.end_char and span.start_char < end for start, end in matches)


@Language.factory(
    "money_boundaries",
    default_config={"label": "MONEY", "keep_unmatched": True, "yield_labels": ["POLICY_EVENT"]},
    assigns=["doc.ents"],
    requires=["doc.ents"],
)
def create_money_boundaries(
    nlp: Language, name: str, label: str, keep_unmatched: bool, yield_labels: list[str]
) -> MoneyBoundaries:
    return MoneyBoundaries(label=label, keep_unmatched=keep_unmatched, yield_labels=tuple(yield_labels))


@Language.factory(
    "money_normalizer",
    default_config={"label": "MONEY", "context_tokens": 60},
    assigns=["span._.amount", "span._.amount_range", "span._.currency"],
    requires=["doc.ents"],
)
def create_money_normalizer(nlp: Language, name: str, label: str, context_tokens: int) -> MoneyNormalizer:
    return MoneyNormalizer(label=label, context_tokens=context_tokens)


register_extensions()
