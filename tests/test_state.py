from datetime import timedelta

from statuspage.incidents import Impact
from statuspage.result import Outcome, Result
from statuspage.state import ComponentStatus, EffectiveState, State, next_status, page_state
from tests.factories import T0, component, failed, ok, slow


def run(status: ComponentStatus, *results: Result, **settings: int) -> ComponentStatus:
    for result in results:
        status, _ = next_status(status, result, component(**settings))
    return status


def test_first_success_is_operational() -> None:
    status, transition = next_status(ComponentStatus("api"), ok(T0), component())
    assert status.state is State.OPERATIONAL
    assert transition is not None
    assert transition.from_state is State.NO_DATA


def test_one_failure_keeps_operational() -> None:
    status = run(ComponentStatus("api"), ok(T0), failed(T0 + timedelta(seconds=60)))
    assert status.state is State.OPERATIONAL
    assert status.failures == 1


def test_down_after_two_failures() -> None:
    status = run(
        ComponentStatus("api"),
        ok(T0),
        failed(T0 + timedelta(seconds=60)),
        failed(T0 + timedelta(seconds=80)),
    )
    assert status.state is State.DOWN
    assert status.since == T0 + timedelta(seconds=80)


def test_transition_to_down_carries_reason() -> None:
    status = run(ComponentStatus("api"), ok(T0), failed(T0 + timedelta(seconds=60)))
    _, transition = next_status(status, failed(T0 + timedelta(seconds=80)), component())
    assert transition is not None
    assert (transition.from_state, transition.to_state) == (State.OPERATIONAL, State.DOWN)
    assert transition.reason == "HTTP 500"


def test_failures_threshold_is_configurable() -> None:
    times = [T0 + timedelta(seconds=20 * i) for i in range(3)]
    status = run(ComponentStatus("api"), *(failed(t) for t in times), failures_before_down=4)
    assert status.state is State.NO_DATA


def test_success_resets_failure_count() -> None:
    status = run(
        ComponentStatus("api"),
        failed(T0),
        ok(T0 + timedelta(seconds=20)),
        failed(T0 + timedelta(seconds=80)),
    )
    assert status.state is State.OPERATIONAL
    assert status.failures == 1


def test_recovery_needs_configured_successes() -> None:
    results = [failed(T0), failed(T0 + timedelta(seconds=20)), ok(T0 + timedelta(seconds=80))]
    status = run(ComponentStatus("api"), *results, successes_before_up=2)
    assert status.state is State.DOWN
    status = run(status, ok(T0 + timedelta(seconds=140)), successes_before_up=2)
    assert status.state is State.OPERATIONAL


def test_slow_success_is_degraded() -> None:
    status = run(ComponentStatus("api"), ok(T0), slow(T0 + timedelta(seconds=60)))
    assert status.state is State.DEGRADED


def test_failed_run_has_no_latency() -> None:
    status = run(ComponentStatus("api"), ok(T0, latency=0.2), failed(T0 + timedelta(seconds=60)))
    assert status.last_latency is None


def test_not_configured_is_no_data() -> None:
    result = Result("api", T0, Outcome.NOT_CONFIGURED, reason="not configured")
    status = run(ComponentStatus("api"), ok(T0 - timedelta(seconds=60)), result)
    assert status.state is State.NO_DATA
    assert status.last_reason == "not configured"


def test_unchanged_state_gives_no_transition() -> None:
    status = run(ComponentStatus("api"), ok(T0))
    _, transition = next_status(status, ok(T0 + timedelta(seconds=60)), component())
    assert transition is None


# Page state


def test_page_state_is_components_state_without_incidents() -> None:
    states = [EffectiveState.OPERATIONAL, EffectiveState.DEGRADED]
    assert page_state(states, []) is EffectiveState.DEGRADED


def test_page_state_rises_to_incident_impact() -> None:
    states = [EffectiveState.OPERATIONAL]
    assert page_state(states, [Impact.MAJOR]) is EffectiveState.PARTIAL_OUTAGE


def test_page_state_keeps_worse_components_state() -> None:
    states = [EffectiveState.MAJOR_OUTAGE]
    assert page_state(states, [Impact.MINOR]) is EffectiveState.MAJOR_OUTAGE


def test_page_state_incident_wins_over_maintenance() -> None:
    states = [EffectiveState.MAINTENANCE]
    assert page_state(states, [Impact.MINOR]) is EffectiveState.DEGRADED


def test_page_state_incident_without_impact_changes_nothing() -> None:
    assert page_state([EffectiveState.NO_DATA], [Impact.NONE]) is EffectiveState.NO_DATA


def test_page_state_critical_incident_is_major_outage() -> None:
    states = [EffectiveState.OPERATIONAL, EffectiveState.MAJOR_OUTAGE]
    assert page_state(states, [Impact.CRITICAL]) is EffectiveState.MAJOR_OUTAGE
