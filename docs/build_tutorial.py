"""Build docs/tutorial.md by running every step it shows.

Each command and code block of the tutorial is executed here and its real output is pasted
under it, so every number in the tutorial comes from a run. Rebuild after changing the
toolkit:

    python docs/build_tutorial.py            # about 10 minutes on 2 cores
    python docs/build_tutorial.py --quick --out /tmp/tutorial.md   # a fast check that it all runs
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import shlex
import subprocess
import sys
import textwrap
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

ROOT = Path(__file__).resolve().parents[1]
TATOEBA = ROOT.parent / "shared" / "data" / "tatoeba" / "fra-eng.txt"
SENTENCES = ["I am cold.", "Where is the station?", "We lost.", "He is my brother.", "Call me tomorrow."]


class Tutorial:
    """Collects markdown; runs shell commands and Python snippets and records their output."""

    def __init__(self, workdir: Path):
        self.workdir = workdir
        self.parts: list[str] = []
        self.namespace: dict = {}

    def text(self, markdown: str) -> None:
        self.parts.append(textwrap.dedent(markdown).strip() + "\n")

    def shell(self, command: str, keep_last: int | None = None) -> str:
        result = subprocess.run(
            [sys.executable, "-m", "seq2seq.cli", *shlex.split(command)[1:]],
            cwd=self.workdir,
            capture_output=True,
            text=True,
        )
        if result.returncode != 0:
            raise SystemExit(f"tutorial step failed: {command}\n{result.stderr}")
        lines = [line for line in result.stdout.splitlines() if line.strip()]
        shown = lines[-keep_last:] if keep_last else lines
        shown_command = command.replace(str(TATOEBA), "../shared/data/tatoeba/fra-eng.txt")
        self.parts.append(
            f"```console\n$ {shown_command}\n"
            + ("...\n" if keep_last and len(lines) > keep_last else "")
            + "\n".join(shown)
            + "\n```\n"
        )
        return result.stdout

    def python(self, code: str) -> str:
        code = textwrap.dedent(code).strip()
        output = io.StringIO()
        previous = os.getcwd()
        os.chdir(self.workdir)
        try:
            with contextlib.redirect_stdout(output):
                exec(compile(code, "<tutorial>", "exec"), self.namespace)
        finally:
            os.chdir(previous)
        printed = output.getvalue().rstrip()
        self.parts.append(f"```python\n{code}\n```\n" + (f"```text\n{printed}\n```\n" if printed else ""))
        return printed

    def markdown(self) -> str:
        return "\n".join(self.parts)


def build(workdir: Path, quick: bool, image: Path) -> str:
    limit, epochs, attention_epochs = (400, 1, 1) if quick else (10000, 12, 8)
    tour = Tutorial(workdir)
    test_file = workdir / "test.txt"
    lines = TATOEBA.read_text(encoding="utf-8").splitlines()
    seen = {line.split("\t")[0] for line in lines[:limit]}
    unseen = [line for line in lines[limit:] if line.split("\t")[0] not in seen]
    test_file.write_text("\n".join(unseen[: 50 if quick else 500]) + "\n", encoding="utf-8")
    tour.text(f"""
        # Tutorial: the classic English→French recipe, with keras-seq2seq

        This page was written by `docs/build_tutorial.py`, which runs every command and code block
        below and pastes its real output (Keras {_keras_version()}, TensorFlow backend, a 2-core CPU).
        It follows the classic Keras example: a character-level LSTM encoder whose final states
        start an LSTM decoder, trained with teacher forcing on the first {limit:,} pairs of the
        Tatoeba English–French file.

        ## 1. Train
    """)
    tour.shell(
        f"seq2seq train {TATOEBA} --preset classic --limit {limit} --epochs {epochs} --out fra.keras", keep_last=4
    )
    tour.text("""
        The model file holds the weights, the architecture and both vocabularies. Every epoch also
        left a checkpoint in `fra.keras.checkpoints/` (`--resume` continues from it), and the loss
        curves are in `fra.history.json` and `fra.history.png`.

        ## 2. The inference models of the classic recipe

        The classic example rebuilds two models by hand for inference. Here they come with the
        trained model, built from the very layers that were trained:
    """)
    tour.python("""
        import numpy as np
        import seq2seq

        model = seq2seq.load("fra.keras")
        for part in (model.encoder_model, model.decoder_model):
            print(part.name, "takes", [(t.name, tuple(t.shape)) for t in part.inputs])
            print(" " * len(part.name), "gives", [(t, tuple(o.shape)) for t, o in zip(part.output_names, part.outputs)])
    """)
    tour.text("""
        ## 3. The decoding loop, by hand

        The classic `decode_sequence`, written over those two models: encode once, then feed the
        decoder its own best character, one `predict` call per character.
    """)
    tour.python(f"""
        def decode_sequence(text, max_length=80):
            states = model.encoder_model.predict(np.array([model.source_vocab.encode(text)]), verbose=0)
            token = np.array([[model.target_vocab.start_id]])
            decoded = []
            for _ in range(max_length):
                probabilities, *states = model.decoder_model.predict([token] + states, verbose=0)
                best = int(np.argmax(probabilities[0, -1]))
                if best == model.target_vocab.end_id:
                    break
                decoded.append(best)
                token = np.array([[best]])
            return model.target_vocab.decode(decoded)

        sentences = {SENTENCES!r}
        by_hand = [decode_sequence(s, max_length=2 * len(s) + 10) for s in sentences]
        fast = model.translate(sentences)
        for source, hand, quick in zip(sentences, by_hand, fast):
            print(f"{{source!r:26}} hand: {{hand!r:32}} translate: {{quick!r}}")
        print("identical:", sum(a == b for a, b in zip(by_hand, fast)), "of", len(sentences))
    """)
    tour.text("""
        `model.translate` gives the same text: it runs the same layers, but over all sentences at
        once in one compiled loop (see `benchmarks/decode.py` for the speed difference).

        ## 4. Beam search

        Greedy decoding commits to one character at a time; beam search keeps several hypotheses.
        `--nbest` lists the best ones with their length-normalised log-probabilities:
    """)
    tour.shell('seq2seq translate fra.keras "Where is the station?" --beam 5 --nbest 3 --length-penalty 0.6 --scores')
    tour.text(f"""
        ## 5. Evaluation

        `test.txt` holds the next {len(test_file.read_text().splitlines())} pairs of the file whose
        English sentences the model never saw. `evaluate` scores translations with sacrebleu against every reference
        of each English sentence:
    """)
    tour.shell("seq2seq evaluate fra.keras test.txt")
    tour.shell("seq2seq evaluate fra.keras test.txt --beam 5 --length-penalty 0.6")
    tour.text("""
        ## 6. Attention, and a picture of it

        The classic model squeezes a whole sentence into two state vectors. The `attention`
        preset (bidirectional encoder, Luong attention with input feeding, SentencePiece pieces)
        looks back at every source position instead:
    """)
    tour.shell(
        f"seq2seq train {TATOEBA} --limit {limit} --epochs {attention_epochs} --preset attention --out "
        "fra-attention.keras",
        keep_last=2,
    )
    tour.shell("seq2seq evaluate fra-attention.keras test.txt --beam 5 --length-penalty 0.6")
    tour.shell(f'seq2seq translate fra-attention.keras "He is my brother." --plot-attention {image}')
    tour.text(f"""
        Each row of the picture is one output piece; its colours show how much attention it paid
        to each source piece:

        ![attention]({image.name})

        Where next: the README lists every option (architectures, tokenizers, search settings,
        checkpoints), and `benchmarks/quality.py` measures the default command trained 20 minutes on the whole file.
    """)
    return tour.markdown()


def _keras_version() -> str:
    import keras

    return keras.version()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny data and one epoch: checks that every step runs")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "tutorial.md")
    parser.add_argument("--workdir", type=Path, default=None)
    args = parser.parse_args()
    if not TATOEBA.is_file():
        print(f"skipped: the Tatoeba corpus is not at {TATOEBA}")
        return 0
    import tempfile

    with tempfile.TemporaryDirectory() as scratch:
        workdir = args.workdir or Path(scratch)
        workdir.mkdir(parents=True, exist_ok=True)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        image = args.out.parent.resolve() / "attention.png"
        args.out.write_text(build(workdir, args.quick, image).replace(str(image), image.name), encoding="utf-8")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
