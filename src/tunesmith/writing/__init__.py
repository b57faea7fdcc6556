"""What the model is asked to write: prompts, spelling, grammar and rules."""
