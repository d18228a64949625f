#!/usr/bin/env bash
# Checks the files in deploy/ (run by .ci/run): the systemd units with `systemd-analyze verify`
# (any message fails), the logrotate file with `logrotate -d`. Paths of the units are pointed at
# this checkout so that ExecStart exists.
set -euo pipefail
cd "$(dirname "$0")/.."
here="$PWD"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
venv="${OCOP_VENV:-$here/.venv}"

verify() {   # verify <unit file> <name to verify as>
  sed -e "s#/opt/ocop-bot/.venv#$venv#g" -e "s#/opt/ocop-bot#$here#g" "$1" > "$tmp/$2"
  out="$(systemd-analyze verify "$tmp/$2" 2>&1 || true)"
  if [ -n "$out" ]; then
    echo "systemd-analyze verify $1:" >&2
    echo "$out" >&2
    exit 1
  fi
}
verify deploy/ocop-bot.service ocop-bot.service
cp deploy/ocop-bot@.service "$tmp/ocop-bot@.service"
verify deploy/ocop-bot@.service ocop-bot@a.service
verify deploy/ocop-bot-backup.service ocop-bot-backup.service
verify deploy/ocop-bot-backup.timer ocop-bot-backup.timer
sh -n deploy/ocop-bot

mkdir -p "$tmp/log/a"
touch "$tmp/log/bot.log" "$tmp/log/a/bot.log"
sed -e "s#/var/log/ocop-bot#$tmp/log#g" -e "s#ocop ocop#$(id -un) $(id -gn)#g" deploy/logrotate > "$tmp/logrotate.conf"
if ! logrotate -d -s "$tmp/state" "$tmp/logrotate.conf" > "$tmp/lr.out" 2>&1 || grep -qi "error" "$tmp/lr.out"; then
  cat "$tmp/lr.out" >&2
  exit 1
fi
if command -v nginx >/dev/null && command -v openssl >/dev/null; then     # nginx -t on the example, own certificate
  openssl req -x509 -newkey rsa:2048 -nodes -keyout "$tmp/key.pem" -out "$tmp/cert.pem" -days 1 \
    -subj "/CN=bot.example.vn" >/dev/null 2>&1
  sed -e "s#/etc/letsencrypt/live/bot.example.vn/fullchain.pem#$tmp/cert.pem#" \
      -e "s#/etc/letsencrypt/live/bot.example.vn/privkey.pem#$tmp/key.pem#" deploy/nginx-ocop.conf > "$tmp/site.conf"
  printf 'pid %s/nginx.pid;\nerror_log %s/nginx.err;\nevents {}\nhttp { access_log off; include %s/site.conf; }\n' \
    "$tmp" "$tmp" "$tmp" > "$tmp/nginx.conf"
  nginx -t -q -c "$tmp/nginx.conf"
  echo "deploy/nginx-ocop.conf: nginx -t OK"
fi
echo "deploy/: systemd units and logrotate file OK"
