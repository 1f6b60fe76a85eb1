"""Catalog read benchmark on PostgreSQL: `make bench`.

Fills a dedicated database (``govshare_bench`` unless ``BENCH_DATABASE_URL`` names another) with
a realistic catalog once, then times the catalog list page and the API list through Django's test
client, and shows whether full-text search uses the GIN index ``catalog_resource_search_fts``.

    DEBUG=true .venv/bin/python bench/catalog_bench.py [--resources N] [--repeat K]
"""

import argparse
import math
import os
import random
import re
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import urlencode

import benchdb  # bench/ is the script's directory, first on sys.path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/govshare_bench"
SEARCH_INDEX = "catalog_resource_search_fts"
WARMUP = 3
CHUNK = 5_000  # resources per COPY batch
SEED = 20_260_101

# --- Word lists for generated catalog entries ---

DEPARTMENTS = [
    ("TRANSPORT", "Transport Bureau"),
    ("HEALTH", "Health Commission"),
    ("EDUCATION", "Education Bureau"),
    ("FINANCE", "Finance Bureau"),
    ("TAXATION", "Taxation Bureau"),
    ("PUBLIC_SECURITY", "Public Security Bureau"),
    ("ENVIRONMENT", "Ecology and Environment Bureau"),
    ("HOUSING", "Housing and Urban-Rural Development Bureau"),
    ("AGRICULTURE", "Agriculture and Rural Affairs Bureau"),
    ("LABOUR", "Human Resources and Social Security Bureau"),
    ("JUSTICE", "Justice Bureau"),
    ("CUSTOMS", "Customs District"),
    ("STATISTICS", "Statistics Bureau"),
    ("CIVIL_AFFAIRS", "Civil Affairs Bureau"),
    ("WATER", "Water Resources Bureau"),
    ("ENERGY", "Development and Energy Commission"),
    ("CULTURE", "Culture and Tourism Bureau"),
    ("MARKET", "Market Regulation Administration"),
    ("PLANNING", "Natural Resources and Planning Bureau"),
    ("EMERGENCY", "Emergency Management Bureau"),
]
QUALIFIERS = [
    "Municipal", "Provincial", "District", "County", "City", "National", "Northern", "Southern",
    "Coastal", "Rural", "Urban", "Regional", "Metropolitan", "Township", "Harbour", "Eastern",
    "Western", "Central", "Suburban", "Border",
]  # fmt: skip
SUBJECTS = [
    "business licence", "building permit", "school enrolment", "hospital admission",
    "road traffic", "air quality", "water supply", "tax filing", "social insurance", "land use",
    "property registration", "vehicle registration", "public housing", "flood warning",
    "court case", "customs declaration", "pension payment", "vaccination", "birth registration",
    "marriage registration", "enterprise credit", "environmental inspection",
    "food safety inspection", "bus ridership", "parking", "energy consumption",
    "waste collection", "noise complaint", "fire incident", "crime report",
    "unemployment benefit", "minimum wage", "farm subsidy", "forest cover", "tourist arrival",
    "hotel occupancy", "broadband coverage", "postal address", "census tract", "heritage site",
]  # fmt: skip
KINDS = [
    "register", "records", "statistics", "directory", "inventory", "events", "measurements",
    "applications", "payments", "inspections", "catalogue", "ledger", "summary", "index", "roll",
]  # fmt: skip
LAWS = [
    "the Statistics Law", "the Public Health Act", "the Road Traffic Safety Law",
    "the Tax Administration Law", "the Environmental Protection Law", "the Social Insurance Law",
    "the Land Administration Law", "the Urban Planning Act", "the Civil Registration Regulations",
    "the Food Safety Law", "the Emergency Response Law", "the Water Law",
]  # fmt: skip
EXTRA_SENTENCES = [
    "Figures are reconciled with the annual report before release.",
    "Addresses are geocoded to the street level.",
    "Entries older than ten years are archived but remain available on request.",
    "Each record carries the unified social credit code of the enterprise concerned.",
    "Personal identifiers are pseudonymised before sharing.",
    "Coordinates use the national geodetic reference system.",
    "Amounts are in local currency, without inflation adjustment.",
    "Corrections are published as new versions; earlier versions are kept.",
    "The data set feeds the city operations dashboard.",
    "Field staff enter the data on mobile devices.",
    "Outliers are flagged, not removed.",
    "Counts below five are suppressed to protect privacy.",
]  # fmt: skip
# One of four scope sentences names households, so the common search word matches ~1/4 of rows.
SCOPES = [
    "It covers every household in the area.",
    "It covers registered enterprises and their branches.",
    "It covers public institutions and their facilities.",
    "It covers individuals of working age.",
]  # fmt: skip
COMMON_WORD = "household"
# A sentence added to one entry in ~2,000, so the rare search word matches a few dozen rows.
RARE_WORD = "lighthouse"
RARE_SENTENCE = "Includes the lighthouse keepers' logbook series."
RARE_RATE = 0.0005
CLASSIFICATIONS = ["", "public", "internal", "restricted", "open data", "statistical"]
FORMATS = ["CSV", "CSV", "CSV", "JSON", "XML", "XLSX", "Parquet"]
ITEMS = [
    ("record_id", "string", "Record identifier assigned by the source system"),
    ("applicant_name", "string", "Full name of the applicant"),
    ("id_number", "string", "National identity card number"),
    ("enterprise_name", "string", "Registered name of the enterprise"),
    ("credit_code", "string", "Unified social credit code"),
    ("address", "string", "Street address"),
    ("district_code", "string", "Administrative division code"),
    ("postcode", "string", "Postal code"),
    ("phone", "string", "Contact telephone number"),
    ("issue_date", "date", "Date the document was issued"),
    ("expiry_date", "date", "Date the document expires"),
    ("event_date", "date", "Date of the event"),
    ("birth_date", "date", "Date of birth"),
    ("amount", "decimal", "Amount in local currency"),
    ("tax_due", "decimal", "Tax assessed"),
    ("area_sqm", "decimal", "Floor or land area in square metres"),
    ("latitude", "decimal", "Latitude in decimal degrees"),
    ("longitude", "decimal", "Longitude in decimal degrees"),
    ("reading", "decimal", "Measured value"),
    ("headcount", "integer", "Number of persons"),
    ("vehicle_count", "integer", "Number of vehicles counted"),
    ("bed_count", "integer", "Number of beds"),
    ("year", "integer", "Reference year"),
    ("is_active", "boolean", "Whether the record is current"),
    ("is_compliant", "boolean", "Whether the inspection found the subject compliant"),
    ("status", "string", "Processing status"),
    ("category", "string", "Category code from the national classification"),
    ("inspector", "string", "Name of the responsible inspector"),
    ("station_code", "string", "Monitoring station code"),
    ("licence_number", "string", "Licence number"),
    ("plate_number", "string", "Vehicle plate number"),
    ("school_name", "string", "Name of the school"),
    ("diagnosis_code", "string", "ICD-10 diagnosis code"),
    ("case_number", "string", "Court or case file number"),
    ("remarks", "string", "Free-text remarks"),
]  # fmt: skip
# --lang zh-hans: the same catalog in Chinese (titles written without spaces, so a search word
# sits inside a title: what core.search's character pairs are for).
ZH = {
    "QUALIFIERS": ["市级", "省级", "区级", "县级", "全市", "全国", "北部", "南部", "沿海", "农村",
                   "城区", "区域", "都市圈", "乡镇", "港区", "东部", "西部", "中心城区", "郊区",
                   "边境"],
    "SUBJECTS": ["营业执照", "建筑许可", "入学登记", "住院", "道路交通", "空气质量", "供水",
                 "纳税申报", "社会保险", "土地利用", "不动产登记", "机动车登记", "公共住房",
                 "洪水预警", "法院案件", "海关报关", "养老金发放", "疫苗接种", "出生登记",
                 "婚姻登记", "企业信用", "环境检查", "食品安全检查", "公交客流", "停车",
                 "能源消耗", "垃圾收运", "噪声投诉", "火灾事故", "刑事报案", "失业保险金",
                 "最低工资", "农业补贴", "森林覆盖", "游客接待", "酒店入住", "宽带覆盖",
                 "邮政地址", "人口普查区", "文物保护单位"],
    "KINDS": ["登记信息", "记录", "统计数据", "名录", "清单", "事件", "监测数据", "申请信息",
              "支付信息", "检查记录", "目录", "台账", "汇总", "索引", "名册"],
    "LAWS": ["《中华人民共和国统计法》", "《中华人民共和国基本医疗卫生与健康促进法》",
             "《中华人民共和国道路交通安全法》", "《中华人民共和国税收征收管理法》",
             "《中华人民共和国环境保护法》", "《中华人民共和国社会保险法》",
             "《中华人民共和国土地管理法》", "《中华人民共和国城乡规划法》",
             "《婚姻登记条例》", "《中华人民共和国食品安全法》",
             "《中华人民共和国突发事件应对法》", "《中华人民共和国水法》"],
    "EXTRA_SENTENCES": ["数据发布前与年度报告核对一致。", "地址已编码到街道一级。",
                        "十年以上的记录已归档，可申请查阅。",
                        "每条记录载有企业的统一社会信用代码。",
                        "个人身份信息在共享前已去标识化。", "坐标采用国家大地坐标系。",
                        "金额以人民币计，未作通胀调整。", "更正以新版本发布，保留历史版本。",
                        "本数据集为城市运行管理平台提供数据。", "外业人员使用移动终端录入。",
                        "异常值予以标注，不予删除。", "少于五例的数据作隐私保护处理。"],
    "SCOPES": ["覆盖本地区全部住户。", "覆盖已登记企业及其分支机构。",
               "覆盖公共机构及其设施。", "覆盖劳动年龄人口。"],
    "DEPARTMENTS": list(zip(
        [code for code, _name in DEPARTMENTS],
        ["交通运输局", "卫生健康委员会", "教育局", "财政局", "税务局", "公安局", "生态环境局",
         "住房和城乡建设局", "农业农村局", "人力资源和社会保障局", "司法局", "海关", "统计局",
         "民政局", "水务局", "发展和改革委员会", "文化和旅游局", "市场监督管理局",
         "自然资源和规划局", "应急管理局"],
        strict=True,
    )),
    "COMMON_WORD": "住户",
    "RARE_WORD": "灯塔",
    "RARE_SENTENCE": "包含灯塔看守人工作日志。",
    "INSIDE_WORD": "接种",  # inside a title (…疫苗接种记录), about one entry in forty
}  # fmt: skip
INSIDE_WORD = "licence"
CHINESE = False
SENSITIVITY_WEIGHTS = {"public": 45, "internal": 35, "personal": 15, "sensitive": 5}
UPDATE_CYCLES = ["realtime", "daily", "weekly", "monthly", "quarterly", "yearly", "irregular"]
SHARING_WEIGHTS = {"unconditional": 45, "conditional": 40, "not_shareable": 15}
METHOD_RATES = {
    "allows_periodic_copy": 0.5,
    "allows_upload": 0.4,
    "allows_realtime": 0.3,
    "allows_result_only": 0.2,
}


