"""Data: corpus readers, tokenizers, vocabularies and the bucketed batches of ids that feed training."""
