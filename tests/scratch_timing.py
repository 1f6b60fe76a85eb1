import time, datetime
import pytest
from catalog import services as catalog_services
from rights.deliveries import delivery_build, deliveries_dispatch
from tests.conftest import csv_upload
from tests.test_sharing import make_grant

def big_csv(n):
    lines = ["resident_id,birth_date,dose_number,fee,adverse_event"]
    base = datetime.date(1950, 1, 1)
    for i in range(n):
        lines.append(f"R{i:07d},{base + datetime.timedelta(days=i % 20000)},{i % 4 + 1},{i % 100}.{i % 100:02d},{'true' if i % 7 == 0 else 'false'}")
    return "\n".join(lines) + "\n"

@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("n", [300_000])
def test_timing(released, steward, requester, reviewer, departments, n):
    t = time.monotonic(); text = big_csv(n); print("gen", time.monotonic() - t, len(text))
    t = time.monotonic()
    catalog_services.release_ingest(actor=steward, resource=released, upload=csv_upload(text))
    print("ingest", time.monotonic() - t)
    grant = make_grant(released, requester, steward, reviewer, departments, "periodic_copy")
    (d,) = deliveries_dispatch()
    t = time.monotonic(); d = delivery_build(d.pk); print("build", time.monotonic() - t, d.status, d.row_count, d.size_bytes)