def fail(message, code=1):
    print(f"catalog_bench: {message}", file=sys.stderr)
    sys.exit(code)


# --- Database and Django set-up ---


def ensure_database(url):
    benchdb.ensure_database(url, fail)


def setup_django(url):
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "govshare.settings")
    import django

    django.setup()


# --- Data generation ---


def ensure_people():
    """The office, the ordinary departments with one steward each, and a user with no roles."""
    from django.contrib.auth import get_user_model

    from departments import services as department_services
    from departments.models import Department, Membership

    user_model = get_user_model()

    def department(code, name, kind):
        found = Department.objects.filter(code=code).first()
        return found or department_services.department_create(code=code, name=name, kind=kind)

    def user(username):
        found, created = user_model.objects.get_or_create(username=username)
        if created:
            found.set_unusable_password()
            found.save(update_fields=["password"])
        return found

    office = department("OFFICE", "Data Management Office", Department.Kind.OFFICE)
    departments = []
    stewards = {}
    for code, name in DEPARTMENTS:
        dept = department(code, name, Department.Kind.ORDINARY)
        steward = user(f"steward_{code.lower()}")
        department_services.membership_grant(
            user=steward, department=dept, role=Membership.Role.STEWARD
        )
        departments.append(dept)
        stewards[dept.code] = steward
    reader = user("bench_no_roles")
    if reader.memberships.exists():
        fail("user bench_no_roles unexpectedly holds roles in the bench database")
    return office, departments, stewards, reader


