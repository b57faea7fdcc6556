"""The decoding loop over the embedded model: contexts, prefixes, vocabulary."""
