"""The catalog as DCAT-AP 3.0.1: one ``dcat:Catalog`` page of published resources, with rdflib.

Only published entries are exported (drafts are not the catalog yet; retired entries left it —
the HTML catalog keeps them for people who held a grant, a harvester simply stops seeing them).
Nothing here links to data: a distribution's ``dcat:accessURL`` is the resource's page on the
portal, where a department asks for a grant; there is no ``dcat:downloadURL``.

Every vocabulary term the export names is typed in the graph too (``…/frequency/DAILY a
dct:Frequency`` …), because the official shapes check each object's class (``ranges.ttl``) and a
harvester that validates the pages it receives has nothing else to read the types from.

A page costs a fixed number of queries whatever its size: one aggregate (count, last change), the
page of resources with their owning departments, their data items, their releases and the office.
"""

import math
import re
from dataclasses import dataclass
from datetime import datetime
from email.utils import parseaddr
from typing import TypeVar
from urllib.parse import quote

from django.conf import settings
from django.db.models import Count, Max, Prefetch, QuerySet
from django.urls import reverse
from django.utils import translation
from django.utils.text import slugify
from django.utils.translation import gettext, gettext_noop
from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import FOAF, RDF, SKOS, XSD
from rdflib.term import Node

from catalog.models import DataItem, Release, Resource, SharingType
from core.search import has_cjk
from departments.models import Department
from standards import vocab

DCAT = Namespace(vocab.DCAT)
DCT = Namespace(vocab.DCT)
DCATAP = Namespace(vocab.DCATAP)
VCARD = Namespace(vocab.VCARD)
SPDX = Namespace(vocab.SPDX)
HYDRA = Namespace(vocab.HYDRA)
ELI = Namespace("http://data.europa.eu/eli/ontology#")
FREQUENCY = Namespace(vocab.EU_FREQUENCY)
ACCESS_RIGHT = Namespace(vocab.EU_ACCESS_RIGHT)
FILE_TYPE = Namespace(vocab.EU_FILE_TYPE)
LANGUAGE = Namespace(vocab.EU_LANGUAGE)
IANA_CSV = URIRef("http://www.iana.org/assignments/media-types/text/csv")

_Term = TypeVar("_Term", URIRef, BNode)

# The prefixes of the Turtle and the terms of the JSON-LD @context.
PREFIXES = {
    "dcat": DCAT,
    "dct": DCT,
    "dcatap": DCATAP,
    "foaf": FOAF,
    "vcard": VCARD,
    "spdx": SPDX,
    "hydra": HYDRA,
    "skos": SKOS,
    "eli": ELI,
    "xsd": XSD,
}

FREQUENCIES: dict[str, URIRef] = {
    Resource.UpdateCycle.REALTIME: FREQUENCY.UPDATE_CONT,
    Resource.UpdateCycle.DAILY: FREQUENCY.DAILY,
    Resource.UpdateCycle.WEEKLY: FREQUENCY.WEEKLY,
    Resource.UpdateCycle.MONTHLY: FREQUENCY.MONTHLY,
    Resource.UpdateCycle.QUARTERLY: FREQUENCY.QUARTERLY,
    Resource.UpdateCycle.YEARLY: FREQUENCY.ANNUAL,
    Resource.UpdateCycle.IRREGULAR: FREQUENCY.IRREG,
}
# Catalog languages: English and Chinese (the portal's two).
CATALOG_LANGUAGES = (LANGUAGE.ENG, LANGUAGE.ZHO)
_URL = re.compile(r"https?://[^\s<>\"'()\[\]]+[^\s<>\"'()\[\].,;:]")


# --- URIs this module adds to standards.vocab (the catalog's own, its themes, distributions) ---


def catalog_uri() -> str:
    return vocab.site_uri("/id/catalog")


def theme_scheme_uri() -> str:
    return vocab.site_uri("/id/themes")


def theme_uri(classification: str) -> str | None:
    """A classification as a concept of the portal's theme scheme (None if it has no words)."""
    slug = slugify(classification, allow_unicode=True)
    return f"{theme_scheme_uri()}/{quote(slug)}" if slug else None


def distribution_uri(identifier: str, sequence: int) -> str:
    return f"{vocab.dataset_uri(identifier)}/releases/{sequence}"


def schema_path(identifier: str) -> str:
    return reverse("standards_dcat:dataset_schema", args=[identifier])


class _Paths:
    """A resource's page and schema URIs, from one ``reverse`` each per catalog page (a reverse
    per dataset is a third of a page's time)."""

    MARK = "0000-IDENTIFIER-0000"

    def __init__(self) -> None:
        self.page = vocab.site_uri(reverse("catalog:resource_detail", args=[999999999]))
        self.schema = vocab.site_uri(schema_path(self.MARK))

    def page_uri(self, resource: Resource) -> URIRef:
        return URIRef(self.page.replace("999999999", str(resource.pk)))

    def schema_uri(self, resource: Resource) -> URIRef:
        return URIRef(self.schema.replace(self.MARK, quote(resource.identifier)))


