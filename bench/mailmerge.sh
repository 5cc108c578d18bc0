#!/usr/bin/env bash
# The same job through `mailmerge` (PyPI, the common mail-merge CLI) and
# through bulletin, both to one smtp-sink on 127.0.0.1: messages per second.
# mailmerge gets a template of the same message (both parts, same text).
#     bench/mailmerge.sh [N]      (default 2000)
source "$(dirname "$0")/common.sh"
n=${1:-2000}
python3 -c 'import mailmerge' 2>/dev/null || python3 -m pip install --quiet 'mailmerge==2.3.0'
build
subscribers "$n" "$work/list.csv"
start_sink
cd "$work"
"$bin" send "$sample" --subscribers list.csv --dry-run --out out -q >/dev/null

# mailmerge's three files, from bulletin's first message.
python3 - "$n" "$port" <<'PY'
import email, glob, sys
n, port = int(sys.argv[1]), sys.argv[2]
with open("mailmerge_database.csv", "w") as f:
    f.write("email,name\n")
    for i in range(n):
        f.write(f"supporter{i}@example.org,First{i}\n")
with open("mailmerge_server.conf", "w") as f:
    f.write(f"[smtp_server]\nhost = 127.0.0.1\nport = {port}\nsecurity = Never\n")
msg = email.message_from_bytes(open(sorted(glob.glob("out/*.eml"))[0], "rb").read())
parts = {p.get_content_type(): p.get_payload(decode=True).decode() for p in msg.walk() if not p.is_multipart()}
with open("mailmerge_template.txt", "w") as f:
    f.write("TO: {{email}}\nFROM: Hope Trust <news@hope.example.org>\nSUBJECT: IJM Prayer Requests\n"
            "MIME-Version: 1.0\nContent-Type: multipart/alternative; boundary=\"b\"\n\n"
            f"--b\nContent-Type: text/plain; charset=utf-8\n\n{parts['text/plain'].replace('First0', '{{name}}')}\n"
            f"--b\nContent-Type: text/html; charset=utf-8\n\n{parts['text/html'].replace('First0', '{{name}}')}\n--b--\n")
PY

start=$(date +%s.%N)
mailmerge --no-dry-run --no-limit >/dev/null
end=$(date +%s.%N)
theirs=$(python3 -c "print(f'{$n / ($end - $start):.0f}')")

start=$(date +%s.%N)
SMTP_HOST=127.0.0.1 SMTP_PORT=$port SMTP_SECURITY=none \
  "$bin" send "$sample" --subscribers list.csv --rate unlimited --concurrency 8 --yes -q >/dev/null
end=$(date +%s.%N)
ours=$(python3 -c "print(f'{$n / ($end - $start):.0f}')")

echo "mailmerge:    $theirs messages/s ($n messages, one connection)"
echo "bulletin:     $ours messages/s ($n messages, 8 connections, journal on)"
python3 -c "print(f'ratio:        {$ours / $theirs:.2f}x mailmerge')"