def _weighted(rng, weights):
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _fake_resource(rng, index, owner, office, now):
    """One published entry and its items, as an unsaved Resource and a list of item dicts."""
    from catalog.models import Resource

    subject = rng.choice(SUBJECTS)
    kind = rng.choice(KINDS)
    space = "" if CHINESE else " "
    title = f"{rng.choice(QUALIFIERS)}{space}{subject}{space}{kind}"
    if rng.random() < 0.6:
        title += f"（{rng.randint(2008, 2025)}年）" if CHINESE else f" {rng.randint(2008, 2025)}"
    law = rng.choice(LAWS)
    cycle = rng.choice(UPDATE_CYCLES)
    sentences = [
        f"由{owner.name}保存的{subject}{kind}。" if CHINESE
        else f"{kind.capitalize()} of {subject} kept by the {owner.name}.",
        f"依据{law}采集。" if CHINESE else f"Collected under {law}.",
        rng.choice(SCOPES),
        *rng.sample(EXTRA_SENTENCES, rng.randint(0, 3)),
    ]  # fmt: skip
    if rng.random() < RARE_RATE:
        sentences.append(RARE_SENTENCE)
    sharing_type = _weighted(rng, SHARING_WEIGHTS)
    methods = {field: False for field in METHOD_RATES}
    if sharing_type != "not_shareable":
        methods = {field: rng.random() < rate for field, rate in METHOD_RATES.items()}
        if not any(methods.values()):
            methods[rng.choice(list(METHOD_RATES))] = True
    published = now - timedelta(days=rng.randint(0, 5 * 365), seconds=rng.randint(0, 86_399))
    resource = Resource(
        identifier=f"bench-{index:07d}",
        title=title,
        abstract=" ".join(sentences),
        classification=rng.choice(CLASSIFICATIONS),
        owner_department=owner,
        management_right_holder=office,
        format=rng.choice(FORMATS),
        sharing_type=sharing_type,
        sharing_conditions=(
            f"Only for the statutory duties of the requesting department; {law} applies."
            if sharing_type == "conditional"
            else ""
        ),
        not_shareable_reason=(
            "Contains personal data whose disclosure the law forbids."
            if sharing_type == "not_shareable"
            else ""
        ),
        not_shareable_law=law if sharing_type == "not_shareable" else "",
        collection_legal_basis=f"Article {rng.randint(1, 90)} of {law}",
        update_cycle=cycle,
        status=Resource.Status.PUBLISHED,
        version=rng.randint(1, 4),
        published_at=published,
        created_at=published - timedelta(days=rng.randint(1, 60)),
        updated_at=published,
        **methods,
    )
    items = []
    for name, type_, description in rng.sample(ITEMS, rng.randint(4, 6)):
        items.append(
            {
                "name": name,
                "type": type_,
                "description": description,
                "sensitivity": _weighted(rng, SENSITIVITY_WEIGHTS),
                "required": rng.random() < 0.4,
            }
        )
    return resource, items


