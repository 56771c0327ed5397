"""Export a model for inference without Keras: the encoder and one decoder step as TensorFlow
SavedModels or ONNX graphs (ONNX adds the searches' own decoder step, `search_graphs.py` and
`onnx_search.py`), the vocabularies as JSON and a checksum list (`exporter.py`, written whole or
not at all by `staging.py`), and a translator that runs them with TensorFlow alone or onnxruntime
alone (`translator.py`: greedy and beam search in NumPy, `beam.py` over `step.py`) once the
directory has passed its checks (`checksums.py`, `manifest.py`, `saved_model_ops.py`,
`onnx_ops.py`). `cache.py` keeps such an export beside a `.keras` file, so that
`seq2seq translate MODEL.keras` starts without Keras.
"""
