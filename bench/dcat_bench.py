"""DCAT-AP export benchmark on PostgreSQL: `make bench`.

Uses the catalog benchmark's database and generator (``govshare_bench``, 100,000 published
resources unless told otherwise), then times the whole export a harvester walks: every page of
``/catalog.ttl`` and of ``/catalog.jsonld`` through Django's test client, with the query count
of a page.

    DEBUG=true .venv/bin/python bench/dcat_bench.py [--resources N] [--page-size K]
"""

import argparse
import os
import statistics
import time

import catalog_bench  # bench/ is the script's directory, first on sys.path


def walk(client, path, pages):
    """Seconds per page and bytes of every page of ``path``; the queries of the last page."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    timings, size, queries = [], 0, 0
    for number in range(1, pages + 1):
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            response = client.get(path, {"page": number})
            timings.append(time.perf_counter() - started)
        if response.status_code != 200:
            catalog_bench.fail(f"{path}?page={number} answered {response.status_code}")
        size += len(response.content)
        queries = len(captured.captured_queries)
        if number % 10 == 0 or number == pages:
            print(f"  {number}/{pages} pages, {sum(timings):.0f} s", flush=True)
    return timings, size, queries


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--resources", type=int, default=100_000, help="catalog size (100000)")
    parser.add_argument("--page-size", type=int, default=1000, help="DCAT_PAGE_SIZE (1000)")
    args = parser.parse_args()
    if args.resources < 1 or args.page_size < 1:
        catalog_bench.fail("--resources and --page-size must be positive", 2)
    if os.environ.get("DEBUG", "").strip().lower() not in {"1", "true", "yes", "on"}:
        catalog_bench.fail("run with DEBUG=true (as `make bench` does)", 2)
    began = time.perf_counter()
    url = os.environ.get("BENCH_DATABASE_URL") or catalog_bench.DEFAULT_DATABASE_URL
    catalog_bench.ensure_database(url)
    catalog_bench.setup_django(url)

    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    from catalog.models import DataItem, Resource

    if connection.vendor != "postgresql":
        catalog_bench.fail(f"expected PostgreSQL, got {connection.vendor}", 2)
    call_command("migrate", interactive=False, verbosity=0)
    office, departments, _stewards, _reader = catalog_bench.ensure_people()
    existing = Resource.objects.count()
    if existing < args.resources:
        missing = args.resources - existing
        print(f"generating {missing:,} resources (catalog holds {existing:,}) ...", flush=True)
        catalog_bench.generate(missing, existing, office, departments)
    published = Resource.objects.filter(status=Resource.Status.PUBLISHED).count()
    items = DataItem.objects.count()
    settings.DCAT_PAGE_SIZE = args.page_size
    settings.ALLOWED_HOSTS = ["*"]
    pages = max(1, -(-published // args.page_size))
    client = Client()  # anonymous: the export is public
    client.get("/catalog.ttl")  # warm-up

    results = {}
    for path in ("/catalog.ttl", "/catalog.jsonld"):
        print(f"walking {pages} pages of {path} ...", flush=True)
        results[path] = walk(client, path, pages)

    print("\n## DCAT-AP export benchmark\n")
    print(f"- machine: {len(os.sched_getaffinity(0))} CPUs (nproc)")
    print(
        f"- catalog: {published:,} published resources, {items:,} data items; "
        f"{pages} pages of {args.page_size:,} datasets; anonymous client, Django test client"
    )
    print("\n| export | whole catalog s | median page ms | p95 page ms | MB | queries/page |")
    print("|---|---:|---:|---:|---:|---:|")
    for path, (timings, size, queries) in results.items():
        ordered = sorted(timings)
        p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]
        print(
            f"| `{path}` | {sum(timings):.1f} | {statistics.median(timings) * 1000:.0f} | "
            f"{p95 * 1000:.0f} | {size / 1e6:.1f} | {queries} |"
        )
    print(f"\ntotal run time: {time.perf_counter() - began:.0f} s")


if __name__ == "__main__":
    main()
