"""Export a model for inference without Keras: the encoder and one decoder step as TensorFlow
SavedModels or ONNX graphs, the vocabularies as JSON (`exporter.py`), and a greedy translator
that runs them with TensorFlow alone or onnxruntime alone (`runner.py`).
"""
