#!/usr/bin/env bash
# Installs OpenSSH 10 (Debian bookworm-backports) into a private prefix, beside the system's
# OpenSSH 9.2, for conformance/openssh10.test.ts. Idempotent. It never replaces the system's
# OpenSSH (the .debs are only unpacked with `dpkg -x`, not installed) and never starts a daemon.
#
#   OPENSSH10_PREFIX  where to unpack (default /opt/openssh10); conformance/sshd.ts reads the same
#                     variable. Result: $PREFIX/usr/sbin/sshd, $PREFIX/usr/bin/ssh, ...
#
# Needs root (apt sources, apt-get update, the sshd user).
set -euo pipefail

PREFIX="${OPENSSH10_PREFIX:-/opt/openssh10}"
SUITE="bookworm-backports"
LIST="/etc/apt/sources.list.d/puresftp-bookworm-backports.sources"
STAMP="$PREFIX/.installed"
PKGS=(openssh-server openssh-sftp-server openssh-client)

log() { printf 'openssh10-install: %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

[ "$(id -u)" -eq 0 ] || die "must run as root"

# (`dpkg -s` also succeeds for a removed package whose config files remain.)
have_libwrap() { [ "$(dpkg-query -W -f='${Status}' libwrap0 2>/dev/null || true)" = "install ok installed" ]; }

# Already done? (the stamp holds the version that was unpacked; the binary must still run)
if [ -f "$STAMP" ] && [ -x "$PREFIX/usr/sbin/sshd" ] && have_libwrap \
  && getent passwd sshd >/dev/null && "$PREFIX/usr/bin/ssh" -V >/dev/null 2>&1; then
  log "already installed: $(cat "$STAMP") in $PREFIX"
  exit 0
fi

# 1. The backports suite, in its own file, with the URIs of the machine's existing Debian entry
#    (deb822 .sources file or one-line sources.list), so it uses the same mirror.
if [ ! -f "$LIST" ]; then
  uri=""
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    # The stanza whose Suites include plain "bookworm" (not -security); take its URIs.
    uri=$(awk '
      BEGIN { RS=""; FS="\n" }
      {
        u=""; s=0; d=0
        for (i = 1; i <= NF; i++) {
          if ($i ~ /^URIs:/)   { u = $i; sub(/^URIs:[ \t]*/, "", u) }
          if ($i ~ /^Suites:/) { if ($i ~ /(^|[ \t])bookworm([ \t]|$)/) s = 1 }
          if ($i ~ /^Types:/)  { if ($i ~ /(^|[ \t])deb([ \t]|$)/) d = 1 }
          if ($i ~ /^Enabled:[ \t]*no/) { s = 0 }
        }
        if (u != "" && s && d) { print u; exit }
      }' "$f")
    [ -n "$uri" ] && break
  done
  if [ -z "$uri" ] && [ -f /etc/apt/sources.list ]; then
    uri=$(awk '$1 == "deb" && $0 ~ /[ \t]bookworm[ \t]/ {
        for (i = 2; i <= NF; i++) if ($i !~ /^\[/ && $i !~ /\]$/ && $i ~ /:\/\//) { print $i; exit }
      }' /etc/apt/sources.list)
  fi
  [ -n "$uri" ] || die "no Debian bookworm entry found in /etc/apt/sources.list{,.d} to copy URIs from"
  log "adding $SUITE from $uri as $LIST"
  tmp="$LIST.tmp"
  {
    echo "# Added by conformance/openssh10-install.sh (OpenSSH 10 for conformance tests only)."
    echo "Types: deb"
    echo "URIs: $uri"
    echo "Suites: $SUITE"
    echo "Components: main"
    echo "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg"
  } > "$tmp"
  mv "$tmp" "$LIST"
fi

# 2. Update the normal lists (never with a one-off source list: that drops the main lists),
#    unless apt already knows the backports version.
# (Output is captured first: `cmd | grep -q` under pipefail fails when grep exits early.)
known() { local p; p=$(apt-cache madison openssh-server 2>/dev/null || true); [[ "$p" == *"$SUITE"* ]]; }
if ! known; then
  log "apt-get update"
  apt-get update -q
fi
known || die "apt-get update did not bring in $SUITE"

# 3. libwrap0 (the backports sshd links it) and the privilege-separation user.
if ! have_libwrap; then
  log "installing libwrap0"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q libwrap0
fi
if ! getent passwd sshd >/dev/null; then
  log "creating the sshd privilege-separation user"
  useradd --system --no-create-home --home-dir /run/sshd --shell /usr/sbin/nologin sshd
fi
mkdir -p /run/sshd
chmod 755 /run/sshd

# 4. Download and unpack into a fresh tree, then swap it in (a failed run leaves no half tree).
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(
  cd "$work"
  # apt-get download runs as the _apt user when it can; the directory must be writable by it.
  chmod 777 "$work"
  apt-get download -q "${PKGS[@]/%//$SUITE}"
)
stage="$work/tree"
mkdir -p "$stage"
for deb in "$work"/*.deb; do
  log "unpacking $(basename "$deb")"
  dpkg -x "$deb" "$stage"
done
version=$(dpkg-deb -f "$work"/openssh-server_*.deb Version)

# 5. It must run beside 9.2: the client reports 10.x and sshd validates a minimal config.
ssh_v=$("$stage/usr/bin/ssh" -V 2>&1 || true)
[[ "$ssh_v" == OpenSSH_10.* ]] || die "unpacked ssh does not run as 10.x: $ssh_v"
sshd_v=$("$stage/usr/sbin/sshd" -V 2>&1 || true)
[[ "$sshd_v" == *OpenSSH_10.* ]] || die "unpacked sshd does not run as 10.x: $sshd_v"
printf '%s\n' "$version" > "$stage/.installed"

mkdir -p "$(dirname "$PREFIX")"
rm -rf "$PREFIX.old"
[ -e "$PREFIX" ] && mv "$PREFIX" "$PREFIX.old"
mv "$stage" "$PREFIX"
chmod 755 "$PREFIX"
rm -rf "$PREFIX.old"
log "installed OpenSSH $version in $PREFIX (system: $(ssh -V 2>&1))"
