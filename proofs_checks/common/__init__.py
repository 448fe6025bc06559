"""Pieces several claim checks share: the loss-versus-win-rate contest, the WRO claims'
instance batches and constants, exact formatting, run records, and the generators of
docs/uniqueness.md and docs/zoo.md (with their shared write-or-check ``main``)."""
