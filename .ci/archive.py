"""Standalone archive of one wheel's executable, with its SHA-256, for people without Python.

    python archive.py WHEEL TARGET OUTDIR

Writes OUTDIR/trustrun-VERSION-TARGET.zip (Windows) or .tar.gz (the rest) holding trustrun[.exe],
README.md and the licence files, and beside it a .sha256 file in `sha256sum` format
(`sha256sum -c` checks it). The executable is taken from the wheel so that the archive and the
wheel ship the same bytes. Used by .github/workflows/release.yml; tests/install.rs runs it on the
wheels built here.
"""

import hashlib
import io
import os
import sys
import tarfile
import zipfile


def main(wheel_path, target, outdir):
    wheel = zipfile.ZipFile(wheel_path)
    # trustrun-0.1.0-py3-none-TAG.whl -> 0.1.0
    version = os.path.basename(wheel_path).split("-")[1]
    windows = "windows" in target
    exe = "trustrun.exe" if windows else "trustrun"
    members = {
        exe: wheel.read(f"trustrun-{version}.data/scripts/{exe}"),
    }
    licences = f"trustrun-{version}.dist-info/licenses/"
    for name in wheel.namelist():
        if name.startswith(licences):
            members[name[len(licences):]] = wheel.read(name)
    readme = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "README.md")
    with open(readme, "rb") as f:
        members["README.md"] = f.read()

    stem = f"trustrun-{version}-{target}"
    os.makedirs(outdir, exist_ok=True)
    archive = os.path.join(outdir, stem + (".zip" if windows else ".tar.gz"))
    if windows:
        with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
            for name, data in sorted(members.items()):
                z.writestr(f"{stem}/{name}", data)
    else:
        with tarfile.open(archive, "w:gz") as t:
            for name, data in sorted(members.items()):
                info = tarfile.TarInfo(f"{stem}/{name}")
                info.size = len(data)
                info.mode = 0o755 if name == exe else 0o644
                t.addfile(info, io.BytesIO(data))
    with open(archive, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    with open(archive + ".sha256", "w", newline="\n") as f:
        f.write(f"{digest}  {os.path.basename(archive)}\n")
    print(archive)


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit("usage: archive.py WHEEL TARGET OUTDIR")
    main(*sys.argv[1:])
