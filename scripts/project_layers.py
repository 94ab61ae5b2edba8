"""The project's own annotation layers, kept apart from WiNER-fr and keyed by document id.

annotations/
  money_policy/batch_*.jsonl   one line per reviewed article: MONEY / POLICY_EVENT spans
  agreement/adjudication.jsonl decisions on first/second-pass disagreements, applied on top
  reread/batch_*.jsonl         consistency re-read of the other articles under the adjudicated
                               rules: remove/add decisions, applied on top of the first pass
  agreement/second_reading*.jsonl  a second, blind POLICY_EVENT reading of the articles and the
                               adjudication of its disagreements with the layer, applied last
  corrections/*.jsonl          explicit corrections of WiNER spans (relabel, reoffset, delete) and
                               PER/ORG/LOC spans WiNER left out (add, keyed by character offsets)
  links/*.jsonl                Wikidata QID or NIL per PER/ORG mention (doc_id, start, end),
                               put on the split corpora by scripts/link_corpus.py

A MONEY / POLICY_EVENT layer is merged only once every article is marked reviewed:
a half-read layer would teach the model that unread articles mention no money.
"""

import json
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from corpus_rules import PROJECT_LAYER_LABELS

# Id of a PER/ORG/LOC span a correction adds where WiNER missed one (WiNER ids are T<n>).
ADDED_SPAN_ID_PREFIX = "add:"
# The agreement sample's independent second pass (both labels).
SAMPLE_SECOND_PASS = "second_pass.jsonl"
# The second, blind POLICY_EVENT reading and the decisions on its disagreements with the layer.
SECOND_READING = "second_reading.jsonl"
SECOND_READING_ADJUDICATION = "second_reading_adjudication.jsonl"


def layer_files(folder: Path, pattern: str = "*.jsonl") -> list[Path]:
    """The layer's files in batch order, numbers read as numbers: batch_2 before batch_11.

    Order matters where a later file overrides an earlier one (links, corrections); a plain
    sort would put batch_11 before batch_2.
    """
    def key(path: Path) -> list:
        return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", path.name)]

    return sorted(folder.glob(pattern), key=key)


def read_jsonl(path: Path) -> list[dict]:
    records = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if line.strip():
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError as error:
                raise ValueError(f"{path}:{number}: invalid JSON ({error.msg})") from error
    return records


@dataclass
class ProjectLayers:
    reviews: dict[str, dict] = field(default_factory=dict)
    corrections: dict[tuple[str, str], dict] = field(default_factory=dict)
    additions: dict[str, list[dict]] = field(default_factory=dict)
    adjudications: dict[str, list[dict]] = field(default_factory=dict)
    rereads: dict[str, dict] = field(default_factory=dict)
    second_reading: dict[str, list[dict]] = field(default_factory=dict)
    merged: bool = False
    coverage: tuple[int, int] = (0, 0)

    def check_coverage(self, doc_ids: list[str]) -> None:
        reviewed = sum(1 for d in doc_ids if self.reviews.get(d, {}).get("reviewed"))
        self.coverage = (reviewed, len(doc_ids))
        self.merged = reviewed == len(doc_ids) and reviewed > 0

    @property
    def adjudicated(self) -> int:
        return sum(len(decisions) for decisions in self.adjudications.values())

    @property
    def second_reading_decided(self) -> int:
        return sum(len(decisions) for decisions in self.second_reading.values())

    def final_spans(self, doc_id: str) -> list[dict]:
        """First-pass spans with the adjudicated, re-read and second-reading decisions applied."""
        spans = list(self.reviews.get(doc_id, {}).get("spans", []))
        reread = self.rereads.get(doc_id)
        for decision in [*self.adjudications.get(doc_id, []), *([reread] if reread else []),
                         *self.second_reading.get(doc_id, [])]:
            removed = {(r["start"], r["end"], r["label"]) for r in decision.get("remove", [])}
            spans = [s for s in spans if (s["start"], s["end"], s["label"]) not in removed]
            spans += decision.get("add", [])
        return sorted(spans, key=lambda s: s["start"])

    def reread_changes(self) -> Counter:
        return Counter(f"{kind}_{span['label']}" for record in self.rereads.values()
                       for kind in ("remove", "add") for span in record.get(kind, []))

    def spans_for(self, doc_id: str) -> list[dict]:
        """The spans the corpus uses: none until every article is reviewed."""
        if not self.merged:
            return []
        return [s for s in self.final_spans(doc_id) if s["label"] in PROJECT_LAYER_LABELS]

    def correct(self, doc_id: str, ann: dict) -> dict | None:
        """The WiNER annotation after its recorded correction (None when deleted)."""
        fix = self.corrections.get((doc_id, ann["id"]))
        if fix is None:
            return ann
        if fix["action"] == "delete":
            return None
        if fix["action"] == "relabel":
            return {**ann, "type": "", "label": fix["label"]}
        if fix["action"] == "reoffset":  # may also relabel: a truncated span of the wrong type
            moved = {**ann, "start": fix["start"], "end": fix["end"], "text": None}
            return {**moved, "type": "", "label": fix["label"]} if "label" in fix else moved
        raise ValueError(f"{doc_id} {ann['id']}: unknown correction action {fix['action']!r}")

    def added_spans(self, doc_id: str) -> list[dict]:
        """The PER/ORG/LOC spans WiNER missed, shaped like mapped WiNER annotations."""
        return [{"id": f"{ADDED_SPAN_ID_PREFIX}{a['start']}-{a['end']}", "type": "", "start": a["start"],
                 "end": a["end"], "label": a["label"], "text": a.get("text")} for a in self.additions.get(doc_id, [])]

    def summary(self) -> dict:
        labels = Counter(s["label"] for doc_id in self.reviews for s in self.final_spans(doc_id))
        return {"reviewed": self.coverage[0], "articles": self.coverage[1], "merged": self.merged,
                "spans": dict(labels), "corrections": len(self.corrections),
                "additions": sum(len(spans) for spans in self.additions.values()), "adjudicated": self.adjudicated,
                "reread": len(self.rereads), "reread_changes": dict(self.reread_changes()),
                "second_reading_decisions": self.second_reading_decided}


