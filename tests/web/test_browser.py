"""The page in a real browser: Debian's chromium, headless, driven by selenium with real
pointer and key events. Drag the slider, accept, undo, reload; kill the server mid-session and
start it again on the same database. Screenshots go to build/web-test/."""

import io
import os
import shutil
import tempfile
import time

import numpy as np
import pytest
from PIL import Image
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from harness import OUT, Client, Server

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--window-size=1200,800"]


def chromium(tmp):
    """Headless chromium with a new, empty profile under tmp (we may run as root)."""
    profile = os.path.join(tmp, "profile")
    os.makedirs(profile)
    opts = webdriver.ChromeOptions()
    for flag in FLAGS + [f"--user-data-dir={profile}"]:
        opts.add_argument(flag)
    opts.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    driver = webdriver.Chrome(service=Service(shutil.which("chromedriver")
                                              or "/usr/bin/chromedriver"), options=opts)
    driver.set_page_load_timeout(30)
    driver.set_script_timeout(30)
    return driver


@pytest.fixture(scope="module")
def env():
    tmp = tempfile.mkdtemp(prefix="dss-web-browser-")
    driver = chromium(tmp)
    server = Server(os.path.join(tmp, "sessions.sqlite3"), name="browser")
    box = {"server": server, "db": os.path.join(tmp, "sessions.sqlite3")}
    yield driver, box
    driver.quit()
    box["server"].stop()
    shutil.rmtree(tmp, ignore_errors=True)


def wait(driver, cond, what, timeout=20):
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        value = driver.execute_script(cond)
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}; message: "
                         f"{driver.find_element(By.ID, 'message').text!r}")


def version(driver):
    return driver.execute_script("return window.studio.state && window.studio.state.version")


def wait_version(driver, v):
    wait(driver, f"return window.studio.state && window.studio.state.version === {v} "
                 "&& !document.body.dataset.busy", f"version {v}")


def shot(driver, name):
    """The large image's pixels (the element's screenshot), saved as build/web-test/NAME."""
    png = driver.find_element(By.ID, "current").screenshot_as_png
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, name), "wb") as fh:
        fh.write(png)
    return np.asarray(Image.open(io.BytesIO(png)).convert("L"), dtype=np.float64)


def cells(shot_pixels):
    """The 28 x 28 image shown in a screenshot of the large image (392 px, 1 px border,
    pixelated scaling): each cell's centre pixel."""
    inner = shot_pixels.shape[0] - 2
    idx = 1 + ((np.arange(28) + 0.5) * inner / 28).astype(int)
    return shot_pixels[np.ix_(idx, idx)]


def server_image(client, t):
    """The server's 28 x 28 image at slider position t (the download, scaled 10x)."""
    status, _, png = client.request("GET", f"/api/download/image.png?t={t}")
    assert status == 200
    return np.asarray(Image.open(io.BytesIO(png)), dtype=np.float64)[::10, ::10]


def slider_value(driver):
    return int(driver.find_element(By.ID, "slider").get_attribute("value"))


def drag(driver, dx, steps=12):
    """Press on the slider's thumb (its middle), move by dx pixels in steps, release."""
    slider = driver.find_element(By.ID, "slider")
    chain = ActionChains(driver, duration=30)
    chain.click_and_hold(slider)
    for _ in range(steps):
        chain.move_by_offset(dx / steps, 0)
    chain.release()
    chain.perform()


