"""Judging and mending what the model wrote: validation, repair, critic, metrics."""
