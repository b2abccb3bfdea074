"""Writes an npm packument (what `GET /<package>` serves) into Verdaccio's storage: a package
with seven versions, about the size of one capability's marketplace listing."""
import hashlib, json, sys
from pathlib import Path

storage = Path(sys.argv[1])
name = "weather-lookup"
versions = {}
# One version, as each generated capability has: the two bodies are about the same size.
for minor in range(1):
    v = f"1.{minor}.0"
    sha = hashlib.sha1(v.encode()).hexdigest()
    versions[v] = {
        "name": name, "version": v, "description": "Get weather information for any location",
        "keywords": ["weather", "forecast"], "license": "MIT", "main": "index.js",
        "author": {"name": "capsmith"},
        "dist": {"shasum": sha, "tarball": f"http://localhost/{name}/-/{name}-{v}.tgz",
                 "integrity": "sha512-" + hashlib.sha512(v.encode()).hexdigest()},
        "_id": f"{name}@{v}",
    }
doc = {
    "name": name, "versions": versions, "dist-tags": {"latest": "1.0.0"},
    "time": {v: "2026-11-26T00:00:00.000Z" for v in versions}, "_uplinks": {}, "_distfiles": {},
    "_attachments": {}, "_rev": "1-0", "_id": name, "readme": "# Weather\n\nGet weather information for any location.\n",
}
(storage / name).mkdir(parents=True, exist_ok=True)
(storage / name / "package.json").write_text(json.dumps(doc))
print(len(json.dumps(doc)))
