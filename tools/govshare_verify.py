#!/usr/bin/env python3
"""Check a govshare transparency ledger offline, without govshare.

Needs only Python 3.10+ and the ``cryptography`` package (for Ed25519)::

    python -m venv v && v/bin/pip install cryptography
    v/bin/python govshare_verify.py export DIR [--key KEY ...] [--witness VKEY ... [--quorum K]]
    v/bin/python govshare_verify.py receipt FILE [--key KEY ...] [--witness VKEY ... [--quorum K]]

``export DIR`` checks a directory written by ``manage.py ledger_export DIR``:

- ``entries.jsonl``: one ``{"index": i, "entry": base64}`` per line, indices 0..n-1 in order and
  without gaps; each entry is JSON whose own ``"index"`` is its position;
- ``checkpoints/<size>``: C2SP tlog-checkpoint notes signed as C2SP signed notes (Ed25519);
- ``key.txt``: the ledger's verifier keys ``<name>+<hex key id>+<base64(0x01 || public key)>``,
  one per line, the current key first and then keys retired by a rotation.

It recomputes the RFC 9162 Merkle tree (SHA-256; leaf = H(0x00 || entry), node =
H(0x01 || left || right)) from the entries, checks every checkpoint's signature and root against
it, and checks an RFC 9162 consistency proof between successive checkpoints.

``receipt FILE`` checks a receipt (``govshare-ledger-receipt/1``, from the ledger API or the web):
the checkpoint's signature, the leaf hash of the entry and its RFC 9162 inclusion proof against the
signed root; then prints the entry.

The keys: give the ledger's published verifier key with ``--key`` (a file holding keys one per
line, or a key itself; repeatable). After a key rotation old checkpoints carry the retired key:
give it too (``GET /api/v1/ledger/keys/`` lists every key of the log). Without ``--key`` the keys
that came with the export or receipt are used, which proves only that the data is consistent
with *some* key: compare them with the published ones.

With ``--witness VKEY`` (repeatable) and ``--quorum K`` the newest checkpoint (or the receipt's)
must carry K valid C2SP cosignatures by those witnesses: then the witnesses are trusted, not the
database. ``export --trusted-checkpoint FILE`` checks a checkpoint a department kept against the
log.

Exit status: 0 when everything verifies, 1 when something does not (the first bad index or the bad
checkpoint is named), 2 on a usage error.
"""

import argparse
import base64
import binascii
import hashlib
import json
import re
import sys
from pathlib import Path

try:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
except ImportError:  # pragma: no cover - exercised by hand
    sys.stderr.write(
        "govshare_verify: needs the 'cryptography' package (pip install cryptography)\n"
    )
    sys.exit(2)

RECEIPT_FORMAT = "govshare-ledger-receipt/1"
SIGNATURE_PREFIX = "\u2014 "  # an em dash and a space start every signature line
ALG_ED25519 = 0x01
ALG_COSIGNATURE_ED25519 = 0x04
HASH_SIZE = 32


class VerifyError(Exception):
    """Something does not verify; the message says what."""


# --- RFC 9162 hashing -----------------------------------------------------------------------


def sha256(data):
    return hashlib.sha256(data).digest()


def leaf_hash(entry):
    return sha256(b"\x00" + entry)


def node_hash(left, right):
    return sha256(b"\x01" + left + right)


EMPTY_ROOT = sha256(b"")


def largest_power_of_two_below(n):
    k = 1
    while k * 2 < n:
        k *= 2
    return k


