"""Writes zip archives with Python's own zipfile module, so MappedZip is
checked against an independent writer: stored and deflated entries, an
archive comment, and ZIP64 records and extra fields (force_zip64).

Entry i of every archive holds `content(i)`; the C++ test recomputes it."""
import os
import sys
import zipfile


def content(i):
    # i-th entry: (i * 37 + k) % 251 for k in range(1000 * i + 5)
    return bytes((i * 37 + k) % 251 for k in range(1000 * i + 5))


def write(path, compression, comment=b"", zip64=False):
    with zipfile.ZipFile(path, "w", compression=compression) as z:
        for i in range(4):
            info = zipfile.ZipInfo(f"archive/data/{i}")
            info.compress_type = compression
            with z.open(info, "w", force_zip64=zip64) as f:
                f.write(content(i))
        z.comment = comment


out = sys.argv[1]
os.makedirs(out, exist_ok=True)
write(os.path.join(out, "stored.zip"), zipfile.ZIP_STORED, comment=b"an archive comment")
write(os.path.join(out, "deflated.zip"), zipfile.ZIP_DEFLATED)
write(os.path.join(out, "zip64.zip"), zipfile.ZIP_STORED, zip64=True)
# More than 65535 entries: zipfile adds the ZIP64 end of central directory
# record and locator (the classic record's count saturates).
with zipfile.ZipFile(os.path.join(out, "many.zip"), "w") as z:
    for i in range(65537):
        z.writestr(zipfile.ZipInfo(f"e/{i}"), b"" if i % 1000 else bytes([i % 256]) * 3)
