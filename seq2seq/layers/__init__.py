"""Keras layers of the encoder-decoder models, registered for `.keras` files."""
