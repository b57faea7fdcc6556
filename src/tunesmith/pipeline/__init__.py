"""A request to a composition: compose, candidates, exchange, continue/infill/vary."""
