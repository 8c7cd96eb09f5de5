"""The gallery mode in a real browser (issue 20 item 3): Debian's chromium, headless, driven by
selenium with real pointer and key events. Switch to the gallery, click a cell (the current
image becomes that cell's image, the count of accepted images grows), move the highlight with
the arrow keys, zoom with z and with shift+click, zoom out with Esc, accept with Enter, undo
with u and with the button. The screenshot goes to build/web-test/gallery.png (and to
docs/web-gallery.png with WEB_SCREENSHOT_DOCS=1)."""

import os
import shutil
import tempfile

import numpy as np
import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from harness import OUT, TREE, Client, Server
from test_browser import chromium, wait, wait_version  # the same browser and waits


@pytest.fixture(scope="module")
def env():
    tmp = tempfile.mkdtemp(prefix="dss-web-gallery-browser-")
    driver = chromium(tmp)
    server = Server(os.path.join(tmp, "sessions.sqlite3"), name="browser-gallery")
    yield driver, server
    driver.quit()
    server.stop()
    shutil.rmtree(tmp, ignore_errors=True)


def state(driver):
    return driver.execute_script("return window.studio.state")


def cell_pixels(driver, i):
    return np.array(driver.execute_script(f"return window.studio.cellPixels({i})"),
                    dtype=np.int32).reshape(28, 28)


def current_pixels(driver):
    """The large image's pixels; waits until the image has loaded its newest source."""
    wait(driver, "const c = document.getElementById('current'); return c.complete && "
                 "c.naturalWidth === 28", "the current image")
    return np.array(driver.execute_script("return window.studio.currentPixels()"),
                    dtype=np.int32).reshape(28, 28)


def wait_grid(driver, version, cx=0, cy=0, h=1):
    """Until the gallery shows the grid of ``version`` over the square (cx, cy, h), drawn."""
    key = f"{version}:{cx}:{cy}:{h}"
    wait(driver, f"return document.getElementById('gallery').dataset.drawn === '{key}' && "
                 "!document.body.dataset.busy", f"the grid {key}")


def highlighted(driver):
    return driver.execute_script("return window.studio.highlighted")


def cell(driver, i):
    return driver.find_elements(By.CSS_SELECTOR, "#gallery canvas")[i]


