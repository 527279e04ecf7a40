"""The change log and the feed ward systems sync with: ``feed`` reads it for a caller,
``cursors`` says whose units a feed covers and where its reader is, ``sources`` and
``readers`` how each record type reads, ``pruning`` keeps the log bounded."""
