"""Routes a neutral Incoming message to the feature handler that owns it.

Order: callback (by namespace prefix) -> command -> contact/file -> active guided flow ->
free text (FAQ). Feature modules register themselves in handlers/__init__.py.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Awaitable, Callable, Union

from core.messages import Incoming, Reply

Replies = Union[Reply, list[Reply], None]
Handler = Callable[["Ctx", Incoming], Awaitable[Replies]]  # noqa: F821


@dataclass
class JobSpec:
    name: str
    func: Callable
    cron: dict | Callable      # APScheduler cron fields, or settings -> fields (e.g. from REMINDER_TIME)
    interval: float | None
    run_at_start: bool


@dataclass
class MenuItem:
    key: str          # callback "m:<key>"
    label: str
    handler: Handler | None = None


@dataclass
class Router:
    commands: dict[str, Handler] = field(default_factory=dict)
    command_help: dict[str, str] = field(default_factory=dict)      # setMyCommands descriptions
    callbacks: dict[str, Handler] = field(default_factory=dict)     # namespace -> handler
    flows: dict[str, Handler] = field(default_factory=dict)         # conversation flow -> text handler
    kept_flows: set[str] = field(default_factory=set)              # flows whose answers outlive /huy
    owner: str = ""                                                 # module registering right now
    command_owner: dict[str, str] = field(default_factory=dict)
    flow_owner: dict[str, str] = field(default_factory=dict)
    navigation: set[str] = field(default_factory=set)               # commands that keep the current flow
    deeplinks: dict[str, Handler] = field(default_factory=dict)     # payload prefix -> handler
    menu: dict[str, MenuItem] = field(default_factory=dict)
    contact: Handler | None = None
    file: Handler | None = None
    text: Handler | None = None                                     # free text (FAQ)
    unknown_command: Handler | None = None
    not_a_question: Handler | None = None                           # bare numbers/dates outside a flow
    jobs: list["JobSpec"] = field(default_factory=list)             # scheduled work (APScheduler)
    startup: list[Callable] = field(default_factory=list)           # async fn(core, worker) at start
    reminder_sources: list = field(default_factory=list)            # core.reminders.Source per feature

    def job(self, name: str, func: Callable, *, cron: dict | Callable | None = None, interval: float | None = None,
            run_at_start: bool = False) -> None:
        """Register scheduled work: func(core) -> awaitable. cron (or cron(settings)) uses core.settings.tz."""
        self.jobs.append(JobSpec(name, func, cron or {}, interval, run_at_start))

    def reminder(self, source) -> None:
        """A feature's reminders (core.reminders.Source), created by the daily sweep."""
        self.reminder_sources.append(source)

    def on_startup(self, func: Callable) -> None:
        self.startup.append(func)

    def command(self, names: str | list[str], handler: Handler, help: str = "",
                keeps_flow: bool = False) -> None:
        """keeps_flow: a navigation command (/help, /huy…) that must not leave the current flow;
        any other command of another feature leaves it first (see Core._route)."""
        for i, name in enumerate([names] if isinstance(names, str) else names):
            if name in self.commands:
                raise ValueError(f"command /{name} registered twice")
            self.commands[name] = handler
            self.command_owner[name] = self.owner
            if keeps_flow:
                self.navigation.add(name)
            if help and i == 0:
                self.command_help[name] = help

    def callback(self, namespace: str, handler: Handler) -> None:
        if namespace in self.callbacks:
            raise ValueError(f"callback namespace {namespace!r} registered twice")
        self.callbacks[namespace] = handler

    def flow(self, name: str, handler: Handler, keeps_answers: bool = False) -> None:
        """keeps_answers: the flow stores answers outside `conversations`, so /huy loses nothing."""
        self.flows[name] = handler
        self.flow_owner[name] = self.owner
        if keeps_answers:
            self.kept_flows.add(name)

    def command_leaves_flow(self, command: str, flow: str) -> bool:
        """True when /command belongs to another feature than the flow the user is in."""
        return command not in self.navigation and self.command_owner.get(command) != self.flow_owner.get(flow)

    def deeplink(self, prefix: str, handler: Handler) -> None:
        self.deeplinks[prefix] = handler

    def menu_handler(self, key: str, handler: Handler) -> None:
        self.menu[key].handler = handler


def as_list(replies: Replies) -> list[Reply]:
    if replies is None:
        return []
    return [replies] if isinstance(replies, Reply) else list(replies)
