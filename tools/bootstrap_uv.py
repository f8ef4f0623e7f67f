#!/usr/bin/env python3
"""Make sure a recent enough `uv` exists, without sudo and without touching any Python install.

    python3 tools/bootstrap_uv.py VERSION BIN_DIR        # what `make` runs (`make uv`)

When `uv` on PATH is at least VERSION's minor release, nothing happens. Otherwise the uv wheel of
VERSION for this platform is downloaded from the package index (PyPI, or $UV_BOOTSTRAP_INDEX_URL /
$PIP_INDEX_URL: any PEP 503/691 simple index, `file://` included), its sha256 is checked against
the index, and the `uv` and `uvx` binaries it carries are extracted into BIN_DIR (the Makefile puts
BIN_DIR first on PATH). No pip, no venv, no ensurepip: this works with the bare `python3` of a
fresh Debian/Ubuntu (PEP 668, no python3-venv) and of macOS. Standard library only, Python 3.8+.
"""

import hashlib
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import urllib.parse
import urllib.request
import zipfile
from html.parser import HTMLParser

DEFAULT_INDEX = "https://pypi.org/simple"
INSTALL_DOCS = "https://docs.astral.sh/uv/getting-started/installation/"
SIMPLE_JSON = "application/vnd.pypi.simple.v1+json"


def log(message):
    sys.stderr.write("bootstrap-uv: " + message + "\n")
    sys.stderr.flush()


def version_tuple(text):
    return tuple(int(part) for part in re.findall(r"\d+", text)[:3])


def installed_version(uv="uv"):
    """The version of `uv` on PATH, or None."""
    path = shutil.which(uv)
    if path is None:
        return None
    try:
        out = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    match = re.search(r"uv (\d+\.\d+\.\d+)", out)
    return match.group(1) if match else None


def good_enough(found, wanted):
    """A uv of the same minor release as `wanted`, or newer, reads this project's uv.lock."""
    return found is not None and version_tuple(found)[:2] >= version_tuple(wanted)[:2]


def platform_tags(system=None, machine=None, libc=None):
    """Wheel platform tags that run here, most preferred first (uv publishes these on PyPI)."""
    system = system or platform.system()
    machine = (machine or platform.machine()).lower()
    arch = {"amd64": "x86_64", "x64": "x86_64", "arm64": "aarch64"}.get(machine, machine)
    if system == "Darwin":
        return ["macosx_11_0_arm64"] if arch == "aarch64" else ["macosx_10_12_x86_64"]
    if system == "Linux":
        if libc is None:
            libc = platform.libc_ver()[0] or "musl"
        if libc == "glibc":
            return ["manylinux_2_17_" + arch, "manylinux2014_" + arch, "manylinux_2_28_" + arch]
        return ["musllinux_1_1_" + arch]
    raise SystemExit(f"bootstrap-uv: no uv wheel for {system}/{machine}; install uv yourself: {INSTALL_DOCS}")


def choose_wheel(files, version, tags):
    """The index entry ({filename, url, sha256}) of uv VERSION's wheel for the first matching tag."""
    wheels = [f for f in files if f["filename"].startswith(f"uv-{version}-") and f["filename"].endswith(".whl")]
    for tag in tags:
        for wheel in wheels:
            platform_part = wheel["filename"][:-len(".whl")].split("-")[-1]
            if tag in platform_part.split("."):
                return wheel
    raise SystemExit(f"bootstrap-uv: the index has no uv {version} wheel for {', '.join(tags)}")


class _Links(HTMLParser):
    def __init__(self):
        HTMLParser.__init__(self)
        self.links = []

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            self.links.append(dict(attrs).get("href", ""))


