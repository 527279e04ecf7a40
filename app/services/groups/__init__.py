"""Self-managed groups, their members and exemplary-model designations.

``records``: the declarations (columns, visibility, filters, writes) of the
domain's tables; ``policies``: who sees and manages what; ``registry``: the
groups; ``coverage``: the residential groups they cover; ``members`` and
``member_rules``: their members; ``exemplary``: the designations;
``counts``: the statistics' aggregates."""
