"""`seq2seq info [M.keras]`: the device this machine trains on, and what a model file holds.

The first line names the backend's device (`seq2seq.devices`), with a hint where a GPU sits
unused; `--backends` asks every installed backend in turn. Given a model file, its
architecture, vocabularies, parameters and training follow.
"""

from __future__ import annotations


def add_command(commands) -> None:
    info = commands.add_parser("info", help="say which device trains here, and describe a model file")
    info.add_argument("model", nargs="?", help="a model file (.keras) to describe")
    info.add_argument("--backends", action="store_true", help="also ask each installed backend which device it uses")
    info.set_defaults(run=run_info)


def run_info(args) -> int:
    from seq2seq.devices import device_line, probe_backends

    model = None
    if args.model:
        from seq2seq.models.loading import load

        model = load(args.model)  # first: a bad file is the one error line, before any device is asked
    print(device_line())
    if args.backends:
        for backend, phrase in probe_backends().items():
            print(f"  KERAS_BACKEND={backend}: {phrase}")
    if model is not None:
        print(describe(model))
    return 0


def describe(model) -> str:
    """A few lines: architecture, vocabularies, parameters, training data."""
    config = model.model_config
    inputs = "one-hot" if config.embedding_dim is None else f"embedding {config.embedding_dim}"
    direction = "bidirectional " if config.bidirectional else ""
    lines = [
        f"architecture: preset {config.preset}",
        f"  encoder: {config.layers} x {direction}{config.cell.upper()} {config.units}, {inputs} inputs, dropout "
        f"{config.dropout}",
        f"  bridge: {config.bridge}",
        f"  decoder: {config.decoder_depth} x {config.cell.upper()} {config.decoder_units}, attention "
        f"{config.attention}",
        f"tokenizer: {config.tokenizer}{' (lower-cased)' if config.lowercase else ''}",
        f"vocabulary: source {len(model.source_vocab)} tokens, target {len(model.target_vocab)} tokens",
        f"parameters: {model.count_params():,}",
        f"decoder states: {', '.join(model.state_names)}",
    ]
    lines.append("training:")
    summary = {key: value for key, value in model.training_summary.items() if value not in ("", None)}
    history = summary.pop("history", None)
    lines += [f"  {key.replace('_', ' ')}: {value}" for key, value in summary.items()]
    if history:
        lines.append(f"  history: {', '.join(history)} for {len(next(iter(history.values())))} epochs")
    return "\n".join(lines)
