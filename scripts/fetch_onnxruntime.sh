#!/usr/bin/env bash
# Fetches libonnxruntime.so.1.31.1 from the pinned PyPI wheel onnxruntime==1.31.1, checks the
# wheel's SHA-256 against scripts/onnxruntime.sha256 and extracts the library into
# .cache/onnxruntime/. Nothing is downloaded from anywhere but PyPI. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
VERSION=1.31.1
LIB=libonnxruntime.so.$VERSION
DEST=.cache/onnxruntime
if [ -f "$DEST/$LIB" ] && [ -f "$DEST/.verified" ]; then
  exit 0
fi
case "$(uname -m)" in
  x86_64) PLATFORM=manylinux_2_28_x86_64 ;;
  aarch64 | arm64) PLATFORM=manylinux_2_28_aarch64 ;;
  *) echo "error: no pinned onnxruntime wheel for $(uname -m); add its checksum to scripts/onnxruntime.sha256" >&2; exit 1 ;;
esac
WHEEL=onnxruntime-$VERSION-cp311-cp311-$PLATFORM.whl
EXPECTED=$(awk -v w="$WHEEL" '$2 == w {print $1}' scripts/onnxruntime.sha256)
[ -n "$EXPECTED" ] || { echo "error: no checksum for $WHEEL in scripts/onnxruntime.sha256" >&2; exit 1; }
mkdir -p "$DEST"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
echo "fetching $WHEEL from PyPI ..." >&2
python3 -m pip download --quiet --no-deps --only-binary=:all: --python-version 3.11 \
  --implementation cp --abi cp311 --platform "$PLATFORM" "onnxruntime==$VERSION" -d "$TMP"
ACTUAL=$(sha256sum "$TMP/$WHEEL" | cut -d' ' -f1)
if [ "$ACTUAL" != "$EXPECTED" ]; then
  echo "error: checksum mismatch for $WHEEL: expected $EXPECTED, got $ACTUAL" >&2
  exit 1
fi
python3 - "$TMP/$WHEEL" "$DEST" "$LIB" <<'PY'
import sys, zipfile, shutil, os
wheel, dest, lib = sys.argv[1:]
with zipfile.ZipFile(wheel) as z, z.open(f"onnxruntime/capi/{lib}") as src, open(os.path.join(dest, lib + ".part"), "wb") as out:
    shutil.copyfileobj(src, out)
os.replace(os.path.join(dest, lib + ".part"), os.path.join(dest, lib))
PY
echo "$EXPECTED  $WHEEL" > "$DEST/.verified"
echo "ONNX Runtime $VERSION ready in $DEST/$LIB" >&2
