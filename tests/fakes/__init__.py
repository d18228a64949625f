"""Fakes for remote services (real HTTP servers on 127.0.0.1). Only the remote side is faked."""
