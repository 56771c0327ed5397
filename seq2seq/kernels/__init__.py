"""Backend-specific kernels behind the Keras layers: the same arithmetic, computed faster."""
