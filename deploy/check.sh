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
echo "deploy/: systemd units and logrotate file OK"
