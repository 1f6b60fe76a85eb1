"""What the outside reads, in the standards' own words (issue #14).

- ``dcat``: the catalog as DCAT-AP 3.0.1 (rdflib; Turtle and JSON-LD, paged with hydra).
- ``dsp``, ``offers``: the Dataspace Protocol 2025-1 catalog, datasets with ODRL offers.
- ``odrl``: a grant as an ODRL 2.2 agreement, and the evaluator that decides a data call from it.
- ``agreements``: the data-sharing agreement of each grant (DSGA 2019 s.19), its page, PDF and
  the two departments' signatures.

It sits above rights (it reads grants and resources) and below sharing, whose delivery manifests
carry each grant's ODRL agreement. ``vocab`` holds the URIs every one of them shares, so a
department, a dataset or a grant has one identifier whichever standard names it.
"""
