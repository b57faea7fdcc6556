"""Words to requests: a sentence about a tune read into a ComposeRequest."""
