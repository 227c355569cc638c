"""Rewrites a Warren bundle (a tar) with one change, for tests that check that `warren
import` refuses it. Python's own tarfile reads and writes it, which also checks that
Warren's tar is a standard one.

    bundle_tamper.py IN OUT list                    entry names, one per line
    bundle_tamper.py IN OUT flip NAME OFFSET        one byte of an entry changed
    bundle_tamper.py IN OUT flip-and-resum NAME OFFSET   ... and its SHA-256 in the manifest updated
    bundle_tamper.py IN OUT drop NAME               an entry left out
    bundle_tamper.py IN OUT forge-head              the tree hash of the head replaced
"""
import base64
import hashlib
import io
import json
import sys
import tarfile

src, dst, mode = sys.argv[1], sys.argv[2], sys.argv[3]
args = sys.argv[4:]
with tarfile.open(src, "r:") as t:
    members = [(m, t.extractfile(m).read()) for m in t.getmembers()]
if mode == "list":
    print("\n".join(m.name for m, _ in members))
    sys.exit(0)
out = []
for m, data in members:
    if mode in ("flip", "flip-and-resum") and m.name == args[0]:
        b = bytearray(data)
        b[int(args[1])] ^= 0x01
        data = bytes(b)
    if mode == "drop" and m.name == args[0]:
        continue
    out.append((m, data))
if mode == "flip-and-resum" or mode == "forge-head":
    for i, (m, data) in enumerate(out):
        if m.name != "warren-bundle.json":
            continue
        manifest = json.loads(data)
        if mode == "flip-and-resum":
            changed = dict(out)
            for a in manifest["artifacts"]:
                if a["path"] == args[0]:
                    a["sha256"] = hashlib.sha256([d for mm, d in out if mm.name == args[0]][0]).hexdigest()
        else:
            for d in manifest["databases"]:
                lines = d["head"].split("\n")
                lines[2] = base64.b64encode(hashlib.sha256(b"forged").digest()).decode()
                d["head"] = "\n".join(lines)
        out[i] = (m, json.dumps(manifest).encode())
with tarfile.open(dst, "w:", format=tarfile.PAX_FORMAT) as t:
    for m, data in out:
        info = tarfile.TarInfo(m.name)
        info.size = len(data)
        t.addfile(info, io.BytesIO(data))