def test_page_session(env):
    driver, box = env
    server = box["server"]
    driver.get(server.url + "/")
    wait_version(driver, 1)
    assert slider_value(driver) == 500
    first = driver.execute_script("return window.studio.state.z")
    body = driver.find_element(By.TAG_NAME, "body")

    # drag right with real pointer events, past the slider's end: previews arrive while
    # dragging, and the large image shows the server's image at the released position. Some
    # directions change a garment only faintly; then "Another direction" (the button) until
    # one changes at least 5 pixels by more than 10 grey levels (at most 6 tries).
    for attempt in range(6):
        v = version(driver)
        before = shot(driver, "01-start.png")
        drag(driver, 400)
        value = slider_value(driver)
        assert value == 1000, value
        wait(driver, f"return Math.abs(Number(document.getElementById('current').dataset.t)"
                     f" - {value / 1000}) < 1e-9", "the preview of the released position")
        assert driver.execute_script("return window.studio.previews") >= 1
        after = shot(driver, "02-dragged.png")
        api = api_client(driver, server)
        expect_before, expect_after = server_image(api, 0.5), server_image(api, 1.0)
        api.close()
        assert np.abs(cells(before) - expect_before).max() <= 2
        assert np.abs(cells(after) - expect_after).max() <= 2
        moved = np.abs(expect_after - expect_before) > 10  # the pixels the slider changes
        if moved.sum() >= 5:
            break
        driver.find_element(By.ID, "another").click()
        wait_version(driver, v + 1)
        assert slider_value(driver) == 500
    else:
        raise AssertionError("six directions in a row barely change the image")
    assert np.all(np.abs(cells(after) - cells(before))[moved] > 6)

    # keyboard: an arrow moves the slider by 20/1000
    body.send_keys(Keys.ARROW_LEFT)
    assert slider_value(driver) == value - 20
    t_accept = (value - 20) / 1000

    # accept (the button): the centre moves to the slider's point, history gains an image
    expected = driver.execute_script(
        "return fetch('/api/download/latent.json?t=' + arguments[0]).then(r => r.json())",
        t_accept)
    driver.find_element(By.ID, "accept").click()
    wait_version(driver, v + 1)
    state = driver.execute_script("return window.studio.state")
    assert state["accepted"] == 1 and state["z"] == expected["z"]
    assert len(driver.find_elements(By.CSS_SELECTOR, "#history img")) == 1
    assert slider_value(driver) == 500
    accepted_img = shot(driver, "03-accepted.png")  # the slider's middle is the new centre
    api = api_client(driver, server)
    assert np.abs(cells(accepted_img) - server_image(api, 0.5)).max() <= 2
    api.close()

    # undo (the key u): back to the start
    body.send_keys("u")
    wait_version(driver, v + 2)
    state = driver.execute_script("return window.studio.state")
    assert state["z"] == first and state["accepted"] == 0
    assert len(driver.find_elements(By.CSS_SELECTOR, "#history img")) == 0

    # Enter accepts, n draws another direction
    drag(driver, -90)
    body.send_keys(Keys.ENTER)
    wait_version(driver, v + 3)
    ends_before = driver.execute_script("return window.studio.state.ends")
    body.send_keys("n")
    wait_version(driver, v + 4)
    state = driver.execute_script("return window.studio.state")
    assert state["accepted"] == 1 and state["ends"] != ends_before

    # three more accepts with the keyboard alone: the history strip grows
    for k in range(3):
        body.send_keys(Keys.SHIFT + Keys.ARROW_RIGHT)  # shift: a step of 100/1000
        body.send_keys(Keys.ENTER)
        wait_version(driver, v + 5 + k)
    state = driver.execute_script("return window.studio.state")
    assert state["accepted"] == 4 and len(state["history"]) == 4

    # move the slider, then reload: the same session, the same slider position
    drag(driver, 60)
    kept = slider_value(driver)
    driver.refresh()
    wait_version(driver, v + 7)
    again = driver.execute_script("return window.studio.state")
    assert again["z"] == state["z"] and again["history"] == state["history"]
    assert slider_value(driver) == kept
    href = driver.find_element(By.ID, "dl-latent").get_attribute("href")
    assert href.endswith(f"/api/download/latent.json?t={kept / 1000:.3f}"), href
    driver.save_screenshot(os.path.join(OUT, "studio.png"))

    # Reset starts from another garment; undo brings the session back
    driver.find_element(By.ID, "reset").click()
    wait_version(driver, v + 8)
    assert driver.execute_script("return window.studio.state.accepted") == 0
    assert len(driver.find_elements(By.CSS_SELECTOR, "#history img")) == 0
    driver.find_element(By.TAG_NAME, "body").send_keys("u")  # a new page since the reload
    wait_version(driver, v + 9)
    assert driver.execute_script("return window.studio.state.z") == state["z"]
    assert len(driver.find_elements(By.CSS_SELECTOR, "#history img")) == 4


def api_client(driver, server):
    return Client(server.port, sid=driver.get_cookie("dss_session")["value"])


def test_server_restart_mid_session(env):
    driver, box = env
    old = box["server"]
    v = version(driver)
    accepted = driver.execute_script("return window.studio.state.accepted")
    z = driver.execute_script("return window.studio.state.z")
    old.kill()  # SIGKILL, mid-session
    drag(driver, -50)  # previews fail: the page says so and keeps the wish
    wait(driver, "return document.getElementById('message').textContent"
                 ".startsWith('cannot reach')", "the page to notice")
    wanted = slider_value(driver)
    box["server"] = Server(box["db"], port=old.port, name="browser-restarted")
    # the page retries by itself and shows the preview of where the slider is
    wait(driver, f"return Math.abs(Number(document.getElementById('current').dataset.t) - "
                 f"{wanted / 1000}) < 1e-9", "the preview after the restart", timeout=30)
    assert version(driver) == v
    assert driver.find_element(By.ID, "message").text == ""
    driver.find_element(By.ID, "accept").click()
    wait_version(driver, v + 1)
    state = driver.execute_script("return window.studio.state")
    assert state["accepted"] == accepted + 1 and state["z"] != z
    driver.refresh()
    wait_version(driver, v + 1)
    assert driver.execute_script("return window.studio.state.z") == state["z"]