def contact_email() -> str:
    """The stewards' shared address. Departments hold no address of their own yet, so this is the
    portal's notification sender (DEFAULT_FROM_EMAIL), which the office reads."""
    return parseaddr(settings.DEFAULT_FROM_EMAIL)[1]


# --- What the export says about a resource ---


def access_right(resource: Resource, items: list[DataItem]) -> URIRef:
    """EU access right from the sharing type: unconditional is PUBLIC only when every data item
    (at least one) is public; otherwise RESTRICTED; not shareable is NON_PUBLIC."""
    if resource.sharing_type == SharingType.NOT_SHAREABLE:
        return ACCESS_RIGHT.NON_PUBLIC
    if resource.sharing_type == SharingType.UNCONDITIONAL and (
        items and all(item.sensitivity == DataItem.Sensitivity.PUBLIC for item in items)
    ):
        return ACCESS_RIGHT.PUBLIC
    return ACCESS_RIGHT.RESTRICTED


def legislation_uris(text: str) -> list[str]:
    """The URLs (an ELI or any http(s) address) cited in a legal basis; none are invented."""
    return list(dict.fromkeys(_URL.findall(text or "")))


def tagged(text: str) -> Literal:
    """``text`` tagged with the language it is written in (Chinese if it holds Chinese)."""
    return Literal(text, lang="zh" if has_cjk(text) else "en")


# --- The page ---


@dataclass(frozen=True)
class CatalogPage:
    number: int
    count: int  # how many datasets the whole catalog holds
    size: int

    @property
    def last(self) -> int:
        return max(1, math.ceil(self.count / self.size))


class PageNotFound(Exception):
    """The page asked for is not a page of the catalog (message: what the visitor should do)."""


def published_resources() -> QuerySet[Resource]:
    return Resource.objects.filter(status=Resource.Status.PUBLISHED)


def catalog_page(raw: str | None, size: int) -> tuple[CatalogPage, datetime | None]:
    """The page ``raw`` (``?page=``; missing means 1) and the catalog's last change, or
    PageNotFound with a sentence that names the valid pages."""
    totals = published_resources().aggregate(count=Count("id"), modified=Max("updated_at"))
    count = totals["count"]
    last = max(1, math.ceil(count / size))
    text = (raw or "1").strip()
    number = int(text) if text.isdigit() and len(text) < 10 else 0
    if not 1 <= number <= last:
        raise PageNotFound(
            gettext("The catalog has no page “%(page)s”: its pages are numbered 1 to %(last)d.")
            % {"page": text[:20], "last": last}
        )
    return CatalogPage(number=number, count=count, size=size), totals["modified"]


def page_resources(page: CatalogPage) -> QuerySet[Resource]:
    """The page's resources, in identifier order (stable while the catalog grows), with every
    join a dataset needs."""
    start = (page.number - 1) * page.size
    return (
        published_resources()
        .select_related("owner_department")
        .defer("search_text", "sharing_conditions", "not_shareable_reason")
        .prefetch_related(
            Prefetch(
                "data_items",
                queryset=DataItem.objects.only(
                    "id", "resource_id", "name", "type", "description", "sensitivity", "position"
                ),
            ),
            Prefetch(
                "releases",
                queryset=Release.objects.only(
                    "id", "resource_id", "sequence", "size_bytes", "sha256", "created_at"
                ).order_by("sequence"),
            ),
        )
        .order_by("identifier")[start : start + page.size]
    )


