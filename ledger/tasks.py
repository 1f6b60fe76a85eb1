from celery import shared_task

from ledger.services import ledger_checkpoint_sign
from ledger.witnesses import witness_checkpoints as ask_witnesses


@shared_task
def sign_checkpoint() -> int:
    checkpoint = ledger_checkpoint_sign()
    if checkpoint is not None:
        witness_checkpoints.delay()
    return checkpoint.tree_size if checkpoint else 0


@shared_task
def witness_checkpoints() -> int:
    """Send the latest checkpoint to the witnesses that are due; how many cosigned it."""
    return sum(answer.outcome == "cosigned" for answer in ask_witnesses())