def generate(count, start, office, departments):
    """Insert ``count`` published resources (identifiers from ``start``) with ~5 items each.

    Bench data only: rows go straight in with COPY, bypassing catalog.services.resource_create
    (no per-row permission checks, history rows or guardian object permissions), because 100,000
    service calls would take far too long. search_text is still built by the service's own helper,
    so search behaves exactly as on service-created entries.
    """
    from django.db import connection, transaction

    from catalog.models import DataItem, Resource
    from catalog.services import _search_text

    rng = random.Random(SEED + start)
    # Unequal department sizes, as in real life: weight 1/rank.
    weights = [1 / (rank + 1) for rank in range(len(departments))]
    now = datetime.now(UTC)
    # Every column, from unsaved instances: model defaults fill the columns the generator leaves
    # alone (such as DataItem.lookup_key), which PostgreSQL would otherwise find NULL.
    resource_fields = list(Resource._meta.concrete_fields)  # the id too: taken from the sequence
    item_fields = benchdb.copy_fields(DataItem)
    quote = connection.ops.quote_name
    resource_columns = ", ".join(quote(f.column) for f in resource_fields)
    item_columns = ", ".join(quote(f.column) for f in item_fields)
    copy_resources = f"COPY {Resource._meta.db_table} ({resource_columns}) FROM STDIN"
    copy_items = f"COPY {DataItem._meta.db_table} ({item_columns}) FROM STDIN"
    started = time.perf_counter()
    done = 0
    with transaction.atomic(), connection.cursor() as cursor:
        raw = cursor.cursor  # the psycopg cursor, for COPY
        while done < count:
            size = min(CHUNK, count - done)
            raw.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                [Resource._meta.db_table, size],
            )
            ids = [row[0] for row in raw.fetchall()]
            batch = []
            for offset, pk in enumerate(ids):
                owner = rng.choices(departments, weights=weights)[0]
                resource, items = _fake_resource(rng, start + done + offset, owner, office, now)
                resource.id = pk
                resource.search_text = _search_text(resource, items)
                batch.append((resource, items))
            with raw.copy(copy_resources) as copy:
                for resource, _items in batch:
                    copy.write_row([getattr(resource, f.attname) for f in resource_fields])
            with raw.copy(copy_items) as copy:
                for resource, items in batch:
                    for position, item in enumerate(items):
                        data_item = DataItem(resource_id=resource.id, position=position, **item)
                        copy.write_row([getattr(data_item, f.attname) for f in item_fields])
            done += size
            elapsed = time.perf_counter() - started
            print(f"  {done:,}/{count:,} resources inserted ({elapsed:.0f} s)", flush=True)
    print("  VACUUM ANALYZE ...", flush=True)
    with connection.cursor() as cursor:
        for model in (Resource, DataItem):
            cursor.execute(f"VACUUM (ANALYZE) {model._meta.db_table}")
    print(f"  generated in {time.perf_counter() - started:.0f} s", flush=True)