class _Builder:
    def __init__(self) -> None:
        # SimpleMemory: one graph, no contexts, about twice as fast to fill as the default store.
        self.graph = Graph(store="SimpleMemory", bind_namespaces="none")
        self.paths = _Paths()
        self.contacts: set[str] = set()
        for prefix, namespace in PREFIXES.items():
            self.graph.bind(prefix, namespace)
        self.agents: set[str] = set()
        self.themes: dict[str, str] = {}

    def add(self, subject: Node, predicate: Node, obj: Node) -> None:
        self.graph.add((subject, predicate, obj))

    def typed(self, uri: _Term, cls: URIRef) -> _Term:
        self.add(uri, RDF.type, cls)
        return uri

    def agent(self, department: Department) -> URIRef:
        uri = URIRef(vocab.department_uri(department.code))
        if department.code not in self.agents:
            self.agents.add(department.code)
            self.typed(uri, FOAF.Agent)
            self.add(uri, FOAF.name, tagged(department.name))
        return uri

    def contact(self, department: Department) -> URIRef:
        uri = URIRef(vocab.department_uri(department.code) + "#contact")
        if department.code not in self.contacts:
            self.contacts.add(department.code)
            self.typed(uri, VCARD.Organization)
            self.typed(uri, VCARD.Kind)
            self.add(uri, VCARD.fn, tagged(department.name))
            self.add(uri, VCARD.hasEmail, URIRef(f"mailto:{contact_email()}"))
        return uri

    def theme(self, classification: str) -> URIRef | None:
        uri = theme_uri(classification)
        if uri is None:
            return None
        if uri not in self.themes:
            self.themes[uri] = classification
            concept = self.typed(URIRef(uri), SKOS.Concept)
            self.add(concept, SKOS.prefLabel, tagged(classification))
            self.add(concept, SKOS.inScheme, URIRef(theme_scheme_uri()))
        return URIRef(uri)

    def vocabulary(self) -> None:
        """The controlled terms, typed for the shapes' class checks."""
        for term in FREQUENCIES.values():
            self.typed(term, DCT.Frequency)
        for term in (ACCESS_RIGHT.PUBLIC, ACCESS_RIGHT.RESTRICTED, ACCESS_RIGHT.NON_PUBLIC):
            self.typed(term, DCT.RightsStatement)
        for term in CATALOG_LANGUAGES:
            self.typed(term, DCT.LinguisticSystem)
        self.typed(FILE_TYPE.CSV, DCT.MediaTypeOrExtent)
        self.typed(IANA_CSV, DCT.MediaType)
        self.typed(SPDX.checksumAlgorithm_sha256, SPDX.ChecksumAlgorithm)

    def dataset(self, resource: Resource) -> URIRef:
        uri = URIRef(vocab.dataset_uri(resource.identifier))
        items = list(resource.data_items.all())
        page = self.paths.page_uri(resource)
        self.typed(uri, DCAT.Dataset)
        self.add(uri, DCT["identifier"], Literal(resource.identifier))
        self.add(uri, DCT["title"], tagged(resource.title))
        self.add(uri, DCT["description"], tagged(resource.abstract))
        self.add(uri, DCT.publisher, self.agent(resource.owner_department))
        self.add(uri, DCAT.contactPoint, self.contact(resource.owner_department))
        theme = self.theme(resource.classification)
        if theme is not None:
            self.add(uri, DCAT.theme, theme)
            self.add(uri, DCAT.keyword, tagged(resource.classification))
        for item in items:
            self.add(uri, DCAT.keyword, Literal(item.name))
        self.add(uri, DCT.accrualPeriodicity, FREQUENCIES[resource.update_cycle])
        self.add(uri, DCT.accessRights, access_right(resource, items))
        for law in legislation_uris(resource.collection_legal_basis):
            self.add(uri, DCATAP.applicableLegislation, self.typed(URIRef(law), ELI.LegalResource))
        self.add(uri, DCAT.version, Literal(str(resource.version)))
        if resource.published_at is not None:
            self.add(uri, DCT.issued, Literal(resource.published_at, datatype=XSD.dateTime))
        self.add(uri, DCT.modified, Literal(resource.updated_at, datatype=XSD.dateTime))
        self.add(uri, DCAT.landingPage, self.typed(page, FOAF.Document))
        schema = self.typed(self.paths.schema_uri(resource), DCT.Standard)
        self.add(uri, DCT.conformsTo, schema)
        self.add(
            schema, DCT["title"], Literal(f"{resource.identifier} table schema (CSV-W)", lang="en")
        )
        for release in resource.releases.all():
            self.add(uri, DCAT.distribution, self.distribution(resource, release, page))
        return uri

    def distribution(self, resource: Resource, release: Release, page: URIRef) -> URIRef:
        uri = self.typed(
            URIRef(distribution_uri(resource.identifier, release.sequence)), DCAT.Distribution
        )
        self.add(uri, DCT["title"], Literal(f"{resource.identifier} release {release.sequence}"))
        self.add(uri, DCT["format"], FILE_TYPE.CSV)
        self.add(uri, DCAT.mediaType, IANA_CSV)
        self.add(uri, DCAT.byteSize, Literal(release.size_bytes, datatype=XSD.nonNegativeInteger))
        checksum = BNode()
        self.add(uri, SPDX.checksum, self.typed(checksum, SPDX.Checksum))
        self.add(checksum, SPDX.algorithm, SPDX.checksumAlgorithm_sha256)
        self.add(checksum, SPDX.checksumValue, Literal(release.sha256, datatype=XSD.hexBinary))
        self.add(uri, DCT.issued, Literal(release.created_at, datatype=XSD.dateTime))
        self.add(uri, DCAT.accessURL, page)
        return uri


def _both_languages(message: str) -> list[Literal]:
    """``message`` in English and, once translated, in Chinese."""
    with translation.override("en"):
        english = gettext(message)
    with translation.override("zh-hans"):
        chinese = gettext(message)
    texts = [Literal(english, lang="en")]
    if chinese != english:
        texts.append(Literal(chinese, lang="zh"))
    return texts


