"""The load test's figures from its samples: errors, the error rate and the latencies of a window."""

from __future__ import annotations

from benchmarks.load_test import NO_ANSWER, Sample, answered_ms, error_rate, p95_or_none, server_errors


def _sample(status: int, started: float = 0.0, ms: float = 10.0) -> Sample:
    return Sample("analyst", "/v1/counts", started, ms, status, status == 429)


def test_5xx_and_no_answer_are_errors_and_a_429_is_not() -> None:
    samples = [_sample(200), _sample(429), _sample(500), _sample(503), _sample(NO_ANSWER), _sample(404)]
    assert server_errors(samples) == 2
    assert error_rate(samples) == 3 / 6
    assert error_rate([_sample(200), _sample(429)]) == 0.0
    assert error_rate([]) == 0.0


def test_latencies_are_of_200_answers_started_in_the_window() -> None:
    samples = [
        _sample(200, started=0.0, ms=1.0),
        _sample(200, started=39.9, ms=2.0),
        _sample(200, started=40.0, ms=3.0),
        _sample(503, started=50.0, ms=30_000.0),
        _sample(200, started=119.0, ms=4.0),
    ]
    assert answered_ms(samples, 0, 40) == [1.0, 2.0]
    assert answered_ms(samples, 40) == [3.0, 4.0]
    assert answered_ms(samples) == [1.0, 2.0, 3.0, 4.0]


def test_p95_of_no_answers_is_none() -> None:
    assert p95_or_none([]) is None
    assert p95_or_none([float(ms) for ms in range(1, 101)]) == 95.05
