"""The latent explorer in a real browser (issue 37, part 5): JupyterLab on 127.0.0.1 and headless Chromium
driven by Playwright run the generated `latent_explorer.ipynb`; the ipywidgets image must not be blank, and a
slider drag must change it.

Needs the `browser` extra (`jupyterlab`, `playwright`) and a Chromium executable (Debian's `chromium`
package; no Playwright browser download): `.ci/run` installs both and sets KERAS_AE_BROWSER_TEST=1, under
which anything missing fails the test instead of skipping it. Chromium is found as `chromium` on the PATH, or
at $KERAS_AE_CHROMIUM. The server, its kernel and the browser are stopped at the end, by process id.
"""

import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time

import pytest

from keras_ae import notebooks

pytestmark = pytest.mark.slow

SERVER_START = 120  # s: JupyterLab up and serving
RUN_AND_RENDER = 300  # s: the kernel starts, imports Keras, loads the zoo VAE and shows the explorer
IMAGE_CHANGE = 60  # s: a slider's value reaches the kernel and the new image comes back


def _missing(what):
    if os.environ.get("KERAS_AE_BROWSER_TEST") == "1":
        pytest.fail(f"the browser test needs {what} (KERAS_AE_BROWSER_TEST=1: .ci/run installs it)")
    pytest.skip(f"needs {what}")


def _chromium():
    path = os.environ.get("KERAS_AE_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not path or not os.path.exists(path):
        _missing("a Chromium executable (apt-get install chromium, or $KERAS_AE_CHROMIUM)")
    return path


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _descendants(pid):
    """Process ids under `pid` (Linux /proc): the server's kernels, which run in sessions of their own."""
    children = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


class JupyterLab:
    """`python -m jupyterlab` on 127.0.0.1 with a token, in a folder, with every Jupyter folder inside `home`."""

    def __init__(self, root, home, env):
        self.port, self.token = _free_port(), secrets.token_hex(16)
        env = {**env, "JUPYTER_CONFIG_DIR": str(home / "config"), "JUPYTER_DATA_DIR": str(home / "data"),
               "JUPYTER_RUNTIME_DIR": str(home / "runtime"), "JUPYTERLAB_SETTINGS_DIR": str(home / "settings"),
               "JUPYTERLAB_WORKSPACES_DIR": str(home / "workspaces"), "IPYTHONDIR": str(home / "ipython")}
        command = [sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1", f"--port={self.port}",
                   "--port-retries=0", f"--IdentityProvider.token={self.token}", f"--ServerApp.root_dir={root}",
                   # Nothing from the network: no news feed, no update check, no PyPI extension manager.
                   "--LabApp.news_url=None", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
                   "--LabApp.extension_manager=readonly"]
        if os.geteuid() == 0:  # CI containers run as root
            command.append("--allow-root")
        self.log = []
        self.proc = subprocess.Popen(command, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True, start_new_session=True)
        self.ready = threading.Event()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            self.log.append(line)
            if f"127.0.0.1:{self.port}/lab" in line:
                self.ready.set()

    def wait(self, timeout):
        start = time.monotonic()
        while not self.ready.wait(0.5):
            if self.proc.poll() is not None:
                pytest.fail(f"JupyterLab exited with code {self.proc.returncode}:\n{self.tail()}")
            if time.monotonic() - start > timeout:
                pytest.fail(f"JupyterLab did not start within {timeout} s:\n{self.tail()}")
        return f"http://127.0.0.1:{self.port}"

    def tail(self, n=40):
        return "".join(self.log[-n:])

    def stop(self):
        """SIGTERM (the server shuts its kernels down), then SIGKILL for whatever of ours is left."""
        pids = _descendants(self.proc.pid)
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


# The widget image's pixels (grey, every 4th value of RGBA), read in the page.
PIXELS = """async (img) => {
    if (img.decode) { try { await img.decode(); } catch (e) { return null; } }
    if (!img.naturalWidth) return null;
    const c = document.createElement('canvas');
    c.width = img.naturalWidth; c.height = img.naturalHeight;
    const ctx = c.getContext('2d');
    ctx.drawImage(img, 0, 0);
    const d = ctx.getImageData(0, 0, c.width, c.height).data;
    const grey = [];
    for (let i = 0; i < d.length; i += 4) grey.push(d[i]);
    return {width: c.width, height: c.height, src: img.src, grey: grey};
}"""


def _outputs_text(page):
    return "\n".join(page.locator(".jp-OutputArea-output").all_inner_texts())[-3000:]


def test_the_explorer_notebook_draws_and_a_slider_changes_the_image(tmp_path):
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("playwright (pip install keras-ae[browser])")
    try:
        import jupyterlab  # noqa: F401
        import jupyterlab_widgets  # noqa: F401
    except ImportError:
        _missing("jupyterlab and jupyterlab_widgets (pip install keras-ae[browser])")
    chromium = _chromium()
    started = time.monotonic()
    root = tmp_path / "notebooks"
    notebooks.write_notebooks(str(root), ["latent_explorer"])
    env = {k: v for k, v in os.environ.items() if k not in ("MPLBACKEND", "DISPLAY", "KERAS_AE_MNIST")}
    env.update(KERAS_AE_ARGS=f"--quick --pretrained --out {tmp_path / 'figures'}",
               KERAS_HOME=str(tmp_path / "keras_home"), TF_CPP_MIN_LOG_LEVEL="3")
    server = JupyterLab(root, tmp_path / "jupyter", env)
    screenshot = tmp_path / "page.png"
    try:
        url = server.wait(SERVER_START)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium, headless=True)
            try:
                page = browser.new_page(viewport={"width": 1400, "height": 1000})
                page.set_default_timeout(60_000)
                page.goto(f"{url}/lab/tree/latent_explorer.ipynb?reset&token={server.token}")
                page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=120_000)
                _run_all_cells(page, screenshot)
                image = page.locator(".jp-OutputArea-output img.widget-image").first
                if not _wait_for_image(page, image, RUN_AND_RENDER):
                    page.screenshot(path=str(screenshot))
                    pytest.fail(f"no ipywidgets image within {RUN_AND_RENDER} s (is the jupyterlab_widgets "
                                f"front end installed?). Screenshot: {screenshot}. Outputs:\n{_outputs_text(page)}"
                                f"\nServer:\n{server.tail()}")
                before = _wait_for_pixels(page, image, None, 30)
                assert before is not None, f"the explorer's image is blank (no pixels). Screenshot: {screenshot}"
                grey = before["grey"]
                assert max(grey) - min(grey) > 50, (f"the explorer's image is blank (grey values {min(grey)}.."
                                                    f"{max(grey)}, {before['width']}x{before['height']})")
                slider = page.locator(".jp-OutputArea-output .widget-hslider .noUi-target").first
                handle = slider.locator(".noUi-handle").first
                slider.scroll_into_view_if_needed()  # the mouse acts in the viewport
                box, track = handle.bounding_box(), slider.bounding_box()
                page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
                page.mouse.down()
                page.mouse.move(track["x"] + 0.1 * track["width"], box["y"] + box["height"] / 2, steps=12)
                page.mouse.up()
                after = _wait_for_pixels(page, image, before["src"], IMAGE_CHANGE)
                if after is None:
                    page.screenshot(path=str(screenshot))
                    pytest.fail(f"moving the slider did not change the image within {IMAGE_CHANGE} s. "
                                f"Screenshot: {screenshot}. Outputs:\n{_outputs_text(page)}")
                changed = sum(a != b for a, b in zip(before["grey"], after["grey"]))
                assert changed > 0.01 * len(grey), f"the image barely changed ({changed} of {len(grey)} pixels)"
                errors = [t for t in page.locator(".jp-OutputArea-output").all_inner_texts() if "Traceback" in t]
                assert not errors, f"the notebook raised:\n{errors[0][-3000:]}"
            finally:
                browser.close()
    finally:
        server.stop()
    print(f"browser test: {time.monotonic() - started:.1f} s")


