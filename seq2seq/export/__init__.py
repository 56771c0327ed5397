"""Export a model for inference without Keras: the encoder and one decoder step as TensorFlow
SavedModels or ONNX graphs, the vocabularies as JSON and a checksum list (`exporter.py`, written
whole or not at all by `staging.py`), and a greedy translator that runs them with TensorFlow
alone or onnxruntime alone (`runner.py`) once the directory has passed its checks
(`checksums.py`, `manifest.py`, `saved_model_ops.py`, `onnx_ops.py`).
"""
