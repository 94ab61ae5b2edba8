"""The one place for the project's data facts: label set, WiNER mapping, split rule."""

import hashlib
import re
from pathlib import Path

LABELS = ("PER", "ORG", "LOC", "MONEY", "POLICY_EVENT")
WINER_LABELS = ("PER", "ORG", "LOC")
PROJECT_LAYER_LABELS = ("MONEY", "POLICY_EVENT")
LINKED_LABELS = ("PER", "ORG")
WINER_TYPE_TO_LABEL = {"Person": "PER", "Organization": "ORG", "Location": "LOC"}
NIL = "NIL"
QID_PATTERN = re.compile(r"^Q[1-9][0-9]*$")

SPLITS = ("train", "dev", "test")
TEST_YEAR = "2018"
DEV_MODULO = 10

# The 30 daily "Gilets jaunes" live-blog posts of December 2018: half of the test tokens,
# about a quarter of its ORG spans, a movement absent from 2016-2017. Reported separately.
LIVE_BLOG_TITLE = re.compile(r"^Gilets jaunes : \w+ \d+(er)? décembre 2018\s*$")


def split_of(doc_id: str) -> str:
    """test = every 2018 article; dev = 2016-2017 ids with sha1 % 10 == 0; train = the rest."""
    if doc_id.startswith(TEST_YEAR):
        return "test"
    if int(hashlib.sha1(doc_id.encode("utf-8")).hexdigest(), 16) % DEV_MODULO == 0:
        return "dev"
    return "train"


def is_live_blog(text: str) -> bool:
    """True for the December 2018 'Gilets jaunes' daily live-blog posts."""
    return bool(LIVE_BLOG_TITLE.match(text.split("\n", 1)[0]))


def winer_document_paths(winer_dir: Path) -> list[Path]:
    """All WiNER-fr article texts (YYYY/MM/<id>.txt), sorted by id."""
    paths = sorted(winer_dir.glob("[0-9][0-9][0-9][0-9]/[0-9][0-9]/*.txt"), key=lambda p: p.stem)
    if not paths:
        raise FileNotFoundError(
            f"No WiNER-fr articles under {winer_dir}: run `weasel assets` or set vars.winer_dir"
        )
    return paths


def article_url_map(winer_dir: Path) -> dict[str, str]:
    """Document id -> Wikinews URL (for attribution)."""
    urls = {}
    for path in winer_dir.glob("*/*-urls.txt"):
        for line in path.read_text(encoding="utf-8").splitlines():
            if "\t" in line:
                doc_id, url = line.split("\t", 1)
                urls[doc_id.strip()] = url.strip()
    return urls


def read_text_exact(path: Path) -> str:
    """The file's text with line endings untouched, so character offsets stay exact."""
    with path.open(encoding="utf-8", newline="") as handle:
        return handle.read()
