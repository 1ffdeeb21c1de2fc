"""pip wheels that load system libraries a slim base image does not have."""

from __future__ import annotations

from conda2docker.names import canonical
from conda2docker.values import frozen


@frozen
class SystemNeed:
    """The Debian packages a conda package's wheel or build needs from the system."""
    apt: tuple[str, ...]
    """Debian packages the runtime stage must install."""
    libraries: str
    """What fails without them, as users see it."""
    alternative: str = ""
    """A package swap that avoids the system libraries, if one exists."""


_GUI_QT = SystemNeed(
    ("libgl1", "libegl1", "libglib2.0-0", "libfontconfig1", "libxkbcommon-x11-0", "libdbus-1-3"),
    "libGL.so.1, libEGL.so.1, libxkbcommon-x11.so.0",
)
_OPENCV = SystemNeed(
    ("libgl1", "libglib2.0-0"), "libGL.so.1, libgthread-2.0.so.0", "use opencv-python-headless"
)
_OPENCV_CONTRIB = SystemNeed(_OPENCV.apt, _OPENCV.libraries, "use opencv-contrib-python-headless")

TABLE: dict[str, SystemNeed] = {
    "opencv-python": _OPENCV,
    "opencv-contrib-python": _OPENCV_CONTRIB,
    "pyside2": _GUI_QT,
    "pyside6": _GUI_QT,
    "pyqt5": _GUI_QT,
    "pyqt6": _GUI_QT,
    "pyaudio": SystemNeed(("libportaudio2",), "libportaudio.so.2"),
    "sounddevice": SystemNeed(("libportaudio2",), "libportaudio.so.2"),
    "mujoco": SystemNeed(("libgl1", "libegl1", "libosmesa6"), "libGL.so.1 / libOSMesa.so (rendering)"),
    "dm-control": SystemNeed(("libgl1", "libegl1", "libosmesa6"), "libGL.so.1 / libOSMesa.so (rendering)"),
    "pyrender": SystemNeed(("libgl1", "libosmesa6"), "libGL.so.1 / libOSMesa.so"),
    "pyopengl": SystemNeed(("libgl1",), "libGL.so.1"),
    "vtk": SystemNeed(("libgl1", "libxrender1"), "libGL.so.1, libXrender.so.1"),
    "pyvista": SystemNeed(("libgl1", "libxrender1"), "libGL.so.1, libXrender.so.1"),
    "open3d": SystemNeed(("libgl1", "libgomp1"), "libGL.so.1, libgomp.so.1"),
    "lightgbm": SystemNeed(("libgomp1",), "libgomp.so.1"),
    "python-magic": SystemNeed(("libmagic1",), "libmagic.so.1"),
    "pdf2image": SystemNeed(("poppler-utils",), "pdftoppm"),
    "pytesseract": SystemNeed(("tesseract-ocr",), "tesseract"),
    "pydub": SystemNeed(("ffmpeg",), "ffmpeg"),
    "ffmpeg-python": SystemNeed(("ffmpeg",), "ffmpeg"),
    "psycopg2": SystemNeed(("libpq5",), "libpq.so.5", "use psycopg2-binary or psycopg[binary]"),
    "mysqlclient": SystemNeed(("libmariadb3",), "libmariadb.so.3"),
    "pyodbc": SystemNeed(("unixodbc",), "libodbc.so.2"),
    "weasyprint": SystemNeed(("libpango-1.0-0", "libpangoft2-1.0-0"), "libpango-1.0.so.0"),
    "cairosvg": SystemNeed(("libcairo2",), "libcairo.so.2"),
    "cairocffi": SystemNeed(("libcairo2",), "libcairo.so.2"),
    "graphviz": SystemNeed(("graphviz",), "the dot executable"),
    "pygraphviz": SystemNeed(("libgvc6",), "libgvc.so.6"),
}


def system_need(pip_name: str) -> SystemNeed | None:
    return TABLE.get(canonical(pip_name))