def test_damaged_row_in_the_browser(env):
    """A corrupt row: the page shows a clear message and a fresh session, not an error page."""
    import sqlite3
    driver, box = env
    with sqlite3.connect(box["db"], timeout=30) as con:
        con.execute("UPDATE sessions SET state = X'00'")
    driver.refresh()
    wait(driver, "return window.studio.state && window.studio.state.version === 1",
         "a fresh session")
    msg = driver.find_element(By.ID, "message").text
    assert "damaged" in msg and "new session" in msg, msg
    assert driver.execute_script("return window.studio.state.accepted") == 0


def block_api(driver, blocked):
    """Make the page's requests to /api/ fail as if the network were down (DevTools)."""
    driver.execute_cdp_cmd("Network.enable", {})
    driver.execute_cdp_cmd("Network.setBlockedURLs", {"urls": ["*/api/*"] if blocked else []})


def message(driver):
    return driver.find_element(By.ID, "message").text


def test_slider_memory_is_per_session(env):
    """The slider's position is remembered per session and version: a new session at version
    1 (the cookie gone) starts at the middle, not where another session's version 1 was."""
    driver, box = env
    wait_version(driver, 1)
    first = driver.execute_script("return window.studio.state.session")
    drag(driver, 120)
    assert slider_value(driver) != 500
    driver.refresh()  # the same session: the same position
    wait_version(driver, 1)
    kept = slider_value(driver)
    assert kept != 500
    driver.delete_cookie("dss_session")
    driver.refresh()
    wait(driver, f"return window.studio.state && window.studio.state.session !== '{first}'",
         "a new session")
    assert version(driver) == 1 and slider_value(driver) == 500


def test_stale_tab_drag_shows_the_current_state(env):
    """Another tab accepts; dragging in this (stale) one shows a message and the session's
    current state at once, instead of no preview until Accept gets a 409."""
    driver, box = env
    wait_version(driver, 1)
    other = api_client(driver, box["server"])
    status, state = other.json("POST", "/api/accept", {"t": 0.9, "version": 1})
    other.close()
    assert status == 200
    drag(driver, -100)
    wait_version(driver, 2)
    assert "another window or tab" in message(driver)
    assert driver.execute_script("return window.studio.state.z") == state["z"]
    # the rest of the drag previews the current state: the image follows the slider again
    wait(driver, "const v = Number(document.getElementById('slider').value); return v === 500"
                 " || Math.abs(Number(document.getElementById('current').dataset.t) - v / 1000)"
                 " < 1e-9", "a preview of the current state")


def test_failed_first_load_recovers_by_itself(env):
    driver, box = env
    block_api(driver, True)
    try:
        driver.refresh()
        wait(driver, "return document.getElementById('message').textContent"
                     ".startsWith('cannot reach')", "the page to say it cannot reach")
        assert driver.execute_script("return window.studio.state") is None
        time.sleep(1.5)
    finally:
        block_api(driver, False)
    wait(driver, "return window.studio.state && window.studio.state.version === 2",
         "the session after the outage", timeout=20)
    wait(driver, "return document.getElementById('message').textContent === ''",
         "the message to go")


def test_outage_recovers_by_itself(env):
    driver, box = env
    wait_version(driver, 2)
    reconnects = driver.execute_script("return window.studio.reconnects")
    block_api(driver, True)
    try:
        driver.find_element(By.ID, "accept").click()
        wait(driver, "return document.getElementById('message').textContent"
                     ".startsWith('cannot reach')", "the page to say it cannot reach")
        time.sleep(1.5)
    finally:
        block_api(driver, False)
    wait(driver, f"return window.studio.reconnects > {reconnects} && "
                 "document.getElementById('message').textContent === ''",
         "the page to reconnect", timeout=20)
    assert version(driver) == 2
    driver.find_element(By.ID, "accept").click()
    wait_version(driver, 3)


def test_page_on_gunicorn_and_postgresql(env, postgres):
    """The production setup in the browser: the page served by gunicorn (wsgi.py) on
    PostgreSQL starts its session, previews a drag, accepts, and finds it all after a reload
    (the CSP, the same-origin checks and the cookie as a browser meets them there)."""
    from harness import Gunicorn
    driver, box = env
    postgres.reset()
    g = Gunicorn(postgres.url, name="browser-gunicorn", workers=1, threads=4)
    try:
        driver.get(g.url + "/")
        wait_version(driver, 1)
        drag(driver, 150)
        value = slider_value(driver)
        wait(driver, f"return Math.abs(Number(document.getElementById('current').dataset.t)"
                     f" - {value / 1000}) < 1e-9", "the preview")
        driver.find_element(By.ID, "accept").click()
        wait_version(driver, 2)
        z = driver.execute_script("return window.studio.state.z")
        driver.refresh()
        wait_version(driver, 2)
        assert driver.execute_script("return window.studio.state.z") == z
        assert message(driver) == ""
        assert postgres.sql("SELECT version FROM sessions") == [(2,)]
    finally:
        g.stop()
