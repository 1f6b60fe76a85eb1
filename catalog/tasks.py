from celery import shared_task

from catalog import release_uploads


# Acknowledged on receipt, not late: the job's row, not the message, is the work to do, and a job
# that is no longer queued is never run twice (release_upload_run claims it).
@shared_task(acks_late=False)
def release_upload_run(job_id: int) -> str:
    return release_uploads.release_upload_run(job_id).state


@shared_task
def sweep_release_uploads() -> int:
    return release_uploads.release_uploads_sweep()
