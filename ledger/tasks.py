from celery import shared_task

from ledger.services import ledger_checkpoint_sign


@shared_task
def sign_checkpoint() -> int:
    checkpoint = ledger_checkpoint_sign()
    return checkpoint.tree_size if checkpoint else 0
