# Shared by the bench scripts: build the release binary once and make
# subscriber lists of any size. Source it; do not run it.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# BULLETIN_BIN=PATH measures that binary instead (a build of another
# commit, to compare), without building.
bin=${BULLETIN_BIN:-$root/target/release/bulletin}
sample="$root/content/ijm-prayer-requests.md"

build() {
  [ -n "${BULLETIN_BIN:-}" ] || (cd "$root" && cargo build --release --locked --quiet)
  # The machine may be shared: say how busy it was, so a slow run can be
  # told from a slow program. Measure when the load is well under the cores.
  echo "load average: $(cut -d' ' -f1-3 /proc/loadavg) ($(nproc) cores)"
}

# subscribers N FILE: N supporters with names, tags and a merge column.
subscribers() {
  python3 - "$1" "$2" <<'PY'
import sys
n, path = int(sys.argv[1]), sys.argv[2]
with open(path, "w") as f:
    f.write("email,first_name,last_name,status,tags,town\n")
    for i in range(n):
        f.write(f"supporter{i}@example.org,First{i},Last{i},subscribed,prayer-team,Town {i % 97}\n")
PY
}

# ledger N FILE: a consent ledger (suppressed.csv) of N rows about the
# first N supporters of `subscribers`: mostly unsubscribes, some bounces and
# complaints, and one in ten lifted again by a later `confirmed` row (so N
# rows block about 0.9 N of them).
ledger() {
  python3 - "$1" "$2" <<'PY'
import sys
n, path = int(sys.argv[1]), sys.argv[2]
reasons = ["unsubscribed", "requested", "hard-bounce", "complaint", "soft-bounces"]
with open(path, "w") as f:
    f.write("email,reason,date,detail,issued\n")
    lifted = []
    for i in range(n - n // 10):
        f.write(f"supporter{i}@example.org,{reasons[i % 5]},2026-01-01T00:00:00Z,,\n")
        if i % 9 == 0 and reasons[i % 5] in ("unsubscribed", "requested"):
            lifted.append(i)
    for i in lifted[: n // 10]:
        f.write(f"supporter{i}@example.org,confirmed,2026-02-01T00:00:00Z,,2026-01-15T00:00:00Z\n")
PY
}

# A scratch folder, removed on exit with any server started below.
work=$(mktemp -d)
chmod 755 "$work"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# start_sink [smtp-sink options]: Postfix's smtp-sink on 127.0.0.1:$port.
start_sink() {
  port=$(free_port)
  smtp-sink -u nobody "$@" "127.0.0.1:$port" 256 &
  pids+=($!)
  sleep 0.3
}

# The organisation settings a real send needs (a dry run does without).
export FROM_EMAIL=news@hope.example.org ORG_NAME="Hope Trust" ORG_ADDRESS="12 Market Street, Bristol"
