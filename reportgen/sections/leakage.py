"""Images that appear in more than one split: a test image the model also trained on inflates test accuracy.

Every image is hashed (its ``uint8`` bytes: identical pixels, whatever the file or row it came from), and each hash
that occurs in two splits is reported with its indices and labels. Exact duplicates only: a resized or re-encoded
copy is another image here.
"""

from __future__ import annotations

import hashlib
from typing import Any

SPLITS = ("train", "val", "test")
SHOWN = 5  # example pairs kept per pair of splits


def image_hashes(x) -> list[bytes]:
    """One digest per image of ``x`` ``(N, C, H, W)`` uint8 (BLAKE2b over its bytes; collisions are negligible)."""
    flat = x.reshape(len(x), -1).contiguous().numpy()
    return [hashlib.blake2b(row.tobytes(), digest_size=16).digest() for row in flat]


def find_leaks(data) -> dict[str, Any]:
    """``{"pairs": {"train/test": {"count", "examples": [{"train": i, "test": j, "labels": [a, b]}]}}, "total"}``:
    for each pair of splits, how many images of the later split also occur in the earlier one (each such image
    counted once), with a few examples by index."""
    hashes = {s: image_hashes(getattr(data, s).x) for s in SPLITS}
    labels = {s: getattr(data, s).y.tolist() for s in SPLITS}
    first_index = {s: {} for s in SPLITS}
    for s in SPLITS:
        for i, h in enumerate(hashes[s]):
            first_index[s].setdefault(h, i)
    pairs, total = {}, 0
    for a_pos, a in enumerate(SPLITS):
        for b in SPLITS[a_pos + 1:]:
            found = [(first_index[a][h], j) for j, h in enumerate(hashes[b]) if h in first_index[a]]
            if not found:
                continue
            total += len(found)
            pairs[f"{a}/{b}"] = {
                "count": len(found),
                "examples": [{a: i, b: j, "labels": [data.classes[labels[a][i]], data.classes[labels[b][j]]]}
                             for i, j in found[:SHOWN]],
                "label_conflicts": sum(labels[a][i] != labels[b][j] for i, j in found),
            }
    return {"pairs": pairs, "total": total}


def describe_leaks(name: str, leaks: dict[str, Any], sizes: dict[str, int]) -> list[str]:
    """Sentences: none found, or each pair of splits with its count and share, and what it does to the numbers."""
    if not leaks["pairs"]:
        return [f"No image of {name} occurs in two splits (exact pixel duplicates checked across train, validation "
                "and test)."]
    text = []
    for pair, found in leaks["pairs"].items():
        a, b = pair.split("/")
        share = found["count"] / max(sizes[b], 1)
        conflict = (f"; {found['label_conflicts']} of them carry another label there"
                    if found["label_conflicts"] else "")
        effect = ("test accuracy is inflated by images the model trained on" if pair == "train/test"
                  else "the validation split, which chooses the epochs and the configurations, saw training images"
                  if pair == "train/val" else "validation and test share images")
        text.append(f"Leakage in {name}: {found['count']:,} {b} images ({100 * share:.1f} % of the {b} split) also "
                    f"occur in the {a} split{conflict}: {effect}.")
    return text
