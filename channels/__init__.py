"""Channel adapters: they turn platform updates into core.messages.Incoming and render Replies.

No business logic lives here. Each adapter exposes:
    name: str                          (identity channel name)
    sender                             (delivery.senders.Sender for proactive messages)
    async start(runtime) / async stop()
    add_routes(web_app)                (webhook mode, optional)
"""
