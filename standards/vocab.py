"""The identifiers and namespaces every standard of this app shares.

A department, a dataset, a grant or an agreement has one URI, whether DCAT, the Dataspace
Protocol or ODRL names it; each is under ``SITE_URL`` and never changes with a title or a
translation (a department's code and a resource's identifier are immutable).
"""

from django.conf import settings

ODRL = "http://www.w3.org/ns/odrl/2/"
DCAT = "http://www.w3.org/ns/dcat#"
DCT = "http://purl.org/dc/terms/"
DCATAP = "http://data.europa.eu/r5r/"
FOAF = "http://xmlns.com/foaf/0.1/"
VCARD = "http://www.w3.org/2006/vcard/ns#"
SPDX = "http://spdx.org/rdf/terms#"
HYDRA = "http://www.w3.org/ns/hydra/core#"
DSPACE = "https://w3id.org/dspace/2025/1/"
DSP_CONTEXT = "https://w3id.org/dspace/2025/1/context.jsonld"
ODRL_CONTEXT = "http://www.w3.org/ns/odrl.jsonld"
# The EU Publications Office's authority tables (DCAT-AP's controlled vocabularies).
EU_FREQUENCY = "http://publications.europa.eu/resource/authority/frequency/"
EU_ACCESS_RIGHT = "http://publications.europa.eu/resource/authority/access-right/"
EU_FILE_TYPE = "http://publications.europa.eu/resource/authority/file-type/"
EU_LANGUAGE = "http://publications.europa.eu/resource/authority/language/"


def site_uri(path: str) -> str:
    """``path`` (starting with "/") under the portal's public address."""
    return settings.SITE_URL.rstrip("/") + path


def department_uri(code: str) -> str:
    """A department as an agent (DCAT publisher, DSP participant, ODRL party)."""
    return site_uri(f"/id/departments/{code}")


def participant_id(code: str) -> str:
    """A department's Dataspace Protocol participant id: its agent URI."""
    return department_uri(code)


def dataset_uri(identifier: str) -> str:
    """A published resource as a dcat:Dataset."""
    return site_uri(f"/id/datasets/{identifier}")


def grant_policy_uri(grant_id: int) -> str:
    """A grant's ODRL agreement (its uid)."""
    return site_uri(f"/id/grants/{grant_id}/policy")


def agreement_uri(grant_id: int) -> str:
    """A grant's data-sharing agreement."""
    return site_uri(f"/id/grants/{grant_id}/agreement")
