"""The officers' web console's shared layer: app factory, sessions and sign-in, CSRF, layout, errors.

Pages live with their feature (handlers/console/…) and register through `WebRoutes` (core/web/app.py).
"""
