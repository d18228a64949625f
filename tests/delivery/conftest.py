"""The Telegram fixtures (fake Bot API with Telegram's flood limits, a running PTB bot) for delivery tests."""
from tests.telegram.conftest import start_bot, tg  # noqa: F401 (fixtures)
