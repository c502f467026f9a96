#!/bin/sh
# One file on purpose, though over 300 lines: it is the `curl | sh` deliverable, fetched alone.
# Installs lite-apiserver on a Linux gateway (x86_64 or aarch64). POSIX sh: runs under dash and
# busybox sh, with curl or wget.
#
#   curl -fsSL <release-url>/install.sh | sh                          latest release
#   curl -fsSL <release-url>/install.sh | sh -s -- --version 0.1.0    a given release
#   sh install.sh --uninstall [--purge]                               remove (--purge: config and cache too)
#
# Environment:
#   LITE_APISERVER_BASE_URL  folder holding the release files (binaries, SHA256SUMS,
#                            config.example.toml): https://, http:// or file:///path.
#                            --version X reads from BASE/vX instead.
#   PREFIX                   the binary goes to PREFIX/bin (default /usr/local)
#   DESTDIR                  stage everything under this folder; needs no root, never calls systemctl
#   LITE_APISERVER_CPUINFO   the CPU description that picks the x64 build (default /proc/cpuinfo):
#                            without avx2 the baseline build; a staged install can name the target's
#
# It changes nothing until every download has been verified against SHA256SUMS, never overwrites an
# existing config, and can be run again to upgrade.
set -eu

DEFAULT_BASE_URL=https://github.com/lite-apiserver/lite-apiserver/releases/latest/download
BASE_URL=${LITE_APISERVER_BASE_URL:-$DEFAULT_BASE_URL}
CPUINFO=${LITE_APISERVER_CPUINFO:-/proc/cpuinfo}
BASE_URL=${BASE_URL%/}
PREFIX=${PREFIX:-/usr/local}
PREFIX=${PREFIX%/}
DESTDIR=${DESTDIR:-}
DESTDIR=${DESTDIR%/}

SERVICE=lite-apiserver
BIN=$PREFIX/bin/lite-apiserver
CONF_DIR=/etc/lite-apiserver
CONF=$CONF_DIR/config.toml
CACHE_KEY=$CONF_DIR/cache.key
STATE_DIR=/var/lib/lite-apiserver
UNIT=/etc/systemd/system/$SERVICE.service
EXAMPLE=config.example.toml

say() { printf 'install.sh: %s\n' "$*"; }
die() { printf 'install.sh: error: %s\n' "$*" >&2; exit 1; }
have() { command -v "$1" >/dev/null 2>&1; }

usage() {
	cat <<EOF
usage: install.sh [--version X] | --uninstall [--purge] | --help
  (no option)    install or upgrade to the latest release
  --version X    install release X (a mirror keeps it in \$LITE_APISERVER_BASE_URL/vX)
  --uninstall    remove the binary and the systemd unit; keep config and cache
  --purge        with --uninstall: also remove $CONF_DIR and $STATE_DIR
environment: LITE_APISERVER_BASE_URL (default $DEFAULT_BASE_URL), PREFIX (default /usr/local), DESTDIR,
  LITE_APISERVER_CPUINFO (default /proc/cpuinfo: without avx2 the x64 baseline build is installed)
EOF
}

usage_error() {
	printf 'install.sh: error: %s\n' "$1" >&2
	usage >&2
	exit 2
}

# Release folder of the requested version. GitHub keeps tagged releases at .../releases/download/vX;
# any other base URL is a mirror that keeps them in vX/ below itself.
release_url() {
	if [ -z "$VERSION" ]; then
		printf '%s\n' "$BASE_URL"
		return
	fi
	tag=v${VERSION#v}
	case $BASE_URL in
	*/releases/latest/download) printf '%s\n' "${BASE_URL%/latest/download}/download/$tag" ;;
	*) printf '%s\n' "$BASE_URL/$tag" ;;
	esac
}

