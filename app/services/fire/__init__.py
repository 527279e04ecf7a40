"""Fire safety: inter-family fire teams, their equipment, drills and yearly competitions.

``records`` declares the tables (what each reads, who sees it, how it is written and
what it derives, ``derived``); ``policies`` says who does what. ``teams``,
``equipment``, ``drills``, ``competitions`` and ``entries`` are the services the routers
call; ``readiness``, ``ranking`` and ``counts`` are the reports and counts over them."""