def parse_index(body, content_type, page_url):
    """Files of a simple-index project page, JSON (PEP 691) or HTML (PEP 503)."""
    files = []
    if content_type.startswith(SIMPLE_JSON) or body.lstrip().startswith("{"):
        for f in json.loads(body)["files"]:
            files.append({"filename": f["filename"], "url": urllib.parse.urljoin(page_url, f["url"]),
                          "sha256": f.get("hashes", {}).get("sha256")})
        return files
    parser = _Links()
    parser.feed(body)
    for href in parser.links:
        url, _, fragment = urllib.parse.urljoin(page_url, href).partition("#")
        sha256 = fragment[len("sha256="):] if fragment.startswith("sha256=") else None
        files.append({"filename": urllib.parse.unquote(url.rsplit("/", 1)[-1]), "url": url, "sha256": sha256})
    return files


def index_files(index):
    page = index.rstrip("/") + "/uv/"
    request = urllib.request.Request(page, headers={"Accept": SIMPLE_JSON + ", text/html;q=0.1"})
    if page.startswith("file:") and os.path.isdir(urllib.request.url2pathname(urllib.parse.urlparse(page).path)):
        page += "index.html"
        request = urllib.request.Request(page)
    with urllib.request.urlopen(request, timeout=60) as response:
        content_type = response.headers.get("Content-Type", "") if hasattr(response, "headers") else ""
        return parse_index(response.read().decode("utf-8"), content_type or "", page)


def download(url, destination, expected_sha256):
    """Download with a progress line, then check the hash; the file is removed when it differs."""
    digest = hashlib.sha256()
    with urllib.request.urlopen(url, timeout=120) as response, open(destination, "wb") as out:
        total = int(response.headers.get("Content-Length") or 0) if hasattr(response, "headers") else 0
        done, shown = 0, -10
        while True:
            chunk = response.read(1 << 16)
            if not chunk:
                break
            out.write(chunk)
            digest.update(chunk)
            done += len(chunk)
            if total and done * 100 // total >= shown + 10:
                shown = done * 100 // total
                log(f"downloaded {shown}% of {total / 1e6:.1f} MB")
    if expected_sha256 is None:
        raise SystemExit(f"bootstrap-uv: the index gives no sha256 for {url}; refusing an unverified download")
    if digest.hexdigest() != expected_sha256:
        os.remove(destination)
        raise SystemExit(f"bootstrap-uv: sha256 mismatch for {url}: got {digest.hexdigest()}, index says {expected_sha256}")


def extract(wheel_path, version, bin_dir):
    os.makedirs(bin_dir, exist_ok=True)
    with zipfile.ZipFile(wheel_path) as wheel:
        for name in ("uv", "uvx"):
            member = f"uv-{version}.data/scripts/{name}"
            target = os.path.join(bin_dir, name)
            with wheel.open(member) as source, open(target + ".tmp", "wb") as out:
                shutil.copyfileobj(source, out)
            os.chmod(target + ".tmp", 0o755)
            os.replace(target + ".tmp", target)  # atomic: a concurrent make never sees half a binary


def install(version, bin_dir, index=None):
    index = index or os.environ.get("UV_BOOTSTRAP_INDEX_URL") or os.environ.get("PIP_INDEX_URL") or DEFAULT_INDEX
    wheel = choose_wheel(index_files(index), version, platform_tags())
    source = urllib.parse.urlparse(wheel["url"]).netloc or "a local index"
    log(f"installing uv {version} into {bin_dir} ({wheel['filename']} from {source})")
    with tempfile.TemporaryDirectory() as scratch:
        path = os.path.join(scratch, wheel["filename"])
        download(wheel["url"], path, wheel["sha256"])
        extract(path, version, bin_dir)
    uv = os.path.join(bin_dir, "uv")
    log(f"uv {installed_version(uv)} ready: {uv}")


def main(argv):
    if len(argv) != 3:
        raise SystemExit(__doc__)
    version, bin_dir = argv[1], os.path.abspath(argv[2])
    found = installed_version()
    if good_enough(found, version):
        return 0
    if found:
        log(f"uv {found} on PATH is older than {version}; installing the pinned uv next to the project")
    try:
        install(version, bin_dir)
    except OSError as error:  # network, disk: one line, and what to do about it
        raise SystemExit(f"bootstrap-uv: {error} (or install uv yourself: {INSTALL_DOCS})") from None
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
