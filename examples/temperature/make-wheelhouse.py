"""Builds the example's wheelhouse: tempstats-1.0.0-py3-none-any.whl and its requirements.lock.

    python3 make-wheelhouse.py <wheelhouse-dir> <requirements.lock>

Deterministic (fixed timestamps and order, stored without compression), so the wheel and
the hash pinned in requirements.lock are the same bytes on every machine. Standard library only.
"""
import base64
import hashlib
import pathlib
import sys
import zipfile

if len(sys.argv) != 3:
    sys.exit("usage: python3 make-wheelhouse.py <wheelhouse-dir> <requirements.lock>")

NAME, VERSION = "tempstats", "1.0.0"
here = pathlib.Path(__file__).resolve().parent
out = pathlib.Path(sys.argv[1])
out.mkdir(parents=True, exist_ok=True)

dist = f"{NAME}-{VERSION}.dist-info"
files = {
    f"{NAME}/__init__.py": (here / NAME / "__init__.py").read_bytes(),
    f"{dist}/METADATA": f"Metadata-Version: 2.1\nName: {NAME}\nVersion: {VERSION}\nSummary: tiny statistics for the replay-runner example\n".encode(),
    f"{dist}/WHEEL": b"Wheel-Version: 1.0\nGenerator: replay-runner-example\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
}


def record_hash(data):
    return base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


record = "".join(f"{p},sha256={record_hash(b)},{len(b)}\n" for p, b in files.items()) + f"{dist}/RECORD,,\n"
files[f"{dist}/RECORD"] = record.encode()

wheel = out / f"{NAME}-{VERSION}-py3-none-any.whl"
with zipfile.ZipFile(wheel, "w", zipfile.ZIP_STORED) as z:
    for path, data in files.items():
        info = zipfile.ZipInfo(path, date_time=(1980, 1, 1, 0, 0, 0))
        info.external_attr = 0o644 << 16
        z.writestr(info, data)

digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
lock = pathlib.Path(sys.argv[2])
lock.write_text(f"{NAME}=={VERSION} --hash=sha256:{digest}\n")
print(lock)
