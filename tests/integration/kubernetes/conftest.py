"""The fake kube-apiserver on loopback, and engines pointed at it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from citycloud.adapters.kubernetes import KubeClient, KubernetesEngine, connect
from citycloud.desired import DesiredState, build_desired
from citycloud.plan import SafetyPolicy
from citycloud.spec import load_spec
from citycloud.spec.tree import Spec
from tests.fakes.kubernetes.server import FakeKubeApiServer


@pytest.fixture
def fake() -> Iterator[FakeKubeApiServer]:
    with FakeKubeApiServer() as server:
        yield server


@pytest.fixture(scope="session")
def example_spec(example_spec_dir: Path) -> Spec:
    return load_spec(example_spec_dir)


@pytest.fixture(scope="session")
def example_desired(example_spec: Spec) -> DesiredState:
    return build_desired(example_spec, ["kubernetes"])


EngineFactory = Callable[..., KubernetesEngine]


@pytest.fixture
def make_engine(fake: FakeKubeApiServer) -> EngineFactory:
    """An engine on the fake; small pages so that listing really pages."""

    def build(
        policy: SafetyPolicy | None = SafetyPolicy(),  # noqa: B008
        force: bool = False,
        page_size: int = 3,
    ) -> KubernetesEngine:
        client = KubeClient(connect(host=fake.url), page_size=page_size)
        return KubernetesEngine(client, "1.31", policy=policy, force=force)

    return build