# The release binary for this machine, or a clear refusal before anything is touched.
detect_asset() {
	os=$(uname -s)
	[ "$os" = Linux ] || die "unsupported operating system '$os': lite-apiserver runs on Linux only; nothing was changed"
	arch=$(uname -m)
	case $arch in
	x86_64 | amd64)
		# The default x64 build needs AVX2; older or low-power x86 CPUs get the baseline build.
		if [ -r "$CPUINFO" ] && ! grep -qw avx2 "$CPUINFO"; then
			ASSET=lite-apiserver-linux-x64-baseline
		else
			ASSET=lite-apiserver-linux-x64
		fi
		;;
	aarch64 | arm64) ASSET=lite-apiserver-linux-arm64 ;;
	*) die "unsupported architecture '$arch': release binaries exist for x86_64 and aarch64 (arm64) only; nothing was changed" ;;
	esac
	# The binaries link against glibc and would not start on musl systems (Alpine, OpenWrt). A staged
	# DESTDIR install is for another machine, so this one's C library says nothing about it.
	case $ASSET in
	*arm64) loader=/lib/ld-linux-aarch64.so.1 ;;
	*) loader=/lib64/ld-linux-x86-64.so.2 ;;
	esac
	if [ -z "$DESTDIR" ] && [ ! -e "$loader" ]; then
		die "no glibc here ($loader is missing): the release binaries need glibc, musl systems are not supported; nothing was changed"
	fi
}

fetch() {
	case $1 in
	file://*) cp "${1#file://}" "$2" 2>/dev/null || die "cannot read $1; nothing was changed" ;;
	*)
		if have curl; then
			curl -fsSL -o "$2" "$1" || die "cannot download $1; nothing was changed"
		elif have wget; then
			wget -q -O "$2" "$1" || die "cannot download $1; nothing was changed"
		else
			die "neither curl nor wget is installed; nothing was changed"
		fi
		;;
	esac
}

sha256_of() {
	if have sha256sum; then
		sha256sum "$1" | cut -d ' ' -f 1
	elif have shasum; then
		shasum -a 256 "$1" | cut -d ' ' -f 1
	elif have openssl; then
		openssl dgst -sha256 -r "$1" | cut -d ' ' -f 1
	else
		die "no sha256sum, shasum or openssl to verify downloads with; nothing was changed"
	fi
}

# The SHA256SUMS entry of a release file ("*" marks sha256sum's binary mode).
expected_sum() {
	awk -v name="$1" '$2 == name || $2 == "*" name { print $1; exit }' "$TMP/SHA256SUMS"
}

verify() {
	want=$(expected_sum "$2")
	[ -n "$want" ] || die "SHA256SUMS has no entry for $2; nothing was changed"
	got=$(sha256_of "$1")
	[ "$got" = "$want" ] || die "checksum mismatch for $2 (SHA256SUMS says $want, the download is $got); nothing was changed"
}

# Downloads and verifies everything into $TMP; the only step allowed to fail for reasons outside
# this machine, so it runs before anything is installed.
download() {
	url=$(release_url)
	say "downloading $ASSET from $url"
	fetch "$url/SHA256SUMS" "$TMP/SHA256SUMS"
	if have xz; then
		fetch "$url/$ASSET.xz" "$TMP/$ASSET.xz"
		verify "$TMP/$ASSET.xz" "$ASSET.xz"
		xz -dc "$TMP/$ASSET.xz" >"$TMP/$ASSET" || die "cannot decompress $ASSET.xz; nothing was changed"
	else
		fetch "$url/$ASSET" "$TMP/$ASSET"
	fi
	verify "$TMP/$ASSET" "$ASSET"
	fetch "$url/$EXAMPLE" "$TMP/$EXAMPLE"
	verify "$TMP/$EXAMPLE" "$EXAMPLE"
	say "verified $ASSET and $EXAMPLE against SHA256SUMS"
}

# Copies into place through a temporary name and a rename, so a running binary is replaced
# atomically and a half-written file never carries the final name.
place() {
	cp "$1" "$2.new"
	chmod "$3" "$2.new"
	mv -f "$2.new" "$2"
}

install_binary() {
	mkdir -p "$DESTDIR$PREFIX/bin"
	if [ -f "$DESTDIR$BIN" ] && [ "$(sha256_of "$DESTDIR$BIN")" = "$(expected_sum "$ASSET")" ]; then
		say "kept $BIN: already this release of $ASSET"
		BINARY_CHANGED=no
	else
		place "$TMP/$ASSET" "$DESTDIR$BIN" 0755
		say "installed $BIN ($ASSET, mode 0755)"
		BINARY_CHANGED=yes
	fi
}

