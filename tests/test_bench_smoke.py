"""The benchmarks run and report (tiny sizes; real numbers come from running bench/ by hand)."""

from bench.fanout import floor_seconds, main


def test_floor() -> None:
    assert floor_seconds(20, 10, 1.0) == 10.0
    assert floor_seconds(5, 10, 1.0) == 0.0


def test_fanout_smoke() -> None:
    result = main(["--announcements", "12", "--channels", "3", "--burst", "2", "--rate", "4"])
    assert result["announcements"] == 12 and result["per_channel"] == 4
    assert result["floor_s"] == 0.5
    assert result["sender_s"] > 0 and result["baseline_s"] > 0
    assert result["ratio_to_floor"] is not None
