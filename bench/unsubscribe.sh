#!/usr/bin/env bash
# N one-click unsubscribes posted at once to `bulletin serve` on 127.0.0.1
# (N threads, one connection each), for N different readers, with a consent
# ledger of S rows already in place: how long until every answer is in, how
# many were answered 200, and how many rows the ledger gained (one per
# reader: none lost, none twice).
#     bench/unsubscribe.sh [N] [S]    (default 200, 10000)
source "$(dirname "$0")/common.sh"
n=${1:-200}
s=${2:-10000}
build
subscribers "$n" "$work/list.csv"
ledger "$s" "$work/suppressed.csv"
# The readers posted for are not on the ledger yet.
sed -i 's/^supporter/ledger/' "$work/suppressed.csv"
port=$(free_port)
cd "$work"
UNSUBSCRIBE_URL=https://hope.example.org/unsubscribe \
  UNSUBSCRIBE_SECRET=bench-secret-bench-secret-bench \
  "$bin" serve --listen "127.0.0.1:$port" --subscribers "$work/list.csv" >serve.log 2>&1 &
pids+=($!)
for _ in $(seq 50); do grep -q listening serve.log && break; sleep 0.1; done
before=$(wc -l <"$work/suppressed.csv")
UNSUBSCRIBE_URL=https://hope.example.org/unsubscribe UNSUBSCRIBE_SECRET=bench-secret-bench-secret-bench \
  "$bin" send "$sample" --subscribers "$work/list.csv" --dry-run --out "$work/out" -q >/dev/null
python3 - "$work/out" "$port" <<'PY'
import concurrent.futures, email, glob, re, sys, time, urllib.request
out, port = sys.argv[1], sys.argv[2]
links = []
for path in glob.glob(f"{out}/*.eml"):
    with open(path, "rb") as f:
        header = email.message_from_binary_file(f)["List-Unsubscribe"]
    url = re.search(r"<(https://[^>]+)>", header).group(1)
    links.append(url.replace("https://hope.example.org", f"http://127.0.0.1:{port}"))
def post(url):
    request = urllib.request.Request(url, data=b"List-Unsubscribe=One-Click", method="POST")
    request.add_header("Content-Type", "application/x-www-form-urlencoded")
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.status
start = time.monotonic()
with concurrent.futures.ThreadPoolExecutor(max_workers=len(links)) as pool:
    statuses = list(pool.map(post, links))
print(f"{len(links)} one-click unsubscribes at once: {statuses.count(200)} answered 200 "
      f"in {time.monotonic() - start:.2f} s")
PY
after=$(wc -l <"$work/suppressed.csv")
echo "ledger rows added: $((after - before)) (of $n readers)"