install_config() {
	mkdir -p "$DESTDIR$CONF_DIR"
	if [ -e "$DESTDIR$CONF" ]; then
		say "kept existing $CONF (never overwritten)"
		CONFIG_WAS_THERE=yes
	else
		place "$TMP/$EXAMPLE" "$DESTDIR$CONF" 0644
		say "wrote $CONF from the commented example: set its certificate paths and upstream servers"
		CONFIG_WAS_THERE=no
	fi
}

# The key that encrypts Secrets and tokens in the cache: 32 random bytes, 0600, kept across upgrades.
# Made here because the service cannot write /etc (ProtectSystem=strict); the unit hands it over with
# LoadCredential=. A staged image (DESTDIR) carries one key: give each gateway its own.
install_cache_key() {
	if [ -s "$DESTDIR$CACHE_KEY" ]; then
		say "kept cache key $CACHE_KEY"
		return
	fi
	(umask 077 && head -c 32 /dev/urandom >"$DESTDIR$CACHE_KEY.new") || die "cannot write $CACHE_KEY"
	chmod 0600 "$DESTDIR$CACHE_KEY.new"
	mv -f "$DESTDIR$CACHE_KEY.new" "$DESTDIR$CACHE_KEY"
	say "created cache key $CACHE_KEY (mode 0600)"
}

install_state_dir() {
	if [ -d "$DESTDIR$STATE_DIR" ]; then
		chmod 0700 "$DESTDIR$STATE_DIR"
		say "kept cache folder $STATE_DIR (mode 0700)"
	else
		mkdir -p "$DESTDIR$STATE_DIR"
		chmod 0700 "$DESTDIR$STATE_DIR"
		say "created cache folder $STATE_DIR (mode 0700)"
	fi
}

# Hardening leaves what the service needs: an unprivileged port on loopback (no capabilities),
# outbound TCP to the cloud, reading its certs and writing only its cache folder. No
# MemoryDenyWriteExecute: Bun's JavaScript JIT needs writable executable memory.
write_unit() {
	mkdir -p "$DESTDIR${UNIT%/*}"
	cat >"$DESTDIR$UNIT.new" <<EOF
# Written by lite-apiserver's install.sh; a rerun rewrites it. Put local changes in
# /etc/systemd/system/$SERVICE.service.d/*.conf (systemctl edit $SERVICE).
[Unit]
Description=lite-apiserver: Kubernetes API proxy with an offline cache
After=network-online.target
Wants=network-online.target

[Service]
Type=simple
ExecStart=$BIN --config $CONF
# The cache key reaches the service as \$CREDENTIALS_DIRECTORY/cache.key (cache.key_file = "").
LoadCredential=cache.key:$CACHE_KEY
Restart=always
RestartSec=2s
# lite-apiserver drains in-flight requests for at most 5 s on SIGTERM.
TimeoutStopSec=15s
StateDirectory=lite-apiserver
StateDirectoryMode=0700
ReadWritePaths=$STATE_DIR
UMask=0077
NoNewPrivileges=yes
CapabilityBoundingSet=
AmbientCapabilities=
ProtectSystem=strict
ProtectHome=yes
PrivateTmp=yes
PrivateDevices=yes
ProtectKernelTunables=yes
ProtectKernelModules=yes
ProtectKernelLogs=yes
ProtectControlGroups=yes
ProtectClock=yes
ProtectHostname=yes
RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX
RestrictNamespaces=yes
RestrictRealtime=yes
RestrictSUIDSGID=yes
LockPersonality=yes
SystemCallArchitectures=native

[Install]
WantedBy=multi-user.target
EOF
	if [ -f "$DESTDIR$UNIT" ] && cmp -s "$DESTDIR$UNIT.new" "$DESTDIR$UNIT"; then
		rm -f "$DESTDIR$UNIT.new"
		say "kept systemd unit $UNIT: unchanged"
		UNIT_CHANGED=no
	else
		chmod 0644 "$DESTDIR$UNIT.new"
		mv -f "$DESTDIR$UNIT.new" "$DESTDIR$UNIT"
		say "wrote systemd unit $UNIT"
		UNIT_CHANGED=yes
	fi
}

