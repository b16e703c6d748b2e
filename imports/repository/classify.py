"""What a repository's file is: a name to refuse, a secret, binary, documentation, an overview.

Decisions are made on the path and mode first (nothing read), then on the bytes.
"""

import re
from pathlib import PurePosixPath

# Reasons a file is left out (SkippedFile.reason).
BAD_NAME = "bad_name"
SYMLINK = "symlink"
SUBMODULE = "submodule"
TOO_LARGE = "too_large"
BINARY = "binary"
SECRET = "secret"
LFS_POINTER = "lfs_pointer"
OVER_LIMIT = "over_limit"

DOCUMENT_SUFFIXES = frozenset({".md", ".markdown", ".mdx", ".rst", ".txt", ".adoc", ".asciidoc"})
# Markup that is documentation wherever it sits (plain .txt only under docs-like folders).
_MARKUP_SUFFIXES = DOCUMENT_SUFFIXES - {".txt"}
DOCS_FOLDERS = frozenset(
    {
        "doc",
        "docs",
        "documentation",
        "guide",
        "guides",
        "handbook",
        "manual",
        "tutorial",
        "tutorials",
        "wiki",
        "book",
        "articles",
        "content",
        "learn",
    }
)
# Folders whose Markdown is someone else's or machinery, not the project's documentation.
_NOT_DOCS_FOLDERS = frozenset({"node_modules", "vendor", "third_party", "site-packages"})
_NOT_DOCS_NAMES = re.compile(
    r"(?i)^(requirements.*|constraints.*|cmakelists|robots|license.*|copying.*|notice.*)\.txt$"
)
OVERVIEW_STEMS = frozenset(
    {
        "readme",
        "index",
        "overview",
        "introduction",
        "intro",
        "getting-started",
        "getting_started",
        "gettingstarted",
    }
)

# Known binary formats are skipped on their name, without reading them.
_BINARY_SUFFIXES = frozenset(
    ".png .jpg .jpeg .gif .bmp .ico .webp .tiff .psd .pdf .zip .gz .tgz .bz2 .xz .7z .rar .jar "
    ".war .class .so .dll .dylib .exe .bin .o .a .pyc .woff .woff2 .ttf .otf .eot .mp3 .mp4 "
    ".mov .avi .wav .ogg .webm .sqlite .db .parquet .npy .pkl".split()
)
_BINARY_SNIFF_BYTES = 8000  # git's own heuristic: a NUL among the first 8000 bytes

# Files that hold secrets by their name: environment files, keys and credential stores.
_SECRET_NAME = re.compile(
    r"(?i)^(\.env(\..*)?|.*\.env|.*\.pem|.*\.key|.*\.p12|.*\.pfx|.*\.jks|.*\.keystore|"
    r"id_(rsa|dsa|ecdsa|ed25519)(\..*)?|\.netrc|_netrc|\.npmrc|\.pypirc|\.htpasswd|"
    r"\.git-credentials|credentials(\.json)?|.*secrets?\.(ya?ml|json|toml)|"
    r"service[-_]?account.*\.json)$"
)
# Shapes of keys and tokens in content (high-confidence ones: a docs page about passwords is
# not a secret, an AWS access key id is).
_SECRET_CONTENT = re.compile(
    rb"-----BEGIN (?:RSA |EC |DSA |OPENSSH |ENCRYPTED |PGP )?PRIVATE KEY(?: BLOCK)?-----"
    rb"|\bA(?:KIA|SIA)[0-9A-Z]{16}\b"
    rb"|\bgh[pousr]_[A-Za-z0-9]{36,}"
    rb"|\bgithub_pat_[A-Za-z0-9_]{40,}"
    rb"|\bglpat-[A-Za-z0-9_-]{20,}"
    rb"|\bxox[abprs]-[A-Za-z0-9-]{10,}"
    rb"|\bAIza[0-9A-Za-z_-]{35}"
    rb"|\b[sr]k_live_[0-9A-Za-z]{20,}"
    rb"|\bsk-(?:proj-|ant-)?[A-Za-z0-9_-]{32,}"
    rb"|\"private_key\"\s*:\s*\"-----BEGIN"
)
# Literal pieces of those shapes: `in` finds them far faster than the regular expression runs,
# so the expression only reads the few files holding one of them.
_SECRET_MARKERS = (
    b"PRIVATE KEY",
    b"AKIA",
    b"ASIA",
    b"ghp_",
    b"gho_",
    b"ghu_",
    b"ghs_",
    b"ghr_",
    b"github_pat_",
    b"glpat-",
    b"xox",
    b"AIza",
    b"k_live_",
    b"sk-",
)
_LFS_POINTER = b"version https://git-lfs.github.com/spec/v1"
_LFS_POINTER_MAX_BYTES = 1024


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def bad_name(raw: bytes) -> bool:
    """Whether a path from the tree must be refused: not UTF-8, control characters, `.`/`..`
    segments, empty segments or an absolute path."""
    try:
        path = raw.decode("utf-8")
    except UnicodeDecodeError:
        return True
    if _CONTROL.search(path) or path.startswith("/") or "\\" in path:
        return True
    return any(segment in ("", ".", "..") for segment in path.split("/"))


def printable_name(raw: bytes) -> str:
    """A path safe to show and store: undecodable bytes and control characters escaped."""
    text = raw.decode("utf-8", "backslashreplace")
    return _CONTROL.sub(lambda match: f"\\x{ord(match.group()):02x}", text)


def secret_by_name(path: str) -> bool:
    return bool(_SECRET_NAME.match(PurePosixPath(path).name))


def binary_by_name(path: str) -> bool:
    return PurePosixPath(path).suffix.lower() in _BINARY_SUFFIXES


def content_reason(data: bytes) -> str | None:
    """Why a file's bytes are left out (an LFS pointer, binary, a secret), or None to keep it."""
    if len(data) <= _LFS_POINTER_MAX_BYTES and data.startswith(_LFS_POINTER):
        return LFS_POINTER
    if b"\0" in data[:_BINARY_SNIFF_BYTES]:
        return BINARY
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return BINARY
    if any(marker in data for marker in _SECRET_MARKERS) and _SECRET_CONTENT.search(data):
        return SECRET
    return None


def is_documentation(path: str) -> bool:
    """Markup anywhere but in vendored or hidden folders; plain text at the root or in docs."""
    parts = PurePosixPath(path)
    suffix = parts.suffix.lower()
    folders = [folder.lower() for folder in parts.parts[:-1]]
    if suffix not in DOCUMENT_SUFFIXES or _NOT_DOCS_NAMES.match(parts.name):
        return False
    if any(folder in _NOT_DOCS_FOLDERS or folder.startswith(".") for folder in folders):
        return False
    return suffix in _MARKUP_SUFFIXES or not folders or any(f in DOCS_FOLDERS for f in folders)


def is_overview_candidate(path: str) -> bool:
    """README, index, overview, introduction or getting-started documentation."""
    parts = PurePosixPath(path)
    return is_documentation(path) and parts.stem.lower() in OVERVIEW_STEMS