CATALOG_TITLE = gettext_noop("govshare data catalog")
CATALOG_DESCRIPTION = gettext_noop(
    "The data resources that government departments publish for sharing with each other, "
    "under the three-rights model: what each holds, who owns it and on what terms it is shared."
)
THEMES_TITLE = gettext_noop("govshare resource classifications")


def catalog_graph(page: CatalogPage, modified: datetime | None, page_url: str) -> Graph:
    """The DCAT-AP graph of one catalog page; ``page_url(n)`` is ``page_url % n``."""
    builder = _Builder()
    add = builder.add
    catalog = builder.typed(URIRef(catalog_uri()), DCAT.Catalog)
    for text in _both_languages(CATALOG_TITLE):
        add(catalog, DCT["title"], text)
    for text in _both_languages(CATALOG_DESCRIPTION):
        add(catalog, DCT["description"], text)
    office = Department.objects.filter(kind=Department.Kind.OFFICE, is_active=True).first()
    if office is not None:
        add(catalog, DCT.publisher, builder.agent(office))
    homepage = URIRef(vocab.site_uri(reverse("catalog:resource_list")))
    add(catalog, FOAF.homepage, builder.typed(homepage, FOAF.Document))
    for language in CATALOG_LANGUAGES:
        add(catalog, DCT.language, language)
    if modified is not None:
        add(catalog, DCT.modified, Literal(modified, datatype=XSD.dateTime))
    scheme = builder.typed(URIRef(theme_scheme_uri()), SKOS.ConceptScheme)
    for text in _both_languages(THEMES_TITLE):
        add(scheme, DCT["title"], text)
    add(catalog, DCAT.themeTaxonomy, scheme)
    builder.vocabulary()
    for resource in page_resources(page):
        add(catalog, DCAT.dataset, builder.dataset(resource))
    _paging(builder, catalog, page, page_url)
    return builder.graph


def _paging(builder: _Builder, catalog: URIRef, page: CatalogPage, page_url: str) -> None:
    """hydra paging (DCAT-AP's guidance), and the older PagedCollection terms ckanext-dcat's
    harvester follows."""
    add = builder.add
    view = URIRef(page_url % page.number)
    builder.typed(catalog, HYDRA.Collection)
    add(catalog, HYDRA.totalItems, Literal(page.count, datatype=XSD.nonNegativeInteger))
    add(catalog, HYDRA.view, builder.typed(view, HYDRA.PartialCollectionView))
    builder.typed(view, HYDRA.PagedCollection)
    links = {"first": 1, "last": page.last}
    if page.number > 1:
        links["previous"] = page.number - 1
    if page.number < page.last:
        links["next"] = page.number + 1
    for name, number in links.items():
        add(view, HYDRA[name], URIRef(page_url % number))
        add(view, HYDRA[f"{name}Page"], Literal(page_url % number))
    add(view, HYDRA.totalItems, Literal(page.count, datatype=XSD.nonNegativeInteger))
    add(view, HYDRA.itemsPerPage, Literal(page.size, datatype=XSD.nonNegativeInteger))


# --- Serializations ---


def jsonld_context() -> dict[str, str]:
    return {prefix: str(namespace) for prefix, namespace in PREFIXES.items()}


def to_turtle(graph: Graph) -> bytes:
    return graph.serialize(format="turtle", encoding="utf-8")


def to_jsonld(graph: Graph) -> bytes:
    return graph.serialize(
        format="json-ld", context=jsonld_context(), auto_compact=True, encoding="utf-8"
    )


# --- The data items as a CSV-W table schema ---

CSVW_DATATYPES: dict[str, str] = {
    DataItem.Type.STRING: "string",
    DataItem.Type.INTEGER: "integer",
    DataItem.Type.DECIMAL: "decimal",
    DataItem.Type.DATE: "date",
    DataItem.Type.BOOLEAN: "boolean",
}


def published_resource(identifier: str) -> Resource | None:
    return (
        published_resources().prefetch_related("data_items").filter(identifier=identifier).first()
    )


def table_schema(resource: Resource) -> dict:
    """The resource's data items as a W3C CSV-W table schema (metadata, never data)."""
    columns = []
    for item in resource.data_items.all():
        column: dict = {
            "name": item.name,
            "titles": item.name,
            "datatype": CSVW_DATATYPES[item.type],
            "required": item.required,
        }
        if item.description:
            column["dc:description"] = item.description
        columns.append(column)
    return {
        "@context": "http://www.w3.org/ns/csvw",
        "@id": vocab.site_uri(schema_path(resource.identifier)),
        "dc:title": f"{resource.identifier} table schema",
        "dc:source": vocab.dataset_uri(resource.identifier),
        "columns": columns,
    }
