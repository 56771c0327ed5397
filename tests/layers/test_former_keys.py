from seq2seq.layers.former_keys import current_keys


def test_former_keys_take_their_current_names_and_the_others_stay():
    written = {"kind": "dense", "units": 12, "name": "bridge"}
    assert current_keys(written, {"kind": "bridge", "units": "decoder_units"}) == {
        "bridge": "dense",
        "decoder_units": 12,
        "name": "bridge",
    }
    assert written == {"kind": "dense", "units": 12, "name": "bridge"}  # the file's own dict is left as read


def test_a_config_written_with_current_keys_is_unchanged():
    assert current_keys({"attention": "bahdanau"}, {"kind": "attention"}) == {"attention": "bahdanau"}
