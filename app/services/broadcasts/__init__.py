"""Broadcasts: officers send legal knowledge and warnings to units; residents read the live
ones sent to where they live, and acknowledge them.

``records`` declares what each caller sees (the one place the domain's scoping is
written) and reads; ``sending`` creates, changes and withdraws broadcasts;
``acknowledgements`` holds the residents' acknowledgements and a broadcast's reach."""
