"""Front-end files come from this server (npm packages and the app's own), gzipped for a browser
that accepts it and revalidated by their ETag; pages are never compressed (BREACH)."""

import gzip

import pytest

GZIP = {"Accept-Encoding": "gzip"}
IDENTITY = {"Accept-Encoding": "identity"}


@pytest.mark.parametrize("path", ["/static/vendor/echarts/echarts.min.js",
                                  "/static/vendor/htmx/htmx.min.js",
                                  "/static/vendor/swagger-ui/swagger-ui-bundle.js",
                                  "/static/app/app.css"])
def test_a_file_travels_gzipped_to_a_browser_that_accepts_it(client, path):
    plain = client.get(path, headers=IDENTITY)
    assert plain.status_code == 200 and "content-encoding" not in plain.headers
    packed = client.get(path, headers=GZIP)
    assert packed.status_code == 200
    assert packed.headers["content-encoding"] == "gzip"
    assert "Accept-Encoding" in packed.headers["vary"]
    assert packed.content == plain.content  # httpx unpacks it: the same file
    assert packed.num_bytes_downloaded < plain.num_bytes_downloaded * 0.5


def test_the_largest_script_is_a_third_of_its_size_on_the_wire(client):
    raw = client.get("/static/vendor/echarts/echarts.min.js", headers=IDENTITY).content
    assert len(gzip.compress(raw, compresslevel=6)) < len(raw) / 2.5


def test_a_browser_holding_the_file_revalidates_it_by_its_etag(client):
    path = "/static/vendor/echarts/echarts.min.js"
    etag = client.get(path, headers=GZIP).headers["etag"]
    again = client.get(path, headers={**GZIP, "If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""


def test_a_small_file_and_a_page_are_sent_as_they_are(client):
    small = client.get("/static/app/results.js", headers=GZIP)  # under 1 KB
    assert small.status_code == 200 and "content-encoding" not in small.headers
    page = client.get("/login", headers=GZIP)  # carries the CSRF token
    assert page.status_code == 200 and "content-encoding" not in page.headers
