"""A stateful fake of Grafana's HTTP API, for the calls citycloud makes."""

from tests.fakes.grafana.app import FakeGrafana, start_fake_grafana

__all__ = ["FakeGrafana", "start_fake_grafana"]
