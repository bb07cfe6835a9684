"""Read the evidence a notebook's graded cells handed over, and take it out of the notebook.

The evidence arrives as display outputs (``resnet_course.evidence``) of the
cell that requested it. Only a graded cell's own outputs count for it, each
key at most once; everything the kernel sent is untrusted, so sizes are
bounded before anything is decompressed or parsed.
"""

from __future__ import annotations

import base64
import binascii
import json
import zlib

from resnet_course.evidence import MIME_TYPE

#: Largest evidence payload once decompressed (a ResNet50 configuration is about 0.3 MB).
MAX_PAYLOAD_BYTES = 16 * 1024 * 1024
MAX_ENCODED_BYTES = 8 * 1024 * 1024


class BadEvidence(ValueError):
    """A cell's evidence could not be read (the message is for the student)."""


def decode(bundle) -> tuple[str, object]:
    """The (key, payload) of one evidence output, or raise :class:`BadEvidence`."""
    if not isinstance(bundle, dict) or not isinstance(bundle.get("key"), str):
        raise BadEvidence("the grader's evidence output was altered")
    data = bundle.get("data")
    if bundle.get("encoding") != "zlib+base64" or not isinstance(data, str) or len(data) > MAX_ENCODED_BYTES:
        raise BadEvidence(f"the evidence for {bundle['key']!r} is too large or altered")
    try:
        inflater = zlib.decompressobj()
        raw = inflater.decompress(base64.b64decode(data, validate=True), MAX_PAYLOAD_BYTES)
        if inflater.unconsumed_tail:
            raise BadEvidence(f"the evidence for {bundle['key']!r} is too large")
        return bundle["key"], json.loads(raw)
    except (binascii.Error, zlib.error, ValueError) as error:
        if isinstance(error, BadEvidence):
            raise
        raise BadEvidence(f"the evidence for {bundle['key']!r} could not be read") from None


def _evidence_outputs(cell):
    for output in cell.get("outputs", []):
        if output.get("output_type") in ("display_data", "execute_result", "update_display_data"):
            data = output.get("data", {})
            if MIME_TYPE in data:
                yield data[MIME_TYPE]


def cell_evidence(cell) -> dict:
    """Map each evidence key of one cell to its payload; a key sent twice maps to a :class:`BadEvidence`."""
    found: dict = {}
    for bundle in _evidence_outputs(cell):
        try:
            key, payload = decode(bundle)
        except BadEvidence as error:
            key = bundle.get("key") if isinstance(bundle, dict) and isinstance(bundle.get("key"), str) else "?"
            found[key] = error
            continue
        found[key] = BadEvidence(f"the cell sent its evidence for {key!r} more than once") if key in found else payload
    return found


def strip_evidence(cell) -> None:
    """Remove the evidence outputs from a cell (they are large, and the feedback has no use for them)."""
    if "outputs" in cell:
        cell.outputs = [
            output for output in cell.outputs if MIME_TYPE not in output.get("data", {}) if isinstance(output, dict)
        ]
