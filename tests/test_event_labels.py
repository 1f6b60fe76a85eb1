"""Every ledger event type and every timeline step has a label in words (#15.6).

The codes are collected from the source, not from a list kept by hand: every ``ledger_append``
and ``Workflow.record`` call with its ``event=`` argument (a literal, an f-string over a
workflow's actions, or a parameter whose callers pass literals), and every workflow's
transition table and ``step()`` calls. A new event type without a label fails here.
"""

import ast
import importlib
from pathlib import Path

import pytest

from access_requests.selectors import STEP_LABELS as REQUEST_STEP_LABELS
from governance.views.disputes import STEP_LABELS as DISPUTE_STEP_LABELS
from governance.views.quality import STEP_LABELS as QUALITY_STEP_LABELS
from ledger.events import EVENT_LABELS, event_label
from rights.views import HISTORY_LABELS as GRANT_STEP_LABELS
from workflow.engine import Workflow

ROOT = Path(__file__).resolve().parent.parent
SKIP = {"tests", "bench", "tools", "docs", "scripts", "locale", "static", "templates", "var"}


def _sources() -> list[Path]:
    return sorted(
        path
        for path in ROOT.glob("*/**/*.py")
        if path.relative_to(ROOT).parts[0] not in SKIP
        and not path.relative_to(ROOT).parts[0].startswith(".")
        and "migrations" not in path.parts
    )


def _module_name(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts)


def _step_actions(tree: ast.Module, workflow: str) -> set[str]:
    """Literal actions of ``WORKFLOW.step(obj, "action", ...)`` calls in a module."""
    return {
        node.args[1].value
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "step"
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id == workflow
        and len(node.args) > 1
        and isinstance(node.args[1], ast.Constant)
    }


def _callers_literals(tree: ast.Module, function: ast.FunctionDef, parameter: str) -> set[str]:
    """The literals that calls of ``function`` in the same module pass as ``parameter``."""
    names = [a.arg for a in function.args.posonlyargs + function.args.args]
    position = names.index(parameter) if parameter in names else None
    found: set[str] = set()
    for node in ast.walk(tree):
        if not (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == function.name
        ):
            continue
        value = next((k.value for k in node.keywords if k.arg == parameter), None)
        if value is None and position is not None and position < len(node.args):
            value = node.args[position]
        candidates = [value.body, value.orelse] if isinstance(value, ast.IfExp) else [value]
        for candidate in candidates:
            assert isinstance(candidate, ast.Constant), (
                f"{function.name}() is called with a {parameter} that is not a literal"
            )
            found.add(candidate.value)
    assert found, f"no call of {function.name}() passes {parameter}"
    return found


def _event_codes_in(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    parents = {child: parent for parent in ast.walk(tree) for child in ast.iter_child_nodes(parent)}
    codes: set[str] = set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        event = next((k.value for k in node.keywords if k.arg == "event"), None)
        if name not in {"ledger_append", "record"} or event is None:
            continue
        where = f"{path.relative_to(ROOT)}:{node.lineno}"
        events = [event.body, event.orelse] if isinstance(event, ast.IfExp) else [event]
        for value in events:
            if isinstance(value, ast.Constant):
                codes.add(value.value)
            elif isinstance(value, ast.JoinedStr):
                # f"prefix.{step.action}" on a workflow: every action it can take
                prefix = value.values[0]
                assert isinstance(prefix, ast.Constant) and len(value.values) == 2, where
                assert isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name), where
                workflow = getattr(importlib.import_module(_module_name(path)), func.value.id)
                assert isinstance(workflow, Workflow), where
                actions = set(workflow.transitions) | _step_actions(tree, func.value.id)
                codes |= {f"{prefix.value}{action}" for action in actions}
            elif isinstance(value, ast.Name):
                scope = node
                while not isinstance(scope, ast.FunctionDef):
                    scope = parents[scope]
                if scope.name in {"ledger_append", "record"}:
                    continue  # the engine passing on its callers' event: collected there
                codes |= _callers_literals(tree, scope, value.id)
            else:
                pytest.fail(f"{where}: an event type the test cannot read; use a literal")
    return codes


def collected_event_codes() -> set[str]:
    codes: set[str] = set()
    for path in _sources():
        codes |= _event_codes_in(path)
    return codes


def test_the_collector_finds_the_known_kinds_of_event():
    codes = collected_event_codes()
    for code in (
        "request.submit",
        "request.approve",
        "grant.suspend",
        "agreement.generated",
        "agreement.signed",
        "release.accepted",
        "delivery.succeeded",
        "delivery.purged",
        "resource.published",
        "resource.stale",
        "attestation.open",
        "dispute.raise",
        "quality_report.file",
        "demand.join",
    ):
        assert code in codes


def test_every_ledger_event_type_has_a_label():
    missing = sorted(collected_event_codes() - EVENT_LABELS.keys())
    assert missing == []


def test_no_label_for_an_event_type_that_does_not_exist():
    assert sorted(EVENT_LABELS.keys() - collected_event_codes()) == []


def test_labels_are_words_not_codes():
    for code, label in EVENT_LABELS.items():
        assert str(label) != code
        assert "." not in str(label) and "_" not in str(label)


def test_event_label_of_an_unknown_code_is_the_code():
    assert event_label("request.submit") == "Request submitted"
    assert event_label("nothing.like.this") == "nothing.like.this"


@pytest.mark.parametrize(
    ("module", "workflow", "labels"),
    [
        ("access_requests.services", "REQUESTS", REQUEST_STEP_LABELS),
        ("rights.services", "GRANTS", GRANT_STEP_LABELS),
        ("governance.services.disputes", "DISPUTES", DISPUTE_STEP_LABELS),
        ("governance.services.quality", "QUALITY_REPORTS", QUALITY_STEP_LABELS),
        # the demand list's timeline shares the quality reports' words (governance.views.demands)
        ("governance.services.demands", "DEMANDS", QUALITY_STEP_LABELS),
    ],
)
def test_every_timeline_step_has_a_label(module, workflow, labels):
    machine = getattr(importlib.import_module(module), workflow)
    tree = ast.parse(Path(importlib.import_module(module).__file__).read_text(encoding="utf-8"))
    actions = set(machine.transitions) | _step_actions(tree, workflow)
    assert sorted(actions - labels.keys()) == []
