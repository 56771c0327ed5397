"""`python -m seq2seq.cli`: the `seq2seq` program."""

from seq2seq.cli import run

run()
