"""A published resource's ODRL offers, as the Dataspace Protocol 2025-1 carries them.

One offer per allowed sharing method, ``<dataset uri>/offer/<method>``, assigned by the owning
department (its participant id). What the offer permits follows the sharing type:

- unconditional: ``use``, constrained to the method;
- conditional: ``use``, constrained to the method, to a purpose the management-right holder
  approved (``odrl:purpose``) and to a structured legal basis of the controlled list; with the
  duty to obtain the consent of the management-right holder (``odrl:obtainConsent``, the holder
  as ``odrl:consentingParty``): the request workflow is how that consent is given;
- not shareable: no offer at all (and so no DSP dataset: DSP requires one offer at least).

The offers sit inside a dataset, so they name no ``target`` (the DSP schema forbids it there).
Keys are compacted with the DSP context; terms that context does not define are written as
``odrl:`` compact IRIs, govshare's own as full IRIs under ``/ns/odrl#`` (``govshare_term``).

The operands below are govshare's ODRL vocabulary in one place: the grant's ODRL agreement
(standards.odrl) uses the same ones, so an offer and the agreement that fulfils it compare.
"""

from typing import Any

from access_requests.models import LegalBasisKind
from catalog.models import Resource, SharingType
from standards.vocab import dataset_uri, participant_id, site_uri

# govshare's ODRL terms: /ns/odrl#<name> under the portal's address.
GOVSHARE_ODRL_PATH = "/ns/odrl#"
METHOD = "method"  # left operand: the sharing method (right operand: catalog.models.Method)
LEGAL_BASIS = "legalBasis"  # left operand: the kind of legal basis (LegalBasisKind)
APPROVED_PURPOSE = "ApprovedPurpose"  # the class of purposes the management-right holder approved
# ODRL's own terms the DSP context leaves undefined, as compact IRIs with its "odrl" prefix.
ODRL_PURPOSE = "odrl:purpose"
ODRL_OBTAIN_CONSENT = "odrl:obtainConsent"
ODRL_CONSENTING_PARTY = "odrl:consentingParty"

Offer = dict[str, Any]


def govshare_term(name: str) -> str:
    """The full IRI of one of govshare's ODRL terms (``METHOD``, ``LEGAL_BASIS``, ...)."""
    return site_uri(GOVSHARE_ODRL_PATH + name)


def offer_id(resource: Resource, method: str) -> str:
    return f"{dataset_uri(resource.identifier)}/offer/{method}"


def method_constraint(method: str) -> dict[str, Any]:
    return {"leftOperand": govshare_term(METHOD), "operator": "eq", "rightOperand": method}


def _conditional_permission(resource: Resource, method: str) -> dict[str, Any]:
    holder = resource.management_right_holder
    return {
        "action": "use",
        "constraint": [
            method_constraint(method),
            {
                "leftOperand": ODRL_PURPOSE,
                "operator": "isA",
                "rightOperand": {"@id": govshare_term(APPROVED_PURPOSE)},
            },
            {
                "leftOperand": govshare_term(LEGAL_BASIS),
                "operator": "isAnyOf",
                "rightOperand": list(LegalBasisKind.values),
            },
        ],
        "duty": [
            {
                "action": ODRL_OBTAIN_CONSENT,
                ODRL_CONSENTING_PARTY: {"@id": participant_id(holder.code)},
            }
        ],
    }


def resource_offers(resource: Resource) -> list[Offer]:
    """The resource's offers, one per allowed method (none when it is not shareable).

    Reads ``owner_department`` and ``management_right_holder``: select them with the resource.
    """
    if resource.sharing_type == SharingType.NOT_SHAREABLE:
        return []
    assigner = participant_id(resource.owner_department.code)
    offers = []
    for method in resource.methods:
        if resource.sharing_type == SharingType.CONDITIONAL:
            permission = _conditional_permission(resource, method)
        else:
            permission = {"action": "use", "constraint": [method_constraint(method)]}
        offers.append(
            {
                "@id": offer_id(resource, method),
                "@type": "Offer",
                "assigner": assigner,
                "permission": [permission],
            }
        )
    return offers
