"""Channel adapters: they turn platform updates into core.messages.Incoming and render Replies.

No business logic lives here. Each adapter exposes:
    name: str                          (identity channel name)
    sender                             (delivery.senders.Sender for proactive messages)
    async start(runtime) / async stop()
    add_routes(web_app)                (webhook mode, optional)
This module is also the registry that builds the configured adapters.
"""
from __future__ import annotations


def make_zalo_channel(runtime):
    """The configured Zalo adapter (settings.zalo_mode)."""
    mode = runtime.settings.zalo_mode
    if mode == "bot":
        from channels.zalo_bot import ZaloBotChannel
        return ZaloBotChannel(runtime)
    if mode == "oa":
        from channels.zalo_oa import ZaloOAChannel
        return ZaloOAChannel(runtime)
    raise ValueError(f"ZALO_MODE must be 'bot' or 'oa', not {mode!r}")


def zalo_standalone_sender(settings, sessionmaker):
    """(sender, close) for a process that sends but does not receive Zalo messages
    (e.g. `bot.py broadcast`): the same adapter and rules, without webhook or polling."""
    from types import SimpleNamespace
    runtime = SimpleNamespace(settings=settings, core=SimpleNamespace(sessionmaker=sessionmaker))
    channel = make_zalo_channel(runtime)
    return channel.sender, channel.stop
