"""Safe-zone certification: a neighbourhood's application assessed against the year's
criteria set, reviewed, decided and, when need be, revoked.

``policies`` says who sees and does what; ``registry`` holds the certifications
as records (create, read, change, delete); ``workflow`` their steps (submit,
review, decide, revoke) and certificate numbers; ``criteria`` the criteria sets
and the pass rule; ``counts`` the figures for statistics."""
