"""The benchmarks run and report (tiny sizes; real numbers come from running bench/ by hand)."""

from bench import ack_latency, click_to_update, footprint, scale, sql_per_decision, survey_burst
from bench.ack_latency import percentile
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


def test_percentile() -> None:
    assert percentile([3.0, 1.0, 2.0], 0.5) == 2.0
    assert percentile([1.0, 2.0], 0.5) == 1.5
    assert percentile([5.0], 0.99) == 5.0


def test_ack_latency_smoke() -> None:
    result = ack_latency.main(
        ["--requests", "10", "--requests-high", "60", "--warmup", "5", "--distinct-releases", "1"]
    )
    for variant in ("same_item", "distinct_items"):
        for level in ("c1", "c50"):
            row = result[variant][level]
            assert row["bare"]["statuses"] == row["cutover"]["statuses"] == {"200": row["bare"]["requests"]}
            assert row["p50_ratio"] is not None and row["throughput_ratio"] is not None
    assert {"p50_c1_ratio", "p50_c1_met", "throughput_c50_ratio", "throughput_c50_met"} <= set(result["targets"])
    assert result["cutover_background_failures"] == 0


def test_click_to_update_smoke() -> None:
    result = click_to_update.main(["--items", "3"])
    assert result["items"] == 3
    assert result["click_to_update"]["n"] == result["baseline_chat_update"]["n"] == 3
    assert result["click_to_update"]["p50_ms"] > 0 and result["p50_ratio"] is not None


def test_sql_per_decision_smoke() -> None:
    result = sql_per_decision.main(["--repeat", "2"])
    assert result["items_10"]["items"] == 10 and result["items_60"]["items"] == 60
    assert result["items_10"]["record"] > 0 and result["items_10"]["load_release_view"] > 0
    assert result["record_constant"] is True and result["ratio_60_to_10"]["record"] == 1.0


def test_survey_burst_smoke() -> None:
    result = survey_burst.main(["--clicks", "8", "--window", "0.2"])
    for side in ("bare", "cutover"):
        assert result[side]["clicks"] == 8 and result[side]["ack_statuses"] == {"200": 8}
        assert result[side]["views_open_calls"] >= result[side]["views_open_ok"]
    assert result["bare"]["views_open_ok"] == 8
    assert result["ok_ratio"] is not None


def test_footprint_smoke() -> None:
    result = footprint.main(["--releases", "5", "--starts", "1"])
    assert result["releases"] == 5 and result["checklist_posts"] >= 5
    assert 0 < result["rss_mb"]["bare_starlette_idle"] and 0 < result["rss_mb"]["after_releases"]
    assert result["start_to_healthy_s"]["serve_new_database"] > 0
    assert result["start_ratio_with_releases"] is not None and "rss_target_met" in result


def test_scale_smoke() -> None:
    result = scale.main(["--releases", "3", "--seconds", "2", "--rate", "4", "--announcements", "2"])
    for side, serves in (("single", 1), ("scaled", 2)):
        r = result[side]
        assert r["serve_processes"] == serves and r["clicks"] == 8
        assert r["ack_statuses"] == {"200": 8} and r["decisions_recorded"] == 8 and r["every_decision_once"]
        assert r["converged_within_target"], r
        assert r["announcements_posted_once"] == 2 and r["announcements_duplicated"] == 0
        assert r["ok"]