# sd_booted(3): systemd is the running init exactly when this folder exists.
systemd_running() {
	[ -d /run/systemd/system ]
}

install_service() {
	if [ -n "$DESTDIR" ]; then
		write_unit
		say "staged install: on the target run 'systemctl daemon-reload && systemctl enable --now $SERVICE'"
	elif systemd_running; then
		write_unit
		systemctl daemon-reload
		systemctl enable "$SERVICE" >/dev/null 2>&1 || die "systemctl enable $SERVICE failed"
		say "enabled $SERVICE.service (starts at boot)"
		if [ "$CONFIG_WAS_THERE" = no ]; then
			say "next: edit $CONF, then 'systemctl start $SERVICE'"
		elif [ "$BINARY_CHANGED" = yes ] || [ "$UNIT_CHANGED" = yes ] || ! systemctl is-active --quiet "$SERVICE"; then
			systemctl restart "$SERVICE" || die "systemctl restart $SERVICE failed; see 'journalctl -u $SERVICE'"
			say "restarted $SERVICE.service"
		else
			say "$SERVICE.service is running this release already"
		fi
	else
		say "systemd is not running here, so no service was set up: start '$BIN --config $CONF'"
		say "from your init system (OpenRC, procd, runit, inittab) and restart it when it exits"
	fi
}

run_install() {
	detect_asset
	TMP=$(mktemp -d "${TMPDIR:-/tmp}/lite-apiserver-install.XXXXXX")
	trap 'rm -rf "$TMP"' EXIT
	trap 'exit 130' INT TERM
	download
	install_binary
	install_config
	install_cache_key
	install_state_dir
	install_service
	say "done: check the config with '$BIN check-config --config $CONF'"
}

remove_file() {
	if [ -e "$DESTDIR$1" ]; then
		rm -f "$DESTDIR$1"
		say "removed $1"
	else
		say "$1 was not installed"
	fi
}

run_uninstall() {
	if [ -z "$DESTDIR" ] && systemd_running && [ -f "$UNIT" ]; then
		systemctl disable --now "$SERVICE" >/dev/null 2>&1 || say "could not stop $SERVICE.service; removing it anyway"
		say "stopped and disabled $SERVICE.service"
	fi
	remove_file "$UNIT"
	if [ -z "$DESTDIR" ] && systemd_running; then
		systemctl daemon-reload
	fi
	remove_file "$BIN"
	if [ "$PURGE" = yes ]; then
		rm -rf "$DESTDIR$CONF_DIR" "$DESTDIR$STATE_DIR"
		say "removed $CONF_DIR and $STATE_DIR (--purge)"
	else
		say "kept $CONF_DIR and $STATE_DIR; '--uninstall --purge' removes them too"
	fi
}

main() {
	VERSION=""
	ACTION=install
	PURGE=no
	while [ $# -gt 0 ]; do
		case $1 in
		--version)
			[ $# -ge 2 ] || usage_error "--version needs a release number, e.g. --version 0.1.0"
			VERSION=$2
			shift 2
			;;
		--version=*)
			VERSION=${1#--version=}
			shift
			;;
		--uninstall) ACTION=uninstall && shift ;;
		--purge) PURGE=yes && shift ;;
		-h | --help) usage && exit 0 ;;
		*) usage_error "unknown option '$1'" ;;
		esac
	done
	case $VERSION in
	*[!0-9A-Za-z.+-]*) usage_error "'$VERSION' is not a release number" ;;
	esac
	if [ "$PURGE" = yes ] && [ "$ACTION" != uninstall ]; then
		usage_error "--purge only goes with --uninstall"
	fi
	if [ -z "$DESTDIR" ] && [ "$(id -u)" != 0 ]; then
		die "run as root (curl -fsSL .../install.sh | sudo sh), or set DESTDIR for a staged install; nothing was changed"
	fi
	if [ "$ACTION" = uninstall ]; then
		run_uninstall
	else
		run_install
	fi
}

# Everything runs from this last line, so a download cut short by `curl | sh` runs nothing.
main "$@"
