"""Tool usage: the catalogue, the evidence collectors and the matching that the tooling analyzer runs."""
