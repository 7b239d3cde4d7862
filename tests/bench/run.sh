#!/bin/sh
# run.sh: slbscript's performance benchmark, in one command. Builds
# slbscript and the bench helpers in build-bench/ (the default build type,
# no sanitizers), installs the Node.js SDK into tests/bench/node_modules
# when missing, then runs run.py against fakes on loopback.
#
#   tests/bench/run.sh [--quick] [--only 1,2,3,4] [--strict] [run.py options]
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${SLB_BENCH_BUILD_DIR:-$root/build-bench}

for tool in cmake node npm curl python3; do
  command -v "$tool" >/dev/null || {
    echo "run.sh: $tool is needed" >&2; exit 1; }
done
# GNU time gives peak RSS; hyperfine times start-up (run.py has a
# fallback for it). Installed from Debian when missing and we are root.
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  if [ ! -x /usr/bin/time ]; then
    echo "run.sh: installing GNU time (peak RSS)" >&2
    apt-get install -y -q time >/dev/null 2>&1 || true
  fi
  if ! command -v hyperfine >/dev/null; then
    echo "run.sh: installing hyperfine (start-up timing)" >&2
    apt-get install -y -q hyperfine >/dev/null 2>&1 ||
      echo "run.sh: no hyperfine; run.py times start-up itself" >&2
  fi
fi

cmake -S "$root" -B "$build" -DSLB_BENCH=ON -DSLB_TESTS=OFF \
  -DSLB_SANITIZE=OFF -DSLB_FUZZ=OFF >/dev/null
cmake --build "$build" -j2 --target slbscript bench_sign bench_floor \
  >/dev/null

if [ ! -f "$here/node_modules/@alicloud/pop-core/package.json" ]; then
  echo "run.sh: installing @alicloud/pop-core into $here/node_modules" >&2
  npm install --prefix "$here" --no-audit --no-fund --silent >/dev/null
fi

exec python3 "$here/run.py" --build "$build" "$@"
