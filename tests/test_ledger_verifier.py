"""The standalone verifier, tools/govshare_verify.py, against a ledger built by the real services.

The verifier runs in a subprocess of a clean virtual environment holding only ``cryptography``
(and its dependencies), in isolated mode, so it cannot lean on Django or on the project: what an
outside auditor would run. The venv is made once per session from wheels of the versions already
installed here, without pip's own bootstrap, to keep the cost to a few seconds.
"""

import ast
import base64
import importlib.metadata
import importlib.util
import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.core.management import call_command

from access_requests import services as rs
from ledger import keys, merkle, signing
from ledger.models import LedgerCheckpoint, LedgerEntry
from ledger.services import ledger_checkpoint_sign, receipt, tree_size

IN_CI = os.environ.get("CI", "").lower() == "true"
ROOT = Path(__file__).resolve().parent.parent
TOOL = ROOT / "tools" / "govshare_verify.py"


# --- the clean environment -------------------------------------------------------------------


def _pip(*args, timeout=240):
    return subprocess.run(
        [sys.executable, "-m", "pip", "--disable-pip-version-check", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@pytest.fixture(scope="session")
def clean_python(tmp_path_factory):
    """A venv with nothing but cryptography, cffi and pycparser; returns its python."""
    base = tmp_path_factory.mktemp("verifier-venv")
    venv, wheels = base / "venv", base / "wheels"
    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120
    )
    python = venv / "bin" / "python"
    pins = [
        f"{name}=={importlib.metadata.version(name)}"
        for name in ("cryptography", "cffi", "pycparser")
    ]
    # Wheels of exactly the versions installed here (from pip's configured sources), then an
    # install that reads nothing but them. If that fails, install from the index.
    built = _pip("wheel", "--no-deps", "--quiet", "-w", str(wheels), *pins)
    if built.returncode == 0:
        installed = _pip(
            "--python", str(python), "install", "--quiet", "--no-index",
            "--find-links", str(wheels), pins[0],
        )  # fmt: skip
    else:
        installed = _pip("--python", str(python), "install", "--quiet", "cryptography")
    if installed.returncode != 0:
        reason = f"cannot install cryptography into a clean venv:\n{built.stderr}{installed.stderr}"
        if IN_CI:
            pytest.fail(f"{reason} (CI=true: a missing tool is a failure, not a skip)")
        pytest.skip(reason)
    probe = subprocess.run(
        [str(python), "-I", "-c", "import cryptography, importlib.util as u; "
         "print(u.find_spec('django') is None and u.find_spec('audit') is None)"],
        capture_output=True, text=True, check=True, timeout=60,
    )  # fmt: skip
    assert probe.stdout.strip() == "True", "the verifier's venv must not see Django or govshare"
    return python


@pytest.fixture
def verify(clean_python, tmp_path):
    """Run the standalone verifier; returns (exit code, stdout + stderr)."""

    def run(*args):
        done = subprocess.run(
            [str(clean_python), "-I", str(TOOL), *map(str, args)],
            capture_output=True,
            text=True,
            timeout=120,
            cwd=tmp_path,
            check=False,
        )
        return done.returncode, done.stdout + done.stderr

    return run


# --- a ledger built through the real services ------------------------------------------------


@pytest.fixture(scope="session")
def _plus_key_file(tmp_path_factory):
    """A signing key whose secret and public base64 both contain "+", the separator of the key
    strings: parsers must split on the first separators only."""
    for _ in range(1000):
        signer = signing.generate_signer("govshare.test/ledger")
        secret, public = signing.signer_to_string(signer), signer.verifier_key()
        if "+" in secret.split("+", 4)[4] and "+" in public.split("+", 2)[2]:
            break
    else:  # pragma: no cover - (3/4)**1000
        pytest.fail("no key with '+' in its base64 after 1000 tries")
    path = tmp_path_factory.mktemp("plus-key") / "signing.key"
    path.write_text(secret + "\n", encoding="utf-8")
    return path


@pytest.fixture
def ledger(db, settings, _plus_key_file, request_draft, requester, steward, reviewer, tmp_path):
    """Catalog and release entries, then submit, endorse and approve, with a checkpoint signed
    after each step (the last one by receipt()). Exported to tmp_path / "export"."""
    settings.LEDGER_SIGNING_KEY_FILE = str(_plus_key_file)
    first = ledger_checkpoint_sign()  # covers the catalog and release entries
    request = rs.request_submit(actor=requester, request=request_draft)
    ledger_checkpoint_sign()
    request = rs.request_endorse(actor=steward, request=request, reason="Lawful.")
    ledger_checkpoint_sign()
    rs.request_approve(actor=reviewer, request=request, reason="Necessary.")
    approve = LedgerEntry.objects.get(entry_type="request.approve")
    size = tree_size()
    assert approve.index == size - 1
    assert not LedgerCheckpoint.objects.filter(tree_size=size).exists()
    proof_of_approval = receipt(approve)  # signs the checkpoint that covers it
    assert proof_of_approval["tree_size"] == size
    export = tmp_path / "export"
    call_command("ledger_export", str(export), stdout=io.StringIO())
    sizes = sorted(LedgerCheckpoint.objects.values_list("tree_size", flat=True))
    assert len(sizes) == 4 and sizes[0] == first.tree_size >= 2 and sizes[-1] == size
    receipt_file = tmp_path / "receipt.json"
    receipt_file.write_text(json.dumps(proof_of_approval, indent=2), encoding="utf-8")
    submit = LedgerEntry.objects.get(entry_type="request.submit")
    return {
        "export": export,
        "size": size,
        "sizes": sizes,
        "submit": submit.index,
        "approve": approve.index,
        "receipt": receipt_file,
        "key": keys.verifier_key(),
    }


def _copy(ledger, tmp_path, name):
    target = tmp_path / name
    shutil.copytree(ledger["export"], target)
    return target


def _lines(directory):
    return (directory / "entries.jsonl").read_text(encoding="utf-8").splitlines(keepends=True)


def _write_lines(directory, lines):
    (directory / "entries.jsonl").write_text("".join(lines), encoding="utf-8")


def _entry(line):
    return base64.b64decode(json.loads(line)["entry"])


def _line(index, data):
    return json.dumps({"index": index, "entry": base64.b64encode(data).decode()}) + "\n"


# --- the export ------------------------------------------------------------------------------


def test_export_verifies(ledger, verify, tmp_path):
    code, out = verify("export", ledger["export"])
    assert code == 0, out
    assert f"OK: {ledger['size']} entries, 4 checkpoints" in out
    assert "WARNING: the key was taken from" in out  # no --key: compare with the published one
    assert "origin: govshare.test/ledger" in out

    code, out = verify(
        "export", ledger["export"], "--key", ledger["key"], "--origin", "govshare.test/ledger"
    )
    assert code == 0, out
    assert "the same as" in out and "WARNING" not in out
    key_file = tmp_path / "published.key"
    key_file.write_text(ledger["key"] + "\n", encoding="utf-8")
    code, out = verify("export", ledger["export"], "--key", key_file)
    assert code == 0, out

    code, out = verify("export", ledger["export"], "--origin", "elsewhere.example/log")
    assert code == 1 and "origin is 'govshare.test/ledger'" in out


def test_export_entry_byte_changed(ledger, verify, tmp_path):
    broken = _copy(ledger, tmp_path, "byte")
    lines = _lines(broken)
    index = ledger["submit"]
    data = _entry(lines[index])
    assert b'"request.submit"' in data
    lines[index] = _line(index, data.replace(b'"request.submit"', b'"request.submiT"'))
    _write_lines(broken, lines)
    code, out = verify("export", broken)
    assert code == 1, out
    # One checkpoint was signed just before the submit entry and one just after it.
    assert f"checkpoint {index + 1}: the signed root does not match" in out
    assert f"first bad index: {index}" in out


def test_export_entry_changed_in_a_wider_range(ledger, verify, tmp_path):
    broken = _copy(ledger, tmp_path, "range")
    lines = _lines(broken)
    first = ledger["sizes"][0]
    data = _entry(lines[0])
    lines[0] = _line(0, data.replace(b'"time":"', b'"time":"1', 1))
    _write_lines(broken, lines)
    code, out = verify("export", broken)
    assert code == 1, out
    assert f"checkpoint {first}: the signed root does not match" in out
    assert f"first bad index: one of 0..{first - 1}" in out


def test_export_line_deleted(ledger, verify, tmp_path):
    broken = _copy(ledger, tmp_path, "deleted")
    lines = _lines(broken)
    index = ledger["submit"]
    del lines[index]
    _write_lines(broken, lines)
    code, out = verify("export", broken)
    assert code == 1, out
    assert f"index {index}: missing" in out and f"first bad index: {index}" in out


def test_export_lines_swapped(ledger, verify, tmp_path):
    broken = _copy(ledger, tmp_path, "swapped")
    lines = _lines(broken)
    index = ledger["submit"]
    lines[index], lines[index + 1] = lines[index + 1], lines[index]
    _write_lines(broken, lines)
    code, out = verify("export", broken)
    assert code == 1, out
    assert f"first bad index: {index}" in out

    # Swapped again, with the outer indices rewritten to look gapless: the entries' own
    # indices give it away.
    lines = _lines(ledger["export"])
    lines[index], lines[index + 1] = (
        _line(index, _entry(lines[index + 1])),
        _line(index + 1, _entry(lines[index])),
    )
    _write_lines(broken, lines)
    code, out = verify("export", broken)
    assert code == 1, out
    assert f"index {index} (line {index + 1}): the entry records index {index + 1}" in out


def test_export_last_entry_removed(ledger, verify, tmp_path):
    broken = _copy(ledger, tmp_path, "truncated")
    _write_lines(broken, _lines(broken)[:-1])
    code, out = verify("export", broken)
    assert code == 1, out
    size = ledger["size"]
    assert f"checkpoint {size}: signs {size} entries but the export holds {size - 1}" in out
    assert f"first bad index: {size - 1}" in out


def test_export_checkpoint_signature_replaced(ledger, verify, tmp_path):
    broken = _copy(ledger, tmp_path, "signature")
    first, second = ledger["sizes"][1], ledger["sizes"][2]
    notes = {
        s: (broken / "checkpoints" / str(s)).read_text(encoding="utf-8") for s in (first, second)
    }
    body, _, _signature = notes[first].rpartition("\n\n")
    other_signature = notes[second].rpartition("\n\n")[2]
    (broken / "checkpoints" / str(first)).write_text(
        f"{body}\n\n{other_signature}", encoding="utf-8"
    )
    code, out = verify("export", broken)
    assert code == 1, out
    assert f"checkpoint {first}: the signature by govshare.test/ledger does not verify" in out


def test_export_checkpoint_signed_by_another_key(ledger, verify, tmp_path):
    """A forged checkpoint for a rewritten history, signed by a key with the same name."""
    broken = _copy(ledger, tmp_path, "forged")
    last = ledger["size"]
    forger = signing.Signer("govshare.test/ledger", Ed25519PrivateKey.generate())
    forged = forger.sign(signing.checkpoint_text("govshare.test/ledger", last, b"\x07" * 32))
    (broken / "checkpoints" / str(last)).write_text(forged, encoding="utf-8")
    code, out = verify("export", broken, "--key", ledger["key"])
    assert code == 1, out
    assert f"checkpoint {last}: no signature by the key govshare.test/ledger+" in out

    # The forger's export, key.txt included, checked against the published key: refused.
    (broken / "key.txt").write_text(forger.verifier_key() + "\n", encoding="utf-8")
    code, out = verify("export", broken, "--key", ledger["key"])
    assert code == 1, out
    assert "holds a different key" in out


def test_export_checked_with_the_wrong_key(ledger, verify):
    other = signing.generate_signer("govshare.test/ledger").verifier_key()
    code, out = verify("export", ledger["export"], "--key", other)
    assert code == 1, out
    for size in ledger["sizes"]:
        assert f"checkpoint {size}: no signature by the key" in out


# --- the receipt -----------------------------------------------------------------------------


def test_receipt_verifies(ledger, verify, tmp_path):
    code, out = verify("receipt", ledger["receipt"])
    assert code == 0, out
    assert (
        f"OK: entry {ledger['approve']} is included in the signed tree of size {ledger['size']}"
        in out
    )
    assert '"type": "request.approve"' in out
    assert "WARNING: the key was taken from the receipt's verifier_key" in out

    code, out = verify("receipt", ledger["receipt"], "--key", ledger["key"])
    assert code == 0, out
    assert "the same as the receipt's verifier_key" in out and "WARNING" not in out

    other = signing.generate_signer("govshare.test/ledger").verifier_key()
    code, out = verify("receipt", ledger["receipt"], "--key", other)
    assert code == 1, out
    assert "FAIL: checkpoint: no signature by the key" in out


def _tampered(ledger, tmp_path, change):
    data = json.loads(ledger["receipt"].read_text(encoding="utf-8"))
    change(data)
    path = tmp_path / "tampered.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def _flip_entry_byte(data):
    entry = bytearray(base64.b64decode(data["entry"]))
    position = entry.index(b"request.approve") + len("request.")
    entry[position] ^= 0x20  # approve -> Approve
    data["entry"] = base64.b64encode(bytes(entry)).decode()
    return bytes(entry)


def _flip_entry_and_leaf(data):
    entry = _flip_entry_byte(data)
    data["leaf_hash"] = base64.b64encode(merkle.leaf_hash(entry)).decode()


def _flip_proof(data):
    element = bytearray(base64.b64decode(data["inclusion_proof"][0]))
    element[0] ^= 1
    data["inclusion_proof"][0] = base64.b64encode(bytes(element)).decode()


def _grow_tree_size(data):
    data["tree_size"] += 1


def _shift_index(data):
    data["index"] -= 1


def _drop_leaf_hash_and_flip_entry(data):
    _flip_entry_byte(data)
    del data["leaf_hash"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (_flip_entry_byte, "leaf_hash is not SHA-256(0x00 || entry): the entry was changed"),
        (_flip_entry_and_leaf, "the inclusion proof does not lead to the signed root"),
        (_drop_leaf_hash_and_flip_entry, "the inclusion proof does not lead to the signed root"),
        (_flip_proof, "the inclusion proof does not lead to the signed root"),
        (_grow_tree_size, "is not the signed checkpoint's size"),
        (_shift_index, "the inclusion proof does not lead to the signed root"),
    ],
)
def test_receipt_tampered(ledger, verify, tmp_path, change, message):
    assert ledger["approve"] > 0
    code, out = verify("receipt", _tampered(ledger, tmp_path, change), "--key", ledger["key"])
    assert code == 1, out
    assert message in out