class Tree:
    """The tree over the entries read so far.

    Keeps every complete, aligned subtree hash (about 64 bytes a leaf, in flat bytearrays), so a
    root or a consistency proof for any earlier size costs O(log n) hashes.
    """

    def __init__(self):
        self.size = 0
        self._levels = [bytearray()]  # _levels[l] holds the subtrees of 2**l leaves, in order

    def _node(self, level, index):
        start = index * HASH_SIZE
        return bytes(self._levels[level][start : start + HASH_SIZE])

    def append(self, leaf):
        position, level, current = self.size, 0, leaf
        self._levels[0] += leaf
        while position & 1:
            current = node_hash(self._node(level, position - 1), current)
            level += 1
            position >>= 1
            if len(self._levels) == level:
                self._levels.append(bytearray())
            self._levels[level] += current
        self.size += 1

    def _range(self, start, end):
        """MTH of leaves [start, end); ranges the RFC recursion visits only."""
        n = end - start
        if n & (n - 1) == 0 and start % n == 0:
            return self._node(n.bit_length() - 1, start // n)
        k = largest_power_of_two_below(n)
        return node_hash(self._range(start, start + k), self._range(start + k, end))

    def root(self, size):
        if not 0 <= size <= self.size:
            raise ValueError("size outside the tree")
        return EMPTY_ROOT if size == 0 else self._range(0, size)

    def consistency_proof(self, first, second):
        """PROOF(first, D[second]) of RFC 9162 2.1.4.1."""
        if not 0 < first <= second <= self.size:
            raise ValueError("need 0 < first <= second <= size")

        def subproof(m, start, end, complete):
            if m == end - start:
                return [] if complete else [self._range(start, end)]
            k = largest_power_of_two_below(end - start)
            if m <= k:
                return [*subproof(m, start, start + k, complete), self._range(start + k, end)]
            return [*subproof(m - k, start + k, end, False), self._range(start, start + k)]

        return subproof(first, 0, second, True)


def verify_inclusion(leaf, index, tree_size, proof, root):
    """RFC 9162 2.1.3.2."""
    if not 0 <= index < tree_size:
        return False
    fn, sn, r = index, tree_size - 1, leaf
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def verify_consistency(first, second, proof, first_root, second_root):
    """RFC 9162 2.1.4.2."""
    if not 0 < first <= second:
        return False
    if first == second:
        return not proof and first_root == second_root
    if not proof:
        return False
    if first & (first - 1) == 0:
        proof = [first_root, *proof]
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = proof[0]
    for c in proof[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return sn == 0 and fr == first_root and sr == second_root


# --- C2SP signed notes and checkpoints --------------------------------------------------------


def b64decode(text, what):
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError, TypeError) as exc:
        raise VerifyError(f"{what} is not valid base64") from exc


def valid_key_name(name):
    return bool(name) and "+" not in name and not any(c.isspace() for c in name)


class VerifierKey:
    """A C2SP signed-note verifier key for Ed25519."""

    def __init__(self, text):
        self.text = text.strip()
        parts = self.text.split("+", 2)  # the base64 key may itself contain "+"
        if len(parts) != 3:
            raise VerifyError("not a verifier key (expected <name>+<hex key id>+<base64 key>)")
        self.name, hex_id, encoded = parts
        if not valid_key_name(self.name):
            raise VerifyError("the verifier key's name is not valid")
        if not re.fullmatch(r"[0-9a-f]{8}", hex_id):
            raise VerifyError("the verifier key's id is not 8 hex digits")
        raw = b64decode(encoded, "the verifier key")
        if len(raw) != 33 or raw[0] != ALG_ED25519:
            raise VerifyError("the verifier key is not an Ed25519 key")
        self.key_id = sha256(self.name.encode() + b"\n" + raw)[:4]
        if self.key_id.hex() != hex_id:
            raise VerifyError("the verifier key's id does not match its key")
        self.public_key = Ed25519PublicKey.from_public_bytes(raw[1:])


def read_keys(argument):
    """``--key``: a file holding verifier keys (one per line), or a key itself."""
    path = Path(argument)
    if path.is_file():
        lines = [line for line in read_text(path, "key file").splitlines() if line.strip()]
        if not lines:
            raise VerifyError(f"{argument}: holds no verifier key")
        return [VerifierKey(line) for line in lines]
    if "+" not in argument:
        raise VerifyError(f"--key {argument}: no such file, and not a verifier key")
    return [VerifierKey(argument)]


def key_list(keys):
    return ", ".join(f"{k.name}+{k.key_id.hex()}" for k in keys)


def open_note(note, keys):
    """The signed text of ``note`` if it carries a valid signature by one of ``keys`` (the log's
    keys: the current one and any retired by a rotation), as C2SP signed-note says.

    The signed text runs up to and including the newline before the blank line; every line after
    the blank line is ``— <name> <base64(key id || signature)>``. Signatures by other keys are
    ignored; a bad signature by one of ``keys`` fails.
    """
    for char in note:
        if ord(char) < 0x20 and char != "\n":
            raise VerifyError("malformed note: control character")
    split = note.rfind("\n\n")
    if split < 0:
        raise VerifyError("malformed note: no blank line before the signatures")
    text, signatures = note[: split + 1], note[split + 2 :]
    if not signatures.endswith("\n"):
        raise VerifyError("malformed note: the signatures do not end with a newline")
    found = False
    for line in signatures[:-1].split("\n"):
        if not line.startswith(SIGNATURE_PREFIX):
            raise VerifyError("malformed note: a signature line does not start with an em dash")
        name, _, encoded = line[len(SIGNATURE_PREFIX) :].partition(" ")
        raw = b64decode(encoded, "a signature")
        if not valid_key_name(name) or len(raw) < 5:
            raise VerifyError("malformed note: bad signature line")
        for key in keys:
            if name != key.name or raw[:4] != key.key_id:
                continue
            try:
                key.public_key.verify(raw[4:], text.encode("utf-8"))
            except InvalidSignature:
                raise VerifyError(f"the signature by {key.name} does not verify") from None
            found = True
    if not found:
        if len(keys) == 1:
            raise VerifyError(f"no signature by the key {key_list(keys)}")
        raise VerifyError(f"no signature by any of the keys {key_list(keys)}")
    return text


class CosignerKey:
    """A witness's C2SP cosignature verifier key: ``<name>+<hex id>+base64(0x04 || key)``."""

    def __init__(self, text):
        self.text = text.strip()
        parts = self.text.split("+", 2)
        if len(parts) != 3 or not valid_key_name(parts[0]):
            raise VerifyError(f"{self.text!r} is not a witness verifier key (name+id+key)")
        self.name, hex_id, encoded = parts
        raw = b64decode(encoded, "the witness key")
        if len(raw) != 33 or raw[0] != ALG_COSIGNATURE_ED25519:
            raise VerifyError(f"witness key {self.name}: not an Ed25519 cosignature key (0x04)")
        self.key_id = sha256(self.name.encode() + b"\n" + raw)[:4]
        if self.key_id.hex() != hex_id:
            raise VerifyError(f"witness key {self.name}: the key id does not match the key")
        self.public_key = Ed25519PublicKey.from_public_bytes(raw[1:])

    def cosigned(self, note):
        """The timestamp of this witness's valid cosignature on ``note``, or None.

        C2SP tlog-cosignature/v1: the signature is base64(key id || u64 big-endian timestamp
        || Ed25519 over "cosignature/v1\\ntime <t>\\n" || the note's body).
        """
        split = note.rfind("\n\n")
        if split < 0:
            return None
        body, signatures = note[: split + 1], note[split + 2 :]
        for line in signatures.split("\n"):
            if not line.startswith(SIGNATURE_PREFIX):
                continue
            name, _, encoded = line[len(SIGNATURE_PREFIX) :].partition(" ")
            try:
                raw = base64.b64decode(encoded, validate=True)
            except (binascii.Error, ValueError):
                continue
            if name != self.name or raw[:4] != self.key_id or len(raw) != 76:
                continue
            timestamp = int.from_bytes(raw[4:12], "big")
            message = f"cosignature/v1\ntime {timestamp}\n{body}".encode()
            try:
                self.public_key.verify(raw[12:], message)
            except InvalidSignature:
                continue
            return timestamp
        return None


def read_witnesses(arguments):
    keys = []
    for argument in arguments or []:
        path = Path(argument)
        text = read_text(path, "witness key file").strip() if path.is_file() else argument
        keys.append(CosignerKey(text))
    return keys


def check_quorum(note, witnesses, quorum, what):
    """Fail unless ``quorum`` of the witnesses cosigned ``note``; returns who did."""
    signed = [w.name for w in witnesses if w.cosigned(note) is not None]
    if len(signed) < quorum:
        raise VerifyError(
            f"{what} carries {len(signed)} valid cosignature(s) of the {quorum} required"
            f"{' (by ' + ', '.join(signed) + ')' if signed else ''}"
        )
    return signed


def parse_checkpoint(text):
    """(origin, size, root) of a C2SP tlog-checkpoint body (extension lines are allowed)."""
    lines = text.split("\n")
    if len(lines) < 4 or lines[-1] != "":
        raise VerifyError("malformed checkpoint: fewer than three lines")
    origin, size, root = lines[0], lines[1], lines[2]
    if not origin:
        raise VerifyError("malformed checkpoint: empty origin line")
    if not re.fullmatch(r"0|[1-9][0-9]*", size):
        raise VerifyError(f"malformed checkpoint: size {size!r} is not a decimal number")
    root_hash = b64decode(root, "the checkpoint's root hash")
    if len(root_hash) != HASH_SIZE:
        raise VerifyError("malformed checkpoint: the root hash is not 32 bytes")
    return origin, int(size), root_hash


def read_text(path, what):
    try:
        return path.read_bytes().decode("utf-8")
    except OSError as exc:
        raise VerifyError(f"cannot read {what} {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise VerifyError(f"{what} {path} is not UTF-8") from None


# --- export ----------------------------------------------------------------------------------


class Report:
    def __init__(self):
        self.problems = []
        self.warnings = []

    def fail(self, message):
        self.problems.append(message)

    def warn(self, message):
        self.warnings.append(message)


def choose_keys(key_arguments, bundled_text, bundled_what, report):
    """The log keys to check with; says whether they are the bundled ones or only trusted from
    them. An export's key.txt lists every key of the log, current first (keys rotate)."""
    bundled = None
    if bundled_text is not None:
        try:
            bundled = [VerifierKey(line) for line in bundled_text.splitlines() if line.strip()]
            if not bundled:
                raise VerifyError("it holds no key")
        except VerifyError as exc:
            if not key_arguments:
                raise VerifyError(f"{bundled_what}: {exc}") from None
            report.warn(f"{bundled_what} is not a valid key ({exc}); it is ignored")
            bundled = None
    if key_arguments:
        keys = [key for argument in key_arguments for key in read_keys(argument)]
        given = {k.text for k in keys}
        known = {k.text for k in bundled or []}
        for key in keys:
            same = f"; the same as {bundled_what}" if key.text in known else ""
            print(f"key: {key.text} (given with --key{same})")
        extra = [k.text for k in bundled or [] if k.text not in given]
        if extra:
            what = "a different key" if len(extra) == 1 else "different keys"
            report.warn(f"{bundled_what} holds {what} ({', '.join(extra)}); ignored")
        return keys
    if bundled is None:
        raise VerifyError(
            f"no key: give the ledger's published verifier key with --key "
            f"({bundled_what} is missing)"
        )
    for key in bundled:
        print(f"key: {key.text} (from {bundled_what})")
    report.warn(
        f"the key was taken from {bundled_what}: this proves the ledger is consistent with that "
        "key, not that it is the ledger's. Compare it with the published verifier key, or pass "
        "that key with --key."
    )
    return bundled


def read_checkpoints(directory, keys, origin, report, notes=None):
    """{size: root} of the checkpoints whose signature and format verify (``notes`` collects
    their texts, cosignatures included)."""
    checkpoints, origins = {}, set()
    folder = directory / "checkpoints"
    if not folder.is_dir():
        report.fail(f"{folder} is missing: nothing in this export is signed")
        return checkpoints
    files = sorted(folder.iterdir(), key=lambda p: (not p.name.isdigit(), len(p.name), p.name))
    for path in files:
        if not re.fullmatch(r"0|[1-9][0-9]*", path.name):
            report.fail(f"checkpoint file {path.name}: the name is not a tree size")
            continue
        size = int(path.name)
        try:
            note = read_text(path, "checkpoint")
            text = open_note(note, keys)
            note_origin, note_size, root = parse_checkpoint(text)
        except VerifyError as exc:
            report.fail(f"checkpoint {size}: {exc}")
            continue
        if note_size != size:
            report.fail(f"checkpoint {size}: the file is named {size} but signs size {note_size}")
            continue
        if origin is not None and note_origin != origin:
            report.fail(f"checkpoint {size}: origin is {note_origin!r}, expected {origin!r}")
            continue
        origins.add(note_origin)
        checkpoints[size] = root
        if notes is not None:
            notes[size] = note
    if len(origins) > 1:
        report.fail(f"the checkpoints name different origins: {sorted(origins)}")
    elif origins:
        print(f"origin: {origins.pop()}")
    return checkpoints


def root_mismatch(size, last_good):
    """A signed root that the entries do not reproduce: the change lies after the last
    checkpoint that still matched, and no export can say more precisely where."""
    if last_good == size - 1:
        where, first_bad = f"the entry at index {last_good} was", f"{last_good}"
    else:
        where = f"an entry among indices {last_good}..{size - 1} was"
        first_bad = f"one of {last_good}..{size - 1}"
    since = f"checkpoint {last_good} still matches" if last_good else "no earlier checkpoint"
    return (
        f"checkpoint {size}: the signed root does not match the entries: {where} changed, "
        f"inserted or removed ({since}); first bad index: {first_bad}"
    )


def read_entries(directory, checkpoints, report):
    """Stream entries.jsonl into a Tree, checking each signed root when the tree reaches it.

    Returns (tree, verified checkpoint sizes, ok). Stops at the first bad entry or root.
    """
    tree, verified = Tree(), []
    path = directory / "entries.jsonl"
    try:
        handle = path.open("rb")
    except OSError as exc:
        report.fail(f"cannot read {path}: {exc.strerror}")
        return tree, verified, False
    if checkpoints.get(0, EMPTY_ROOT) != EMPTY_ROOT:
        report.fail("checkpoint 0: the signed root is not the empty tree's")
        return tree, verified, False
    with handle:
        for line_number, raw in enumerate(handle, start=1):
            if not raw.strip():
                continue
            index = tree.size
            where = f"index {index} (line {line_number})"
            try:
                line = json.loads(raw)
            except (ValueError, UnicodeDecodeError):
                report.fail(f"{where}: the line is not JSON")
                return tree, verified, False
            claimed = line.get("index") if isinstance(line, dict) else None
            if type(claimed) is not int or not isinstance(line.get("entry"), str):
                report.fail(f'{where}: expected {{"index": <number>, "entry": <base64>}}')
                return tree, verified, False
            if claimed != index:
                if claimed > index:
                    what = (
                        f"missing: the line holds index {claimed} (entries removed, or reordered)"
                    )
                else:
                    what = f"out of order: the line holds index {claimed} (duplicated or reordered)"
                report.fail(f"index {index}: {what}; first bad index: {index}")
                return tree, verified, False
            try:
                data = b64decode(line["entry"], "the entry")
                record = json.loads(data.decode("utf-8"))
            except VerifyError as exc:
                report.fail(f"{where}: {exc}; first bad index: {index}")
                return tree, verified, False
            except (ValueError, UnicodeDecodeError):
                report.fail(f"{where}: the entry is not JSON (changed); first bad index: {index}")
                return tree, verified, False
            recorded = record.get("index") if isinstance(record, dict) else None
            if recorded != index:
                report.fail(
                    f"{where}: the entry records index {recorded!r} (moved, inserted or "
                    f"reordered); first bad index: {index}"
                )
                return tree, verified, False
            tree.append(leaf_hash(data))
            if tree.size in checkpoints:
                if tree.root(tree.size) != checkpoints[tree.size]:
                    report.fail(root_mismatch(tree.size, verified[-1] if verified else 0))
                    return tree, verified, False
                verified.append(tree.size)
    return tree, verified, True


def check_witnessed(checkpoints, notes, tree, witnesses, quorum, trusted, keys, report):
    """With witnesses: the newest checkpoint needs the quorum; a trusted checkpoint (one a
    department kept) must be consistent with the log."""
    if witnesses:
        if not checkpoints:
            report.fail("no checkpoint to check the witnesses' cosignatures on")
        else:
            newest = max(checkpoints)
            try:
                signed = check_quorum(notes[newest], witnesses, quorum, f"checkpoint {newest}")
                print(f"witnessed: checkpoint {newest} cosigned by {', '.join(signed)}")
            except VerifyError as exc:
                report.fail(f"{exc}: the database's newest history is not vouched for")
    for path in trusted or []:
        try:
            note = read_text(Path(path), "trusted checkpoint")
            _origin, size, root = parse_checkpoint(open_note(note, keys))
        except VerifyError as exc:
            report.fail(f"trusted checkpoint {path}: {exc}")
            continue
        if size > tree.size:
            report.fail(
                f"trusted checkpoint {path} has size {size} but the log holds {tree.size} "
                f"entries: the log was cut back (first missing index: {tree.size})"
            )
        elif tree.root(size) != root:
            report.fail(
                f"trusted checkpoint {path} (size {size}) is not consistent with the log of "
                f"size {tree.size}: history up to {size} was rewritten"
            )
        else:
            print(f"trusted checkpoint {path}: size {size} is consistent with the log")


def verify_export(directory, key_arguments, origin, witnesses=(), quorum=None, trusted=()):
    directory = Path(directory)
    report = Report()
    if not directory.is_dir():
        raise VerifyError(f"{directory} is not a directory")
    key_file = directory / "key.txt"
    bundled = read_text(key_file, "key file") if key_file.is_file() else None
    keys = choose_keys(key_arguments, bundled, f"{key_file}", report)
    notes = {}
    checkpoints = read_checkpoints(directory, keys, origin, report, notes)
    tree, verified, complete = read_entries(directory, checkpoints, report)
    if complete:
        beyond = sorted(size for size in checkpoints if size > tree.size)
        if beyond:
            report.fail(
                f"checkpoint {beyond[0]}: signs {beyond[0]} entries but the export holds "
                f"{tree.size}; first bad index: {tree.size} (entries removed from the end)"
            )
        if tree.size and not verified:
            report.fail("no valid checkpoint covers any entry: nothing in this export is signed")
        elif tree.size > (verified[-1] if verified else 0):
            report.warn(
                f"entries {verified[-1]}..{tree.size - 1} are not covered by a signed checkpoint "
                "yet: only their format was checked"
            )
    for old, new in zip(verified, verified[1:], strict=False):
        proof = tree.consistency_proof(old, new)
        if not verify_consistency(old, new, proof, checkpoints[old], checkpoints[new]):
            report.fail(f"checkpoint {new}: not consistent with checkpoint {old}")
    if complete:
        needed = len(witnesses) if quorum is None else quorum
        check_witnessed(checkpoints, notes, tree, witnesses, needed, trusted, keys, report)
    if not witnesses:
        print(
            "note: no --witness given: this covers only what the export (the database) holds "
            "and the log key; whoever holds both could have rewritten it"
        )
    for warning in report.warnings:
        print(f"WARNING: {warning}", file=sys.stderr)
    if report.problems:
        for problem in report.problems:
            print(f"FAIL: {problem}", file=sys.stderr)
        return 1
    print(
        f"OK: {tree.size} entries, {len(checkpoints)} checkpoints "
        f"(sizes {', '.join(map(str, verified)) or 'none'}) verified; "
        f"root {base64.b64encode(tree.root(tree.size)).decode()}"
    )
    return 0


# --- receipt ---------------------------------------------------------------------------------


def verify_receipt(file, key_arguments, origin, witnesses=(), quorum=None):
    path = Path(file)
    try:
        receipt = json.loads(read_text(path, "receipt"))
    except ValueError:
        raise VerifyError(f"{path} is not JSON") from None
    if not isinstance(receipt, dict):
        raise VerifyError(f"{path} is not a receipt (not a JSON object)")
    if receipt.get("format") != RECEIPT_FORMAT:
        raise VerifyError(
            f"not a receipt: format is {receipt.get('format')!r}, expected {RECEIPT_FORMAT!r}"
        )
    index, tree_size = receipt.get("index"), receipt.get("tree_size")
    for name, value in [("index", index), ("tree_size", tree_size)]:
        if type(value) is not int or value < 0:
            raise VerifyError(f"the receipt's {name} is not a whole number")
    for name in ["entry", "checkpoint"]:
        if not isinstance(receipt.get(name), str):
            raise VerifyError(f"the receipt has no {name}")
    proof_texts = receipt.get("inclusion_proof")
    if not isinstance(proof_texts, list) or not all(isinstance(p, str) for p in proof_texts):
        raise VerifyError("the receipt's inclusion_proof is not a list of base64 hashes")

    report = Report()
    bundled = receipt.get("verifier_key") if isinstance(receipt.get("verifier_key"), str) else None
    keys = choose_keys(key_arguments, bundled, "the receipt's verifier_key", report)
    for warning in report.warnings:
        print(f"WARNING: {warning}", file=sys.stderr)

    try:
        text = open_note(receipt["checkpoint"], keys)
    except VerifyError as exc:
        raise VerifyError(f"checkpoint: {exc}") from None
    note_origin, size, root = parse_checkpoint(text)
    if origin is not None and note_origin != origin:
        raise VerifyError(f"checkpoint: origin is {note_origin!r}, expected {origin!r}")
    if witnesses:
        needed = len(witnesses) if quorum is None else quorum
        signed = check_quorum(receipt["checkpoint"], witnesses, needed, "the receipt's checkpoint")
        print(f"witnessed: cosigned by {', '.join(signed)}")
    print(f"checkpoint: {note_origin}, size {size}, root {base64.b64encode(root).decode()}")
    if tree_size != size:
        raise VerifyError(
            f"the receipt's tree_size {tree_size} is not the signed checkpoint's size {size}"
        )
    if not index < size:
        raise VerifyError(f"index {index} is not in a tree of {size} entries")

    entry = b64decode(receipt["entry"], "the entry")
    leaf = leaf_hash(entry)
    if "leaf_hash" in receipt and receipt["leaf_hash"] != base64.b64encode(leaf).decode():
        raise VerifyError(
            f"index {index}: leaf_hash is not SHA-256(0x00 || entry): the entry was changed"
        )
    proof = [b64decode(p, "an inclusion proof hash") for p in proof_texts]
    if any(len(p) != HASH_SIZE for p in proof):
        raise VerifyError("an inclusion proof hash is not 32 bytes")
    if not verify_inclusion(leaf, index, size, proof, root):
        raise VerifyError(
            f"index {index}: the inclusion proof does not lead to the signed root of size {size} "
            "(entry, index or proof changed)"
        )
    try:
        record = json.loads(entry.decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        raise VerifyError(f"index {index}: the entry is not JSON") from None
    if isinstance(record, dict) and "index" in record and record["index"] != index:
        raise VerifyError(f"the entry records index {record['index']!r}, the receipt says {index}")
    print(f"OK: entry {index} is included in the signed tree of size {size}.")
    print(json.dumps(record, indent=2, ensure_ascii=False, sort_keys=True))
    return 0


# --- command line ----------------------------------------------------------------------------


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="govshare_verify.py",
        description="Check a govshare ledger export or receipt offline "
        "(standard library and 'cryptography' only).",
        epilog="Exit status: 0 verified, 1 not verified, 2 usage error.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    key_help = (
        "the ledger's published verifier key, <name>+<hex id>+<base64>, or a file holding keys "
        "one per line; repeatable (after a key rotation give the retired keys too; "
        "GET /api/v1/ledger/keys/ lists them). Default: the keys bundled with the data, with a "
        "warning"
    )
    origin_help = "also require this checkpoint origin line"
    witness_help = (
        "a department witness's cosignature verifier key (or a file holding it); repeatable: "
        "then the witnesses are trusted, not the database"
    )
    quorum_help = "how many of the --witness keys must have cosigned (default: all)"
    export = commands.add_parser(
        "export",
        help="check a directory written by 'manage.py ledger_export DIR'",
        description="Recompute the Merkle tree from entries.jsonl; check every checkpoint's "
        "signature and root, and consistency between successive checkpoints.",
    )
    export.add_argument("directory", metavar="DIR")
    export.add_argument("--key", action="append", metavar="KEY", help=key_help)
    export.add_argument("--origin", help=origin_help)
    export.add_argument("--witness", action="append", metavar="VKEY", help=witness_help)
    export.add_argument("--quorum", type=int, metavar="K", help=quorum_help)
    export.add_argument(
        "--trusted-checkpoint",
        action="append",
        metavar="FILE",
        help="a checkpoint a department kept (a receipt's, or its witness's GET /state): it "
        "must be consistent with the log",
    )
    receipt = commands.add_parser(
        "receipt",
        help="check a receipt JSON file (govshare-ledger-receipt/1)",
        description="Check the checkpoint signature, the leaf hash and the inclusion proof, "
        "then print the entry.",
    )
    receipt.add_argument("file", metavar="FILE")
    receipt.add_argument("--key", action="append", metavar="KEY", help=key_help)
    receipt.add_argument("--origin", help=origin_help)
    receipt.add_argument("--witness", action="append", metavar="VKEY", help=witness_help)
    receipt.add_argument("--quorum", type=int, metavar="K", help=quorum_help)
    args = parser.parse_args(argv)
    try:
        witnesses = read_witnesses(args.witness)
        if args.quorum is not None and not 0 <= args.quorum <= len(witnesses):
            raise VerifyError(
                f"--quorum {args.quorum}: give 0 to {len(witnesses)} (--witness keys)"
            )
        if args.command == "export":
            return verify_export(
                args.directory,
                args.key,
                args.origin,
                witnesses,
                args.quorum,
                args.trusted_checkpoint,
            )
        return verify_receipt(args.file, args.key, args.origin, witnesses, args.quorum)
    except VerifyError as exc:
        print(f"FAIL: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
