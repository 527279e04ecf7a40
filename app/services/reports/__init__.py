"""Community reports: filing (signed in or anonymous), the records and who sees them,
triage, history and tracking, statistics, the categories, and Open311 over them.

``records`` declares the REPORTS repository; ``filing``, ``triage``, ``history``,
``statistics``, ``categories``, ``open311`` and ``open311_reads`` do what they say."""
