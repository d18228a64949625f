"""Channel-neutral core of the OCOP assistant."""