# --- Measurement ---

COUNT_IN_PAGE = re.compile(r"(\d+) resources? found")


def rows_matched(response):
    if response["Content-Type"].startswith("application/json"):
        return response.json()["count"]
    found = COUNT_IN_PAGE.search(response.content.decode())
    return int(found.group(1)) if found else None


def measure(client, url, repeat):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    timings = []
    response = None
    queries = 0
    for run in range(WARMUP + repeat):
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            response = client.get(url)
            elapsed = time.perf_counter() - started
        if response.status_code != 200:
            body = response.content[:500].decode(errors="replace")
            fail(f"GET {url} answered {response.status_code}, not 200:\n{body}")
        if run >= WARMUP:
            timings.append(elapsed * 1000)
            queries = len(captured.captured_queries)
    ordered = sorted(timings)
    p95 = ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]  # nearest rank
    return {
        "median": statistics.median(timings),
        "p95": p95,
        "queries": queries,
        "rows": rows_matched(response),
    }


def requests_to_time(total, department_code):
    from catalog.views import PAGE_SIZE

    web_deep = max(1, min(1000, math.ceil(total / PAGE_SIZE)))
    api_deep = max(1, min(500, math.ceil(total / 50)))
    rare = urlencode({"search": RARE_WORD, "sharing_type": "conditional"})
    return [
        "/catalog/",
        f"/catalog/?search={COMMON_WORD}",
        f"/catalog/?{rare}",
        f"/catalog/?search={INSIDE_WORD}",
        f"/catalog/?department={department_code}&method=realtime",
        f"/catalog/?page={web_deep}",
        "/api/v1/resources/",
        f"/api/v1/resources/?search={COMMON_WORD}",
        f"/api/v1/resources/?search={INSIDE_WORD}",
        f"/api/v1/resources/?page={api_deep}",
    ]