def test_gallery_in_the_browser(env):
    driver, server = env
    driver.get(server.url + "/")
    wait_version(driver, 1)
    assert state(driver)["mode"] == "slider"
    assert not driver.find_element(By.ID, "gallery").is_displayed()
    original = current_pixels(driver)
    body = driver.find_element(By.TAG_NAME, "body")

    # m: the gallery mode, 5 x 5 previews; the middle one is the current image
    body.send_keys("m")
    wait_version(driver, 2)
    wait_grid(driver, 2)
    s = state(driver)
    assert s["mode"] == "gallery" and s["accepted"] == 0
    assert driver.find_element(By.ID, "gallery").is_displayed()
    assert not driver.find_element(By.ID, "slider").is_displayed()
    assert len(driver.find_elements(By.CSS_SELECTOR, "#gallery canvas")) == 25
    assert highlighted(driver) == 12
    cells = [cell_pixels(driver, i) for i in range(25)]
    assert np.abs(cells[12] - original).max() <= 1
    # the grid shows change across the plane; a plane that barely changes the garment (the
    # session's seed is random) is replaced: n, another plane, at most 5 times
    for attempt in range(6):
        change = [np.abs(c - cells[12]).max() for c in cells]
        if max(change) > 40:
            break
        v = state(driver)["version"]
        body.send_keys("n")
        wait_version(driver, v + 1)
        wait_grid(driver, v + 1)
        cells = [cell_pixels(driver, i) for i in range(25)]
    else:
        raise AssertionError(f"six planes in a row barely change the image: {change}")
    s = state(driver)
    v = s["version"]

    # a real pointer click on the cell most unlike the current image: it is accepted
    pick = int(np.argmax(change))
    w = s["grid"]["weights"][pick]
    expected = driver.execute_script(
        "return fetch('/api/download/latent.json?w=' + arguments[0].join(',')).then("
        "r => r.json())", w)
    ActionChains(driver).move_to_element(cell(driver, pick)).click().perform()
    wait_version(driver, v + 1)
    wait_grid(driver, v + 1)
    s = state(driver)
    assert s["accepted"] == 1 and s["z"] == expected["z"]
    assert "accepted 1 " in driver.find_element(By.ID, "status").text
    after_click = current_pixels(driver)
    assert np.abs(after_click - cells[pick]).max() <= 1       # the clicked cell's image
    assert np.abs(after_click - original).max() > 40          # not the old one
    assert np.abs(cell_pixels(driver, 12) - after_click).max() <= 1  # the new middle
    assert len(driver.find_elements(By.CSS_SELECTOR, "#history img")) == 1
    driver.save_screenshot(os.path.join(OUT, "gallery-clicked.png"))

    # keys: right, up: the highlight moves to row 1, column 3 (w = (0.5, 0.5)); z zooms
    # around it (half the width: the middle cell of the new grid), Esc zooms back out
    body.send_keys(Keys.ARROW_RIGHT)
    body.send_keys(Keys.ARROW_UP)
    assert highlighted(driver) == 8
    before_zoom = cell_pixels(driver, 8)
    body.send_keys("z")
    wait_grid(driver, v + 1, 0.5, 0.5, 0.5)
    assert highlighted(driver) == 12
    assert np.abs(cell_pixels(driver, 12) - before_zoom).max() <= 1
    assert state(driver)["version"] == v + 1  # zooming writes nothing
    body.send_keys(Keys.ESCAPE)
    wait_grid(driver, v + 1)
    assert highlighted(driver) == 8

    # zoom again, then a step left (w = (0.25, 0.5)), Enter accepts it
    body.send_keys("z")
    wait_grid(driver, v + 1, 0.5, 0.5, 0.5)
    body.send_keys(Keys.ARROW_LEFT)
    assert highlighted(driver) == 11
    chosen = cell_pixels(driver, 11)
    assert driver.execute_script("return window.studio.grid.weights[11]") == [0.25, 0.5]
    body.send_keys(Keys.ENTER)
    wait_version(driver, v + 2)
    wait_grid(driver, v + 2)
    assert state(driver)["accepted"] == 2
    after_enter = current_pixels(driver)
    assert np.abs(after_enter - chosen).max() <= 1

    # shift+click (a real pointer) zooms around the top-left cell: the square is kept
    # inside [-1, 1]^2, so it centres at (-0.5, 0.5) and the cell stays highlighted
    body.send_keys(Keys.ARROW_RIGHT)  # the screenshot for the docs: a highlight off-centre
    body.send_keys(Keys.ARROW_UP)
    body.send_keys(Keys.ARROW_UP)
    ActionChains(driver).move_to_element(driver.find_element(By.TAG_NAME, "h1")).perform()
    shot = os.path.join(OUT, "gallery.png")
    driver.save_screenshot(shot)
    if os.environ.get("WEB_SCREENSHOT_DOCS") == "1":
        shutil.copy(shot, os.path.join(TREE, "docs", "web-gallery.png"))
    corner = cell_pixels(driver, 0)
    (ActionChains(driver).key_down(Keys.SHIFT).move_to_element(cell(driver, 0)).click()
     .key_up(Keys.SHIFT).perform())
    wait_grid(driver, v + 2, -0.5, 0.5, 0.5)
    assert highlighted(driver) == 0
    assert np.abs(cell_pixels(driver, 0) - corner).max() <= 1
    assert state(driver)["version"] == v + 2

    # u undoes the Enter (the grid goes back to the whole plane), the Undo button the click
    body.send_keys("u")
    wait_version(driver, v + 3)
    wait_grid(driver, v + 3)
    assert state(driver)["accepted"] == 1
    assert np.abs(current_pixels(driver) - after_click).max() <= 1
    ActionChains(driver).move_to_element(driver.find_element(By.ID, "undo")).click().perform()
    wait_version(driver, v + 4)
    wait_grid(driver, v + 4)
    s = state(driver)
    assert s["accepted"] == 0 and s["mode"] == "gallery"
    assert np.abs(current_pixels(driver) - original).max() <= 1
    assert len(driver.find_elements(By.CSS_SELECTOR, "#history img")) == 0

    # the mode button: back to the slider, at the same image
    driver.find_element(By.ID, "mode").click()
    wait_version(driver, v + 5)
    assert state(driver)["mode"] == "slider"
    assert driver.find_element(By.ID, "slider").is_displayed()
    assert not driver.find_element(By.ID, "gallery").is_displayed()
    assert np.abs(current_pixels(driver) - original).max() <= 1


def test_another_tab_switches_the_mode(env):
    """Another tab switched the session to the slider: this tab's zoom gets the 409 with
    the current state, shows it and says why."""
    driver, server = env
    body = driver.find_element(By.TAG_NAME, "body")
    v = state(driver)["version"]
    body.send_keys("m")
    wait_version(driver, v + 1)
    wait_grid(driver, v + 1)
    other = Client(server.port, sid=driver.get_cookie("dss_session")["value"])
    status, _ = other.json("POST", "/api/mode", {"mode": "slider", "version": v + 1})
    other.close()
    assert status == 200
    body.send_keys("z")
    wait_version(driver, v + 2)
    assert state(driver)["mode"] == "slider"
    assert "another window or tab" in driver.find_element(By.ID, "message").text
    assert driver.find_element(By.ID, "slider").is_displayed()
