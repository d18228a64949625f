"""The replay engine of the guided flows (dossier /hoso, self-assessment /tuchamdiem), GOV.UK Smart Answers' shape.

A `Flow` is a start node, the options of each node and a next-node function. Answers are stored one row
per node (table flow_answers) and the current step is the first node of the replay that
has no valid answer: there is no other conversation state. A `Walkthrough` is the chat side shared by
every flow: each tap or typed answer reloads the answers, replays them, applies the change and shows the
new current step; a button of another step ("stale") changes nothing.

Callback data (namespace <ns>, ASCII): <ns>:a:<node>:<option> answer · <ns>:back:<node> "Quay lại" ·
<ns>:cont · <ns>:reset · <ns>:reset:ok; each feature adds its own actions. Templates <flow>/intro, stale,
digression, reset_confirm; button labels back, cont, reset_ok from the feature's content.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from typing import Awaitable, Callable, Mapping

from sqlalchemy import delete, select

from core.context import Ctx
from core.messages import Button, Incoming, Reply
from core.router import as_list
from core.templates import render
from core.text import fold
from storage.models import FlowAnswer, utcnow
from storage.sql import upsert

log = logging.getLogger("ocop.flows")

RESULT = "result"
Answers = Mapping[str, str]


@dataclass(frozen=True)
class Walk:
    """The result of replaying stored answers: path so far, valid answers, the current node."""
    path: tuple[str, ...]
    given: dict[str, str]
    current: str

    @property
    def done(self) -> bool:
        return self.current == RESULT

    @property
    def step(self) -> int:
        return len(self.path)

    def previous(self) -> str | None:
        """The answered node before the current one (the target of "Quay lại")."""
        answered = self.path if self.done else self.path[:-1]
        return answered[-1] if answered else None


@dataclass(frozen=True)
class Flow:
    name: str                                            # flow_answers.flow, conversation flow, template folder
    start: str
    options: Callable[[str, Answers], tuple[str, ...]]   # valid answers of a node, given the earlier ones
    next_node: Callable[[str, Answers], str]             # the node after one, given the answers so far

    def replay(self, answers: Answers, *, fill: bool = False) -> Walk:
        """Walk from the start through the stored answers; stop at the first node without a valid answer.

        fill=True answers every open question with its first option (to count the steps ahead).
        """
        given: dict[str, str] = {}
        path: list[str] = []
        node = self.start
        while node != RESULT and len(path) < 200:
            path.append(node)
            allowed = self.options(node, given)
            value = answers.get(node)
            if value not in allowed:
                if not fill or not allowed:
                    return Walk(tuple(path), given, node)
                value = allowed[0]
            given[node] = value
            node = self.next_node(node, given)
        return Walk(tuple(path), given, RESULT)

    def progress(self, answers: Answers) -> tuple[int, int]:
        """("Bước k/n"): k = position of the current question, n = questions on the expected path."""
        total = len(self.replay(answers, fill=True).path)
        return min(self.replay(answers).step, total), total


Action = Callable[[Ctx, list[str]], Awaitable["list[Reply] | None"]]


async def faq_digression(ctx: Ctx, msg: Incoming) -> list[Reply]:
    """Answer a question typed mid-flow with the FAQ engine (on failure: only the way back)."""
    try:
        from handlers.faq import faq_replies
        return as_list(await faq_replies(ctx, msg.text))
    except Exception:
        log.exception("FAQ digression failed")
    return []


@dataclass(frozen=True)
class Walkthrough:
    flow: Flow
    ns: str                                                      # callback namespace
    button: Callable[[str], str]                                 # the feature's button labels
    question: Callable[[Walk, dict], Reply]                      # the current step ("Quay lại" is added here)
    resume: Callable[[Walk, dict], Reply]                        # where the user stopped (on re-entry)
    finished: Callable[[Ctx, Walk, bool], Awaitable[list[Reply]]]   # the result; True right after the last answer
    actions: Mapping[str, Action] = field(default_factory=dict)     # further callback actions (None: stale)
    typed: Callable[[Ctx, Walk, Incoming], Awaitable["list[Reply] | None"]] | None = None  # text hook

    # --- stored answers -----------------------------------------------------------------------
    async def answers(self, ctx: Ctx) -> dict[str, str]:
        rows = await ctx.session.execute(select(FlowAnswer.node, FlowAnswer.value).where(
            FlowAnswer.user_id == ctx.user.id, FlowAnswer.flow == self.flow.name))
        return {node: value for node, value in rows}

    async def walk(self, ctx: Ctx) -> Walk:
        return self.flow.replay(await self.answers(ctx))

    async def save(self, ctx: Ctx, answers: dict[str, str], node: str, value: str) -> None:
        """Insert or replace one answer (an upsert, so a double tap cannot violate the unique key)."""
        await ctx.session.execute(upsert(ctx.session, FlowAnswer, dict(
            user_id=ctx.user.id, flow=self.flow.name, node=node, value=value, updated_at=utcnow()),
            key=["user_id", "flow", "node"], update={"value": value, "updated_at": utcnow()}))
        answers[node] = value

    async def forget(self, ctx: Ctx, answers: dict[str, str], node: str | None = None) -> None:
        """Forget one answer, or all of them (node None)."""
        stmt = delete(FlowAnswer).where(FlowAnswer.user_id == ctx.user.id, FlowAnswer.flow == self.flow.name)
        await ctx.session.execute(stmt if node is None else stmt.where(FlowAnswer.node == node))
        if node is None:
            answers.clear()
        else:
            answers.pop(node, None)

    async def leave(self, ctx: Ctx) -> None:
        """Leave this flow, never another feature's flow (an old button tapped later)."""
        conv = await ctx.get_flow()
        if conv is not None and conv.flow == self.flow.name:
            await ctx.clear_flow()

    # --- replies ------------------------------------------------------------------------------
    def step_reply(self, walk: Walk, answers: dict[str, str]) -> Reply:
        reply = self.question(walk, answers)
        back = [[Button(self.button("back"), f"{self.ns}:back:{walk.current}")]] if walk.previous() else []
        return replace(reply, buttons=reply.buttons + back)

    def digression_reply(self, answers: dict[str, str]) -> Reply:
        step, total = self.flow.progress(answers)
        return Reply(render(f"{self.flow.name}/digression", step=step, total=total),
                     [[Button(self.button("cont"), f"{self.ns}:cont")]])

    def reset_confirm_reply(self) -> Reply:
        return Reply(render(f"{self.flow.name}/reset_confirm"),
                     [[Button(self.button("reset_ok"), f"{self.ns}:reset:ok"),
                       Button(self.button("cont"), f"{self.ns}:cont")]])

    async def show(self, ctx: Ctx, answers: dict[str, str], *, answered: bool = False) -> list[Reply]:
        """The current step; on completion the result, leaving the flow."""
        walk = self.flow.replay(answers)
        if walk.done:
            await self.leave(ctx)
            return await self.finished(ctx, walk, answered)
        await ctx.set_flow(self.flow.name, step=walk.current)
        return [self.step_reply(walk, answers)]

    async def intro(self, ctx: Ctx, answers: dict[str, str], template: str = "intro") -> list[Reply]:
        return [Reply(ctx.render(f"{self.flow.name}/{template}"))] + await self.show(ctx, answers)

    async def stale(self, ctx: Ctx, answers: dict[str, str]) -> list[Reply]:
        return [Reply(ctx.render(f"{self.flow.name}/stale"))] + await self.show(ctx, answers)

    # --- handlers -----------------------------------------------------------------------------
    async def enter(self, ctx: Ctx, answers: dict[str, str]) -> list[Reply]:
        """Open the flow: the intro and first question, the result when done, else where the user stopped."""
        walk = self.flow.replay(answers)
        if not walk.given:
            return await self.intro(ctx, answers)
        if walk.done:
            await self.leave(ctx)
            return await self.finished(ctx, walk, False)
        await ctx.set_flow(self.flow.name, step=walk.current)
        return [self.resume(walk, answers)]

    async def answer(self, ctx: Ctx, node: str, option: str) -> list[Reply]:
        """Record an answer to the current node; anything else is a stale tap."""
        answers = await self.answers(ctx)
        walk = self.flow.replay(answers)
        if walk.given.get(node) == option:                 # the same answer again (double tap, old message)
            return await self.show(ctx, answers)
        if node != walk.current or option not in self.flow.options(node, walk.given):
            return await self.stale(ctx, answers)
        await self.save(ctx, answers, node, option)
        return await self.show(ctx, answers, answered=True)

    async def back(self, ctx: Ctx, node: str) -> list[Reply]:
        """'Quay lại': forget the answer before the current step and ask it again."""
        answers = await self.answers(ctx)
        walk = self.flow.replay(answers)
        if node != walk.current:
            return await self.stale(ctx, answers)
        if prev := walk.previous():
            await self.forget(ctx, answers, prev)
        return await self.show(ctx, answers)

    async def on_callback(self, ctx: Ctx, msg: Incoming) -> list[Reply]:
        action, *rest = msg.callback.split(":")[1:] or [""]
        if action == "a" and len(rest) == 2:
            return await self.answer(ctx, rest[0], rest[1])
        if action == "back" and len(rest) == 1:
            return await self.back(ctx, rest[0])
        if action == "reset" and rest == ["ok"]:
            await self.forget(ctx, {})
            return await self.intro(ctx, {})
        if action == "reset" and not rest:
            return [self.reset_confirm_reply()]
        if action in self.actions and (out := await self.actions[action](ctx, rest)) is not None:
            return out
        answers = await self.answers(ctx)
        if action == "cont":
            return await self.show(ctx, answers)
        return await self.stale(ctx, answers)

    async def on_text(self, ctx: Ctx, msg: Incoming) -> list[Reply]:
        """Text in the flow: 'quay lại', the feature's hook, otherwise a FAQ digression and a way back."""
        answers = await self.answers(ctx)
        walk = self.flow.replay(answers)
        if walk.done:
            await ctx.clear_flow()
            return await faq_digression(ctx, msg)
        if not msg.text:
            return [Reply(ctx.render("errors/unsupported")), self.digression_reply(answers)]
        if fold(msg.text).strip(" .!") == "quay lai":
            return await self.back(ctx, walk.current)
        if self.typed is not None and (out := await self.typed(ctx, walk, msg)) is not None:
            return out
        return await faq_digression(ctx, msg) + [self.digression_reply(answers)]

    def register(self, router) -> None:
        router.callback(self.ns, self.on_callback)
        router.flow(self.flow.name, self.on_text, keeps_answers=True)
