"""The change log and the feed ward systems sync with: ``feed`` reads it for a caller,
``sources`` says how each record type reads, ``pruning`` keeps it bounded."""
