"""Pieces several claim checks share: the loss-versus-win-rate contest, WRO instance batches,
and the generator of docs/uniqueness.md."""