def run_requests(user, urls, repeat):
    from django.test import Client

    client = Client()
    client.force_login(user)
    results = {}
    for url in urls:
        results[url] = measure(client, url, repeat)
        r = results[url]
        print(f"  {url}: median {r['median']:.1f} ms, {r['queries']} queries", flush=True)
    return results


def print_table(title, urls, results):
    baseline = results[urls[0]]["median"]
    print(f"\n### {title}\n")
    print("| request | median ms | p95 ms | queries | rows matched | median vs /catalog/ |")
    print("|---|---:|---:|---:|---:|---:|")
    for url in urls:
        r = results[url]
        rows = "?" if r["rows"] is None else f"{r['rows']:,}"
        ratio = r["median"] / baseline if baseline else float("nan")
        print(
            f"| `{url}` | {r['median']:.1f} | {r['p95']:.1f} | {r['queries']} | {rows} "
            f"| {ratio:.2f}× |"
        )


# --- Search plan ---


def explain(label, queryset, full=False):
    """EXPLAIN ANALYZE the page query and the count query of a filtered catalog queryset."""
    from django.db import connection

    from catalog.models import Resource
    from catalog.views import PAGE_SIZE

    table = f" on {Resource._meta.db_table}"
    used = False
    page_sql, page_params = queryset[:PAGE_SIZE].query.sql_with_params()
    count_sql, count_params = queryset.order_by().values("pk").query.sql_with_params()
    statements = [
        ("page query", page_sql, page_params),
        # Django's own SQL with its parameters kept apart, wrapped the way QuerySet.count() does.
        ("count query", f"SELECT COUNT(*) FROM ({count_sql}) AS matched", count_params),  # noqa: S608
    ]
    print(f"\n{label}")
    for name, statement, params in statements:
        with connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS off) {statement}", params)
            plan = [row[0] for row in cursor.fetchall()]
        used = used or any(SEARCH_INDEX in line for line in plan)
        summary = [plan[0].strip()]
        summary += [line.strip() for line in plan[1:] if table in line or SEARCH_INDEX in line]
        summary += [line.strip() for line in plan if line.startswith("Execution Time")]
        print(f"  {name}:")
        for line in plan if full else dict.fromkeys(summary):
            print(f"    {line}")
    return used


def show_search_plans(user, full=False):
    from catalog import selectors
    from catalog.filters import ResourceFilter

    used = {}
    for label, data in (
        (
            f"search={RARE_WORD}&sharing_type=conditional",
            {"search": RARE_WORD, "sharing_type": "conditional"},
        ),
        (f"search={COMMON_WORD}", {"search": COMMON_WORD}),
    ):
        filterset = ResourceFilter(
            data,
            queryset=selectors.catalog_queryset(user),
            request=SimpleNamespace(user=user),
        )
        used[label] = explain(f"EXPLAIN (ANALYZE, BUFFERS off) for {label}:", filterset.qs, full)
    print()
    for label, flag in used.items():
        print(f"search index used ({label}): {'yes' if flag else 'no'}")
    return used


