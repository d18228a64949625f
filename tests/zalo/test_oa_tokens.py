"""OA OAuth tokens: persisted, rotated once, refreshed before expiry, never refreshed twice in parallel."""
import asyncio
from datetime import timedelta

from sqlalchemy import update

from channels.zalo_tokens import NAME, OATokens, TokenError
from storage.db import make_engine, make_sessionmaker
from storage.models import OAuthToken, utcnow
from tests.fakes.zalo_oa_api import FakeZaloOAAPI


async def _setup(make_settings, url):
    fake = await FakeZaloOAAPI().start()
    access, refresh = fake.issue_pair()
    settings = make_settings(url, zalo_oa_app_id=fake.app_id, zalo_oa_app_secret=fake.app_secret,
                             zalo_oa_access_token=access, zalo_oa_refresh_token=refresh,
                             zalo_oauth_url=fake.url, zalo_oa_api_url=fake.url)
    return fake, settings


async def test_fake_refuses_a_reused_refresh_token(make_settings, sqlite_url):
    fake, settings = await _setup(make_settings, sqlite_url)
    engine = make_engine(sqlite_url)
    try:
        tokens = OATokens(make_sessionmaker(engine), settings)
        first = await tokens.access_token()                       # seeded from the environment
        second = await tokens.refresh(bad=first)
        assert second != first and fake.refresh_calls == [settings.zalo_oa_refresh_token]
        # spending the environment's refresh token again is refused by Zalo (the fake)
        stale = OATokens(make_sessionmaker(engine), settings)
        async with make_sessionmaker(engine)() as s, s.begin():
            await s.execute(update(OAuthToken).values(refresh_token=settings.zalo_oa_refresh_token))
        try:
            await stale.refresh(bad=second)
            raise AssertionError("reused refresh token accepted")
        except TokenError as exc:
            assert "Invalid refresh token" in str(exc)
        assert fake.refused_refreshes == 1
    finally:
        await engine.dispose()
        await fake.stop()


async def test_two_processes_refresh_once(make_settings, db_url):
    fake, settings = await _setup(make_settings, db_url)
    fake.refresh_delay = 0.3
    engines = [make_engine(db_url), make_engine(db_url)]      # two "processes", two pools
    try:
        a, b = (OATokens(make_sessionmaker(e), settings) for e in engines)
        old = await a.access_token()
        assert await b.access_token() == old                     # seeded once, shared
        new_a, new_b = await asyncio.gather(a.refresh(bad=old), b.refresh(bad=old))
        assert new_a == new_b != old
        assert len(fake.refresh_calls) == 1 and fake.refused_refreshes == 0
        async with make_sessionmaker(engines[0])() as s:
            row = await s.get(OAuthToken, NAME)
            assert (row.version, row.access_token) == (1, new_a)
    finally:
        for e in engines:
            await e.dispose()
        await fake.stop()


async def test_refreshed_before_expiry_and_env_never_overwrites_rotation(make_settings, sqlite_url):
    fake, settings = await _setup(make_settings, sqlite_url)
    engine = make_engine(sqlite_url)
    sm = make_sessionmaker(engine)
    try:
        tokens = OATokens(sm, settings)
        seeded = await tokens.access_token()
        assert fake.refresh_calls == []                          # fresh: no refresh yet
        async with sm() as s, s.begin():
            await s.execute(update(OAuthToken).values(access_expires_at=utcnow() + timedelta(minutes=30)))
        rotated = await tokens.access_token()                    # < 1 h left: refreshed first
        assert rotated != seeded and len(fake.refresh_calls) == 1
        restarted = OATokens(sm, settings)                       # a restart with the old env values
        assert await restarted.access_token() == rotated and len(fake.refresh_calls) == 1
    finally:
        await engine.dispose()
        await fake.stop()


async def test_cli_connects_an_oa_with_pkce(make_settings, sqlite_url, capsys):
    from urllib.parse import parse_qs, urlparse

    from cli.zalo import cmd_auth, cmd_token
    fake, settings = await _setup(make_settings, sqlite_url)
    args = type("A", (), {"redirect_uri": "https://so-nn.example.vn/zalo/callback", "code": None,
                          "access": None, "refresh": None})
    try:
        assert await asyncio.to_thread(cmd_auth, args, settings) == 0
        url = [ln for ln in capsys.readouterr().out.splitlines() if "/v4/oa/permission?" in ln][0]
        q = parse_qs(urlparse(url).query)
        assert q["app_id"] == [fake.app_id] and q["redirect_uri"] == [args.redirect_uri]
        args.code = "wrong"
        assert await asyncio.to_thread(cmd_token, args, settings) == 1       # refused, nothing stored
        args.code = fake.authorize(q["code_challenge"][0])
        assert await asyncio.to_thread(cmd_token, args, settings) == 0
        assert "hết hạn lúc" in capsys.readouterr().out
        engine = make_engine(sqlite_url)
        async with make_sessionmaker(engine)() as s:
            row = await s.get(OAuthToken, NAME)
        await engine.dispose()
        assert fake.access.get(row.access_token) and fake.refresh_tokens.get(row.refresh_token)
    finally:
        await fake.stop()