def load_layers(layers_dir: Path, with_rereads: bool = True, with_second_reading: bool = True) -> ProjectLayers:
    """The span layers; the links layer is read apart (load_links), by the linking steps only.

    with_second_reading=False gives the layer as it was before the second reading
    (what that reading is compared with)."""
    layers = ProjectLayers()
    for path in layer_files(layers_dir / "money_policy", "batch_*.jsonl"):
        for record in read_jsonl(path):
            if record["doc_id"] in layers.reviews:
                raise ValueError(f"{path}: article {record['doc_id']} reviewed twice in the first pass")
            layers.reviews[record["doc_id"]] = record
    adjudication = layers_dir / "agreement" / "adjudication.jsonl"
    if adjudication.exists():
        for record in read_jsonl(adjudication):
            layers.adjudications.setdefault(record["doc_id"], []).append(record)
    for path in layer_files(layers_dir / "reread", "batch_*.jsonl") if with_rereads else []:
        for record in read_jsonl(path):
            if record["doc_id"] in layers.rereads or record["doc_id"] in layers.adjudications:
                raise ValueError(f"{path}: article {record['doc_id']} re-read twice or already adjudicated")
            layers.rereads[record["doc_id"]] = record
    second_reading = layers_dir / "agreement" / SECOND_READING_ADJUDICATION
    if with_second_reading and second_reading.exists():
        for record in read_jsonl(second_reading):
            layers.second_reading.setdefault(record["doc_id"], []).append(record)
    for path in layer_files(layers_dir / "corrections"):
        for record in read_jsonl(path):
            if record["action"] == "add":
                layers.additions.setdefault(record["doc_id"], []).append(record)
            else:
                layers.corrections[(record["doc_id"], record["winer_id"])] = record
    return layers


def load_link_records(links_dir: Path) -> dict[tuple[str, int, int], dict]:
    """(doc_id, start, end) -> link record; a later file overrides an earlier one (re-linking)."""
    records: dict[tuple[str, int, int], dict] = {}
    for path in layer_files(links_dir):
        for record in read_jsonl(path):
            records[(record["doc_id"], record["start"], record["end"])] = record
    return records


def load_links(links_dir: Path) -> dict[tuple[str, int, int], str]:
    """(doc_id, start, end) -> QID or NIL, after overrides."""
    return {key: record["kb_id"] for key, record in load_link_records(links_dir).items()}