def _accept_dialog(page):
    """Accept a dialog JupyterLab shows (a "Select Kernel" one: the notebook's own kernel, python3)."""
    dialog = page.locator(".jp-Dialog .jp-Dialog-button.jp-mod-accept")
    if dialog.count() and dialog.first.is_visible():
        dialog.first.click()


def _run_all_cells(page, screenshot, timeout=120):
    """Wait for an idle kernel, then Run > Run All Cells until the first code cell runs ([*] or [1])."""
    idle = page.locator(".jp-StatusBar-TextItem", has_text="Idle")
    started = page.locator(".jp-CodeCell .jp-InputPrompt", has_text=re.compile(r"\[(\*|\d+)\]"))
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        _accept_dialog(page)
        if idle.count():
            page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
            page.locator(".lm-Menu-itemLabel", has_text="Run All Cells").first.click()
            for _ in range(20):
                _accept_dialog(page)
                if started.count():
                    return
                page.wait_for_timeout(500)
        page.wait_for_timeout(500)
    page.screenshot(path=str(screenshot))
    pytest.fail(f"the notebook's cells did not start running within {timeout} s. Screenshot: {screenshot}")


def _wait_for_image(page, image, timeout):
    """Whether the widget image shows within `timeout` s; a "Select Kernel" dialog on the way is accepted (the
    notebook's own kernel, python3)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if image.count() and image.is_visible():
            return True
        _accept_dialog(page)
        page.wait_for_timeout(500)
    return False


def _wait_for_pixels(page, image, old_src, timeout):
    """The image's pixels once its source is not `old_src` (any source if None); None after `timeout` s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pixels = image.evaluate(PIXELS)
        if pixels is not None and pixels["src"] != old_src:
            return pixels
        page.wait_for_timeout(250)
    return None
