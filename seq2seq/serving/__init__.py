"""The HTTP service (`seq2seq serve`): a FastAPI application with request batching and a web page.

Needs the `serve` extra: `pip install "keras-seq2seq[serve]"`.
"""
