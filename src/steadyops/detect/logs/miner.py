"""Streaming log template miner: one pass, persistent state, one configuration for every source.

How it works (and why it differs from Drain):

1. A line is pre-masked (multi-word values), tokenised (CJK-safe) and every word is masked
   (:mod:`steadyops.detect.logs.masking`). The masked word sequence is the line's *shape*.
2. Most lines repeat a shape already seen: a dict lookup answers them. This is why the miner is
   faster than Drain3, which walks its tree and scores candidates for every line.
3. A new shape is compared with the templates of its bucket (same token count, same first token
   when that is a plain word). A difference between two plain words is *hard*: the line never
   joins that template on similarity alone, because plain words are what tell templates apart
   (``moved from OPEN to READY`` vs ``... from READY to DONE``). Other differences are
   *soft* and are generalised keeping the token's frame (``org.example.<*>:``); the best candidate
   by Drain's similarity (ties: more wildcards) wins when it reaches ``similarity``. A line must
   share at least one constant token with a template to join it: otherwise the template would be
   left with parameters only and take in every line of its length.
4. A hard difference at a single position still becomes a parameter once that position has seen
   ``word_variable_values`` distinct words, or ``lowercase_variable_values`` distinct lower-case
   words: states and verbs come in small closed sets (often capitalised), user and host names in
   open sets of lower-case words. Only a line that differs from the template in that word alone
   counts: one that also differs in the shape of a value is no evidence that the word varies. A
   varying unit after a number (``12 KB`` / ``3 MB``) is part of the value. Together these make
   the templates independent of the order the lines come in (checked by shuffling).
5. When a template generalises it may now cover other templates of its bucket; they are merged
   and each absorbed id becomes an alias, so ids handed out earlier keep resolving.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from steadyops.detect.logs.masking import WILDCARD, Masker, premask, render, tokenize
from steadyops.detect.logs.tokens import covers, extract, generalise, is_unit, is_word, merge, split_difference

_FORMAT = "steadyops.logtemplates/1"
# a key (a name, no wildcard in it) framing a masked value: ``attempts:<*>``, ``(id=<*>)``
_KEYED = re.compile(r"[(\[{<\"']?[A-Za-z_][\w.\-]*[:=]<\*>.*")
# consecutive bare values from which on they are read as one list-valued parameter
_LIST_RUN = 4
_RUN_PROBE = "\0" + "\0".join([WILDCARD] * _LIST_RUN) + "\0"  # such a run, in tokens joined by NUL
Shape = tuple[str, ...]
Glue = tuple[int, ...]


@dataclass(frozen=True)
class MinerConfig:
    """Tuning knobs; the defaults are the one configuration used for every log source."""

    similarity: float = 0.5
    """Share of positions (equal constants or wildcards) a line needs to join a template."""
    word_variable_values: int = 5
    """Distinct words seen at one position before that position becomes a parameter."""
    lowercase_variable_values: int = 3
    """Distinct lower-case words (three letters or more) that make a position a parameter."""
    shape_cache_size: int = 50_000
    """Masked shapes remembered for the O(1) fast path (cleared when full, bounding memory)."""
    max_candidates: int | None = None
    """Compare a new shape with at most this many templates of its bucket, the latest made (None:
    all). Lines of free text (plain words that never generalise) make a template each, and every
    new line is compared with all of them: 5,000 such lines took 20 s, 10,000 took 95 s. A caller
    that must finish on logs it has never seen (the RCA's log series) sets a bound; a bucket that
    large is free text, where a line missing its older twin costs a duplicate template at most."""


@dataclass(frozen=True)
class Match:
    """The result of adding or matching one line."""

    template_id: int
    template: str
    params: list[str]
    is_new: bool


@dataclass(frozen=True)
class Template:
    """A template as reported to callers."""

    id: int
    template: str
    count: int


@dataclass
class _Cluster:
    id: int
    tokens: list[str]
    glued: Glue
    count: int = 0
    words: dict[int, set[str]] = field(default_factory=dict)  # distinct words per hard position
    units: set[int] = field(default_factory=set)  # varying units, rendered as part of the value
    slots: list[int] = field(default_factory=list)  # positions holding a wildcard
    text: str = ""

    def refresh(self) -> None:
        """Recompute what derives from the tokens (called whenever they change)."""
        self.slots = [i for i, t in enumerate(self.tokens) if WILDCARD in t]
        tokens, glued = list(self.tokens), set(self.glued)
        for pos in sorted(self.units, reverse=True):
            if tokens[pos - 1].endswith(WILDCARD) and tokens[pos].startswith(WILDCARD):
                tokens[pos - 1] += tokens[pos][len(WILDCARD) :]
                del tokens[pos]
                glued = {g if g < pos else g - 1 for g in glued if g != pos}
        self.text = render(tokens, glued)


class TemplateMiner:
    """Learns log templates from a stream of lines; see the module docstring for the algorithm.

    One miner per log stream; it is not thread-safe (callers that share one must hold a lock).
    """

    def __init__(self, config: MinerConfig | None = None) -> None:
        self.config = config or MinerConfig()
        self._masker = Masker()
        self._clusters: dict[int, _Cluster] = {}
        self._alias: dict[int, int] = {}
        self._buckets: dict[tuple[int, str | None], list[int]] = {}
        self._shapes: dict[tuple[Shape, Glue], int] = {}
        self._next_id = 1

    # ------------------------------------------------------------------ public API
    def add(self, line: str) -> Match:
        """Learn from ``line`` and return its template (ids are stable across later merges)."""
        raw, shape, glued, originals = self._prepare(line)
        cluster, is_new = self._learn(shape, glued)
        return Match(cluster.id, cluster.text, self._params(cluster, raw, originals), is_new)

    def learn(self, line: str) -> int:
        """Learn from ``line`` exactly as :meth:`add` does and return only its template id.

        For callers that count lines per template (the RCA's log series over hundreds of thousands of
        lines): extracting the parameters is a quarter of :meth:`add`'s time and they are not read.
        """
        _, shape, glued, _ = self._prepare(line)
        return self._learn(shape, glued)[0].id

    def match(self, line: str) -> Match | None:
        """The template that already covers ``line`` exactly, without learning anything."""
        raw, shape, glued, originals = self._prepare(line)
        cid = self._shapes.get((shape, glued))
        if cid is not None:
            cluster = self._clusters[self._resolve(cid)]
            return Match(cluster.id, cluster.text, self._params(cluster, raw, originals), False)
        for cand in self._candidates(shape, glued):
            if all(covers(t, s) for t, s in zip(cand.tokens, shape, strict=True)):
                return Match(cand.id, cand.text, self._params(cand, raw, originals), False)
        return None

    def templates(self) -> list[Template]:
        """Every live template, most frequent first."""
        out = [Template(c.id, c.text, c.count) for c in self._clusters.values()]
        return sorted(out, key=lambda t: (-t.count, t.id))

    def get(self, template_id: int) -> Template | None:
        """The current template behind an id handed out earlier (follows merges)."""
        cluster = self._clusters.get(self._resolve(template_id))
        return Template(cluster.id, cluster.text, cluster.count) if cluster else None

    def resolve(self, template_id: int) -> int:
        """The live id that ``template_id`` was merged into (itself when never merged)."""
        return self._resolve(template_id)

    def __len__(self) -> int:
        return len(self._clusters)

    # ------------------------------------------------------------------ persistence
    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the learned state as JSON (atomically: a crash never leaves half a file)."""
        state: dict[str, Any] = {
            "format": _FORMAT,
            "config": asdict(self.config),
            "next_id": self._next_id,
            "aliases": {str(k): v for k, v in self._alias.items()},
            "templates": [
                {
                    "id": c.id,
                    "tokens": c.tokens,
                    "glued": list(c.glued),
                    "count": c.count,
                    "words": {str(i): sorted(w) for i, w in c.words.items()},
                    "units": sorted(c.units),
                }
                for c in self._clusters.values()
            ],
        }
        target = Path(path)
        tmp = target.with_name(target.name + ".tmp")
        tmp.write_text(json.dumps(state, ensure_ascii=False), encoding="utf-8")
        tmp.replace(target)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> TemplateMiner:
        """Rebuild a miner from :meth:`save` output; it continues exactly where it stopped."""
        state = json.loads(Path(path).read_text(encoding="utf-8"))
        if not isinstance(state, dict) or state.get("format") != _FORMAT:
            raise ValueError(f"not a template-miner state file: {path}")
        miner = cls(MinerConfig(**state["config"]))
        miner._next_id = int(state["next_id"])
        miner._alias = {int(k): int(v) for k, v in state["aliases"].items()}
        for item in state["templates"]:
            cluster = _Cluster(
                id=int(item["id"]),
                tokens=[str(t) for t in item["tokens"]],
                glued=tuple(int(g) for g in item["glued"]),
                count=int(item["count"]),
                words={int(i): set(w) for i, w in item["words"].items()},
                units={int(i) for i in item["units"]},
            )
            cluster.refresh()
            miner._clusters[cluster.id] = cluster
            miner._buckets.setdefault(miner._bucket_key(cluster.tokens), []).append(cluster.id)
        return miner

    # ------------------------------------------------------------------ internals
    def _prepare(self, line: str) -> tuple[list[str], Shape, Glue, list[str]]:
        text, originals = premask(line)
        raw, glued = tokenize(text)
        cache, mask = self._masker.cache, self._masker.mask_word
        masked = [cache.get(t) or mask(t) for t in raw]
        if not glued and masked.count(WILDCARD) >= _LIST_RUN and _RUN_PROBE in "\0".join(("", *masked, "")):
            raw, masked = _collapse_lists(raw, masked)
        return raw, tuple(masked), glued, originals

    def _learn(self, shape: Shape, glued: Glue) -> tuple[_Cluster, bool]:
        """The template of a prepared line, learning from it; (cluster, whether it is new)."""
        key = (shape, glued)
        cid = self._shapes.get(key)
        is_new = False
        if cid is not None:
            cluster = self._clusters[self._resolve(cid)]
        else:
            cluster, is_new = self._place(shape, glued)
            if len(self._shapes) >= self.config.shape_cache_size:
                self._shapes.clear()
            self._shapes[key] = cluster.id
        cluster.count += 1
        return cluster, is_new

    def _resolve(self, cid: int) -> int:
        while cid in self._alias:
            cid = self._alias[cid]
        return cid

    @staticmethod
    def _bucket_key(tokens: list[str] | Shape) -> tuple[int, str | None]:
        first = tokens[0] if tokens else None
        return len(tokens), (first if first is not None and is_word(first) else None)

    def _candidates(self, shape: Shape, glued: Glue) -> Iterator[_Cluster]:
        ids: list[int] = self._buckets.get(self._bucket_key(shape), [])
        limit = self.config.max_candidates
        if limit is not None and len(ids) > limit:
            ids = ids[-limit:]
        for cid in ids:
            cluster = self._clusters[cid]
            if cluster.glued == glued:
                yield cluster

    def _place(self, shape: Shape, glued: Glue) -> tuple[_Cluster, bool]:
        """Find (and generalise) the template for a shape not seen before, or create one."""
        n = len(shape) or 1
        best: _Cluster | None = None
        best_key = (-1.0, -1)
        best_merged: list[str] = []
        best_units: set[int] = set()
        for cand in self._candidates(shape, glued):
            merged, score, params, hard_at, units = self._compare(cand, shape)
            if merged is None:
                if hard_at is None or not self._word_variable(cand, hard_at, shape[hard_at]):
                    continue
                merged = list(cand.tokens)
                merged[hard_at] = generalise(cand.tokens[hard_at], shape[hard_at])
                score, params = (n - 1) / n, params + 1
            if score >= self.config.similarity and (score, params) > best_key:
                best, best_key, best_merged, best_units = cand, (score, params), merged, units
        if best is None:
            cluster = _Cluster(self._next_id, list(shape), glued)
            cluster.refresh()
            self._next_id += 1
            self._clusters[cluster.id] = cluster
            self._buckets.setdefault(self._bucket_key(shape), []).append(cluster.id)
            return cluster, True
        if best_merged != best.tokens:
            best.tokens = best_merged
            best.units |= best_units
            best.refresh()
            self._absorb(best)
        return best, False

    def _compare(self, cand: _Cluster, shape: Shape) -> tuple[list[str] | None, float, int, int | None, set[int]]:
        """Merged tokens (None on a hard difference), similarity, wildcards, lone hard position, units.

        Stops as soon as the candidate cannot qualify any more (too many differences for the
        similarity threshold, or a hard difference next to another difference), which keeps a
        bucket with many templates cheap to scan.
        """
        n = len(shape) or 1
        allowed = int(n * (1.0 - self.config.similarity) + 1e-9)
        same = params = hard = misses = 0
        merged: list[str] = []
        units: set[int] = set()
        hard_at: int | None = None
        for i, (t, s) in enumerate(zip(cand.tokens, shape, strict=True)):
            if t == s:
                same += 1
                merged.append(t)
            elif WILDCARD in t and covers(t, s):
                params += 1
                merged.append(t)
            else:
                misses += 1
                m = None if is_word(t) and is_word(s) else merge(t, s)
                if m is None and i and merged[-1].endswith(WILDCARD) and is_unit(t) and is_unit(s):
                    m = generalise(t, s)
                    units.add(i)
                if m is None:
                    hard += 1
                    hard_at = i
                    m = t
                if (hard and misses > 1) or misses > max(allowed, 1):
                    return None, 0.0, params, None, units
                merged.append(m)
        if misses and not any(t == s and WILDCARD not in t for t, s in zip(cand.tokens, shape, strict=True)):
            # nothing in common but what is already a parameter: joining would leave a template of
            # parameters only, which then takes in every line of its length
            return None, 0.0, params, None, units
        score = (same + params) / n
        if hard:
            # a word is read as a parameter only where it is the one difference: a line that also
            # differs elsewhere (a value of another shape) is not evidence that the word varies
            return None, score, params, hard_at if not params else None, units
        return merged, score, params, None, units

    def _word_variable(self, cand: _Cluster, pos: int, token: str) -> bool:
        """Record the word ``token`` differs by at ``pos``; True once it looks like a parameter.

        Never for two *keys* of masked values (``onOpen:<*>`` / ``onClose:<*>``): a key names
        what the value is, so different keys are different messages however many there are.
        """
        if _KEYED.fullmatch(cand.tokens[pos]) and _KEYED.fullmatch(token):
            return False
        _, mine, theirs, _ = split_difference(cand.tokens[pos], token)
        seen = cand.words.setdefault(pos, set())
        seen.update((mine, theirs))
        lower = sum(1 for w in seen if len(w) > 2 and w.isalpha() and w.islower())
        return len(seen) >= self.config.word_variable_values or lower >= self.config.lowercase_variable_values

    def _absorb(self, winner: _Cluster) -> None:
        """Merge into ``winner`` every template of its bucket that it now covers."""
        bucket = self._buckets[self._bucket_key(winner.tokens)]
        for cid in list(bucket):
            other = self._clusters[cid]
            if cid == winner.id or other.glued != winner.glued:
                continue
            if all(covers(t, o) for t, o in zip(winner.tokens, other.tokens, strict=True)):
                winner.count += other.count
                for pos, words in other.words.items():
                    winner.words.setdefault(pos, set()).update(words)
                winner.units |= other.units
                self._alias[cid] = winner.id
                del self._clusters[cid]
                bucket.remove(cid)
        winner.refresh()

    @staticmethod
    def _params(cluster: _Cluster, raw: list[str], originals: list[str]) -> list[str]:
        out: list[str] = []
        tokens, units = cluster.tokens, cluster.units
        for i in cluster.slots:
            values = extract(tokens[i], raw[i])
            if units and i in units and out and values:
                out[-1] = f"{out[-1]} {values.pop(0)}"
            out.extend(values)
        if originals:
            pending = iter(originals)
            out = [_restore(p, pending) for p in out]
        return out


def _collapse_lists(raw: list[str], masked: list[str]) -> tuple[list[str], list[str]]:
    """Make a run of ``_LIST_RUN`` or more bare values one value: it is a list.

    A list of ids, numbers or addresses printed one after another (``delete a b c d``) has a
    length that changes from line to line; as separate tokens every length would be its own
    template. Up to three values side by side are kept apart: that is usually a fixed tuple
    (``hi/lo: <*> <*>``).
    """
    out_raw: list[str] = []
    out_masked: list[str] = []
    i, n = 0, len(masked)
    while i < n:
        j = i
        while j < n and masked[j] == WILDCARD:
            j += 1
        if j - i >= _LIST_RUN:
            out_raw.append(" ".join(raw[i:j]))
            out_masked.append(WILDCARD)
            i = j
            continue
        end = max(j, i + 1)
        out_raw.extend(raw[i:end])
        out_masked.extend(masked[i:end])
        i = end
    return out_raw, out_masked


def _restore(value: str, pending: Iterator[str]) -> str:
    """Put back the multi-word values that :func:`premask` replaced in ``value``."""
    while WILDCARD in value:
        original = next(pending, None)
        if original is None:
            break
        value = value.replace(WILDCARD, original, 1)
    return value
