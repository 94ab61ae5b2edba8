"""Exact-match entity scoring on character offsets, per label and overall.

Character offsets (not token indices) are compared so that pipelines with different
tokenisers (ours, fr_core_news_md) are scored identically against the same gold spans.
"""

import random
from collections import Counter
from collections.abc import Iterable, Sequence

from spacy.tokens import Doc

Entity = tuple[int, int, str]


def entity_set(doc: Doc, labels: Iterable[str] | None = None) -> set[Entity]:
    keep = set(labels) if labels is not None else None
    return {(e.start_char, e.end_char, e.label_) for e in doc.ents if keep is None or e.label_ in keep}


def count_matches(pairs: Sequence[tuple[set[Entity], set[Entity]]]) -> dict[str, Counter]:
    """Per label: true positives, predicted and gold counts over (predicted, gold) pairs."""
    counts: dict[str, Counter] = {}
    for predicted, gold in pairs:
        for label in {e[2] for e in predicted | gold}:
            c = counts.setdefault(label, Counter())
            p = {e for e in predicted if e[2] == label}
            g = {e for e in gold if e[2] == label}
            c["tp"] += len(p & g)
            c["pred"] += len(p)
            c["gold"] += len(g)
    return counts


def prf(tp: int, pred: int, gold: int) -> dict[str, float]:
    p = tp / pred if pred else 0.0
    r = tp / gold if gold else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {"p": round(p, 4), "r": round(r, 4), "f": round(f, 4), "support": gold}


def score(pairs: Sequence[tuple[set[Entity], set[Entity]]], labels: Sequence[str]) -> dict[str, dict]:
    """{label: {p, r, f, support}, "overall": micro-averaged over `labels`}."""
    counts = count_matches(pairs)
    result = {}
    total = Counter()
    for label in labels:
        c = counts.get(label, Counter())
        result[label] = prf(c["tp"], c["pred"], c["gold"])
        total.update(c)
    result["overall"] = prf(total["tp"], total["pred"], total["gold"])
    return result


def bootstrap_f(pairs: Sequence[tuple[set[Entity], set[Entity]]], labels: Sequence[str],
                samples: int = 1000, seed: int = 0) -> dict[str, tuple[float, float]]:
    """95% intervals of F per label and overall, resampling articles with replacement."""
    rng = random.Random(seed)
    draws: dict[str, list[float]] = {label: [] for label in [*labels, "overall"]}
    for _ in range(samples):
        sample = [pairs[rng.randrange(len(pairs))] for _ in pairs]
        scores = score(sample, labels)
        for key, values in draws.items():
            values.append(scores[key]["f"])
    return {key: (_quantile(v, 0.025), _quantile(v, 0.975)) for key, v in draws.items()}


def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 4)


def error_breakdown(pairs: Sequence[tuple[set[Entity], set[Entity]]]) -> dict[str, Counter]:
    """Per gold label: correct, type error (same span), boundary error (same label, overlapping),
    both (overlapping, other label), missed; per predicted label: spurious (overlaps no gold)."""
    table: dict[str, Counter] = {}
    for predicted, gold in pairs:
        for g_start, g_end, g_label in gold:
            row = table.setdefault(g_label, Counter())
            overlapping = [p for p in predicted if p[0] < g_end and g_start < p[1]]
            if (g_start, g_end, g_label) in predicted:
                row["correct"] += 1
            elif any((p[0], p[1]) == (g_start, g_end) for p in overlapping):
                wrong = next(p[2] for p in overlapping if (p[0], p[1]) == (g_start, g_end))
                row[f"type_error_as_{wrong}"] += 1
                row["type_error"] += 1
            elif any(p[2] == g_label for p in overlapping):
                row["boundary_error"] += 1
            elif overlapping:
                row["boundary_and_type_error"] += 1
            else:
                row["missed"] += 1
        for p_start, p_end, p_label in predicted:
            if not any(g[0] < p_end and p_start < g[1] for g in gold):
                table.setdefault(p_label, Counter())["spurious"] += 1
    return table


def training_mentions(docs: Iterable[Doc]) -> dict[str, set[str]]:
    """Per label, the lowercased texts of the training articles' entities."""
    mentions: dict[str, set[str]] = {}
    for doc in docs:
        for ent in doc.ents:
            mentions.setdefault(ent.label_, set()).add(ent.text.lower())
    return mentions


def recall_by_novelty(predicted: Sequence[Doc], gold: Sequence[Doc], seen: dict[str, set[str]],
                      labels: Sequence[str]) -> dict[str, dict]:
    """Recall of gold mentions whose text the training articles hold with the same label
    ("seen") and of the others ("unseen"): how far the model generalises to new names and
    events, which is what a new period of news mostly brings."""
    counts = {label: Counter() for label in labels}
    for predicted_doc, gold_doc in zip(predicted, gold, strict=True):
        found = entity_set(predicted_doc, labels)
        for ent in gold_doc.ents:
            if ent.label_ not in counts:
                continue
            kind = "seen" if ent.text.lower() in seen.get(ent.label_, set()) else "unseen"
            counts[ent.label_][kind] += 1
            counts[ent.label_][f"{kind}_found"] += (ent.start_char, ent.end_char, ent.label_) in found
    return {label: {kind: {"support": c[kind], "r": round(c[f"{kind}_found"] / c[kind], 4) if c[kind] else 0.0}
                    for kind in ("seen", "unseen")} for label, c in counts.items()}
