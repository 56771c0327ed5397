"""Translation: text in, text out over the compiled searches; ensembles and sentence vectors."""
