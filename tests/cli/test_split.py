"""`seq2seq split`: whole source sentences held out, with all their translations, on the real corpus."""

from __future__ import annotations

from seq2seq.cli import main
from seq2seq.data.corpus import read_tatoeba


def test_split_holds_out_whole_sources_and_loses_no_pair(tatoeba_path, tmp_path, capsys):
    head = tmp_path / "head.txt"
    head.write_text("".join(tatoeba_path.open(encoding="utf-8").readlines()[:3000]), encoding="utf-8")
    train, test = tmp_path / "train.txt", tmp_path / "test.txt"
    status = main(["split", str(head), "--test-sources", "200", "--train-out", str(train), "--test-out", str(test)])
    assert status == 0
    train_pairs, test_pairs = read_tatoeba(train).pairs, read_tatoeba(test).pairs
    all_pairs = read_tatoeba(head).pairs
    assert sorted(train_pairs + test_pairs) == sorted(all_pairs)
    held = {source for source, _ in test_pairs}
    assert len(held) == 200
    assert held.isdisjoint(source for source, _ in train_pairs)
    for source in held:  # every translation of a held-out sentence is in the test file
        assert sorted(t for s, t in test_pairs if s == source) == sorted(t for s, t in all_pairs if s == source)
    assert (
        f"Wrote {len(train_pairs)} pairs to {train} and {len(test_pairs)} pairs (200 source sentences"
        in capsys.readouterr().out
    )


def test_split_is_seeded(tatoeba_path, tmp_path):
    head = tmp_path / "head.txt"
    head.write_text("".join(tatoeba_path.open(encoding="utf-8").readlines()[:1000]), encoding="utf-8")
    outputs = []
    for seed in ("1", "1", "2"):
        test = tmp_path / f"test-{len(outputs)}.txt"
        main(
            [
                "split",
                str(head),
                "--test-sources",
                "50",
                "--seed",
                seed,
                "--train-out",
                str(tmp_path / "train.txt"),
                "--test-out",
                str(test),
            ]
        )
        outputs.append(test.read_text(encoding="utf-8"))
    assert outputs[0] == outputs[1] != outputs[2]


def test_split_refuses_holding_out_every_source(tatoeba_path, tmp_path, capsys):
    head = tmp_path / "head.txt"
    head.write_text("".join(tatoeba_path.open(encoding="utf-8").readlines()[:10]), encoding="utf-8")
    status = main(
        [
            "split",
            str(head),
            "--test-sources",
            "500",
            "--train-out",
            str(tmp_path / "a.txt"),
            "--test-out",
            str(tmp_path / "b.txt"),
        ]
    )
    err = capsys.readouterr().err
    assert status == 2 and "--test-sources must be fewer, got 500" in err
    assert not (tmp_path / "a.txt").exists()
