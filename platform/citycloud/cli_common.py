"""What every CLI command shares: the console, error reporting, loading the
spec with progress, and the registry through which each outside system adds
its options (``--cloud``, ``--keycloak``, ...) to ``plan`` and ``apply``."""

from __future__ import annotations

import functools
import logging
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import click
from rich.console import Console
from rich.progress import (
    BarColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)

from citycloud import metrics as platform_metrics
from citycloud.apply.engine import Engine
from citycloud.errors import (
    AdapterError,
    CityCloudError,
    SafetyError,
    SpecError,
    StoreError,
)
from citycloud.i18n import t
from citycloud.spec import load_spec
from citycloud.spec.tree import Spec

console = Console(stderr=True, highlight=False, soft_wrap=True)
out = Console(highlight=False, soft_wrap=True)

F = TypeVar("F", bound=Callable[..., Any])
EngineFactory = Callable[[Any, Spec, dict[str, Any]], Engine | None]


@dataclass(frozen=True)
class EngineOption:
    """An option of ``plan``/``apply``; ``build`` turns its value into an engine
    (or None when the option is unset). ``build`` may read the other options."""

    decls: tuple[str, ...]
    attrs: dict[str, Any]
    build: EngineFactory | None


ENGINE_OPTIONS: list[EngineOption] = []
EXTRA_COMMANDS: list[click.Command] = []


def engine_option(
    *decls: str, **attrs: Any
) -> Callable[[EngineFactory], EngineFactory]:
    """Register an option whose value configures an engine for some layers."""

    def wrap(build: EngineFactory) -> EngineFactory:
        ENGINE_OPTIONS.append(EngineOption(decls, attrs, build))
        return build

    return wrap


def plain_option(*decls: str, **attrs: Any) -> None:
    """Register an option of ``plan``/``apply`` that engines read from params."""
    ENGINE_OPTIONS.append(EngineOption(decls, attrs, None))


def add_command(command: click.Command) -> click.Command:
    """Register a top-level command (``citycloud audit ...``)."""
    EXTRA_COMMANDS.append(command)
    return command


def with_engine_options(func: F) -> F:
    for option in reversed(ENGINE_OPTIONS):
        func = click.option(*option.decls, **option.attrs)(func)
    return func


def build_engines(spec: Spec, params: dict[str, Any]) -> list[Engine]:
    engines: list[Engine] = []
    for option in ENGINE_OPTIONS:
        if option.build is None:
            continue
        name = click.Option(list(option.decls)).name or ""
        value = params.get(name)
        if value in (None, False, ()):
            continue
        engine = option.build(value, spec, params)
        if engine is not None:
            engines.append(engine)
    return engines


def report(exc: CityCloudError) -> int:
    """Print ``exc`` for a person; return the process exit code."""
    if isinstance(exc, SpecError):
        console.print(f"[bold red]{t('error.spec', count=len(exc.problems))}[/]")
        for problem in exc.problems:
            console.print(f"  {problem}", markup=False)
        if exc.unread:
            console.print(
                t("error.spec_unread", files=", ".join(exc.unread)),
                markup=False,
                style="yellow",
            )
        elif exc.checks_skipped:
            console.print(t("error.spec_fields"), markup=False, style="yellow")
        return 1
    if isinstance(exc, SafetyError):
        console.print(f"[bold yellow]{t('error.safety', message='')}[/]", end="")
        console.print(str(exc), markup=False)
        return 3
    if isinstance(exc, AdapterError):
        console.print(
            t("error.adapter", system=exc.system, message=str(exc)),
            markup=False,
            style="red",
        )
        return 4
    if isinstance(exc, StoreError):
        console.print(t("error.store", message=str(exc)), markup=False, style="red")
        return 5
    console.print(t("error.plan", message=str(exc)), markup=False, style="red")
    return 1


def guarded(func: F) -> F:
    """Turn the project's errors into messages and exit codes, not tracebacks."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except CityCloudError as exc:
            platform_metrics.count_error("cli", platform_metrics.error_kind(exc))
            sys.exit(report(exc))
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except KeyboardInterrupt:
            console.print(t("error.plan", message="interrupted (Ctrl-C)"), style="red")
            sys.exit(130)
        except Exception as exc:
            # A bug or an input nobody foresaw: still a message, not a traceback.
            logging.getLogger("citycloud").debug("unexpected error", exc_info=True)
            console.print(
                t(
                    "error.plan",
                    message=f"{type(exc).__name__}: {exc} (-vv shows details)",
                ),
                markup=False,
                style="red",
            )
            sys.exit(1)

    return wrapper  # type: ignore[return-value]


@contextmanager
def progress_bar(enabled: bool = True) -> Iterator[Callable[[str, int, int], None]]:
    """A progress display on stderr; yields a ``(step, done, total)`` callback."""
    if not enabled or not console.is_terminal:
        yield lambda step, done, total: logging.getLogger("citycloud.progress").debug(
            "%s %s/%s", step, done, total
        )
        return
    bar = Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    )
    tasks: dict[str, Any] = {}
    with bar:

        def update(step: str, done: int, total: int) -> None:
            head = step.split(":", 1)[0]
            if head not in tasks:
                tasks[head] = bar.add_task(step, total=max(total, 1))
            bar.update(
                tasks[head], description=step, completed=done, total=max(total, 1)
            )

        yield update


def load(
    path: str, divisions: Sequence[str], progress: Callable[[str, int, int], None]
) -> Spec:
    steps = ["read", "organisations", "tenants", "checks"]

    def say(step: str) -> None:
        progress(f"spec:{step}", steps.index(step) if step in steps else 0, len(steps))

    return load_spec(Path(path), divisions, progress=say)


def engines_from_environment(spec: Spec) -> list[Engine]:
    """The engines the environment configures (CITYCLOUD_CLOUD,
    CITYCLOUD_KEYCLOAK_URL, ...): what ``plan``/``apply`` would build from the
    same variables, for callers without a command line such as the portal."""
    import os

    params: dict[str, Any] = {}
    for option in ENGINE_OPTIONS:
        parsed = click.Option(list(option.decls), **option.attrs)
        name = parsed.name or ""
        envvar = option.attrs.get("envvar")
        value = os.environ.get(envvar) if isinstance(envvar, str) else None
        params[name] = value if value is not None else parsed.default
    return build_engines(spec, params)
