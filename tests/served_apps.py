"""Application factories that tests serve with uvicorn in a process of its own (conftest's
``served``): the served application with a route added for what a test needs."""

from evalplatform.web.app import create_served_app


def served_app_with_a_failing_page():
    """The served application with ``/boom``, a page whose handler fails unexpectedly."""
    app = create_served_app()

    @app.get("/boom")
    def boom():
        raise RuntimeError("a fault of the page's own, for the test")

    return app