def test_receipt_errors_are_reported_not_raised(ledger, verify, tmp_path):
    garbage = tmp_path / "garbage.json"
    garbage.write_text("{not json", encoding="utf-8")
    code, out = verify("receipt", garbage)
    assert code == 1 and "is not JSON" in out and "Traceback" not in out
    code, out = verify("receipt", tmp_path / "absent.json")
    assert code == 1 and "cannot read receipt" in out and "Traceback" not in out
    code, out = verify("receipt", ledger["receipt"], "--key", "no-such-file")
    assert code == 1 and "no such file, and not a verifier key" in out
    code, out = verify("--help")
    assert code == 0 and "export" in out and "receipt" in out


# --- the tool itself, in-process (no database) ----------------------------------------------


def test_tool_imports_only_the_standard_library_and_cryptography():
    tree = ast.parse(TOOL.read_text(encoding="utf-8"))
    modules = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0
            modules.add(node.module.split(".")[0])
    assert modules - set(sys.stdlib_module_names) == {"cryptography"}


def _load_tool():
    spec = importlib.util.spec_from_file_location("govshare_verify_under_test", TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_tool_merkle_agrees_with_audit_merkle():
    tool = _load_tool()
    store, tree = {}, tool.Tree()
    leaves = [merkle.leaf_hash(str(i).encode()) for i in range(40)]
    for index, leaf in enumerate(leaves):
        for level, position, digest in merkle.new_nodes(index, leaf, lambda lv, p: store[(lv, p)]):
            store[(level, position)] = digest
        tree.append(leaf)
    node = lambda level, position: store[(level, position)]  # noqa: E731
    assert tree.root(0) == merkle.EMPTY_ROOT
    for size in range(1, 41):
        root = merkle.root(node, size)
        assert tree.root(size) == root
        for index in range(size):
            proof = merkle.inclusion_proof(node, index, size)
            assert tool.verify_inclusion(leaves[index], index, size, proof, root)
            assert not tool.verify_inclusion(leaves[index], index - size, size, proof, root)
        for first in range(1, size + 1):
            proof = merkle.consistency_proof(node, first, size)
            assert tree.consistency_proof(first, size) == proof
            first_root = merkle.root(node, first)
            assert tool.verify_consistency(first, size, proof, first_root, root)
            assert not tool.verify_consistency(first - size - 4, size, proof, first_root, root)
            if proof:
                assert not tool.verify_consistency(first, size, proof[:-1], first_root, root)