# --- Main ---


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--resources", type=int, default=100_000, help="catalog size (100000)")
    parser.add_argument("--repeat", type=int, default=30, help="timed requests per URL (30)")
    parser.add_argument("--plans", action="store_true", help="print the full EXPLAIN plans")
    parser.add_argument(
        "--lang",
        choices=["en", "zh-hans"],
        default="en",
        help="corpus language (zh-hans: Chinese titles and texts, in database govshare_bench_zh)",
    )
    args = parser.parse_args()
    if args.lang == "zh-hans":
        global CHINESE, DEFAULT_DATABASE_URL
        CHINESE = True
        globals().update(ZH)
        DEFAULT_DATABASE_URL = DEFAULT_DATABASE_URL + "_zh"
    if args.resources < 1 or args.repeat < 1:
        fail("--resources and --repeat must be positive", 2)

    if os.environ.get("DEBUG", "").strip().lower() not in {"1", "true", "yes", "on"}:
        # Without DEBUG the settings demand SECRET_KEY/ALLOWED_HOSTS and redirect to HTTPS.
        fail("run with DEBUG=true (as `make bench` does)", 2)
    began = time.perf_counter()
    url = os.environ.get("BENCH_DATABASE_URL") or DEFAULT_DATABASE_URL
    ensure_database(url)
    setup_django(url)

    from django.core.management import call_command
    from django.db import connection

    from catalog.models import DataItem, Resource

    if connection.vendor != "postgresql":
        fail(f"expected PostgreSQL, got {connection.vendor}", 2)
    call_command("migrate", interactive=False, verbosity=0)
    office, departments, stewards, reader = ensure_people()
    existing = Resource.objects.count()
    if existing < args.resources:
        missing = args.resources - existing
        print(f"generating {missing:,} resources (catalog holds {existing:,}) ...", flush=True)
        generate(missing, existing, office, departments)
    total = Resource.objects.count()
    item_total = DataItem.objects.count()

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        pg_version = cursor.fetchone()[0]
        cursor.execute("SHOW work_mem")
        work_mem = cursor.fetchone()[0]
        cursor.execute("SHOW shared_buffers")
        shared_buffers = cursor.fetchone()[0]

    # The steward of the largest department: their list query carries the "own drafts" branch.
    department = departments[0]
    steward = stewards[department.code]
    urls = requests_to_time(total, department.code)
    print(f"\ntiming as {steward.username} (steward of {department.code}) ...", flush=True)
    steward_results = run_requests(steward, urls, args.repeat)
    print(f"timing as {reader.username} (no roles) ...", flush=True)
    reader_results = run_requests(reader, urls, args.repeat)

    print("\n## Catalog read benchmark\n")
    print(
        f"- machine: {len(os.sched_getaffinity(0))} CPUs (nproc), PostgreSQL {pg_version} "
        f"(shared_buffers {shared_buffers}, work_mem {work_mem})"
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_size_pretty(pg_relation_size(%s)), pg_size_pretty(pg_relation_size(%s))",
            [SEARCH_INDEX, Resource._meta.db_table],
        )
        index_size, table_size = cursor.fetchone()
    print(
        f"- catalog: {total:,} resources, {item_total:,} data items, corpus {args.lang}; "
        f"search index {SEARCH_INDEX} {index_size} (table {table_size})"
    )
    print(
        f"- {WARMUP} warm-up + {args.repeat} timed requests each, Django test client, "
        "server time = perf_counter around client.get, queries = last request"
    )
    print_table(f"steward ({steward.username}) — reported figures", urls, steward_results)
    print_table(f"user with no roles ({reader.username}) — for comparison", urls, reader_results)
    print()
    show_search_plans(steward, full=args.plans)
    print(f"\ntotal run time: {time.perf_counter() - began:.0f} s")


if __name__ == "__main__":
    main()
