#!/bin/sh
# Time workshop/hub/setup.sh on a bare Debian 12 (debootstrap minbase) in a chroot on this machine (root).
#   sh tests/measure_hub_recipe.sh [ROOTFS]    (not collected by pytest; prints each step with its seconds)
set -eu
R="${1:-/tmp/aml-bare-rootfs}"
REPO="$(cd "$(dirname "$0")/.." && pwd)"
T0=$(date +%s)
echo "[bare] debootstrap start $(date -u +%T)"
[ -x "$R/bin/sh" ] || debootstrap --variant=minbase bookworm "$R" http://deb.debian.org/debian >"$R.debootstrap.log" 2>&1
echo "[bare] debootstrap done in $(( $(date +%s) - T0 )) s"
grep -q security "$R/etc/apt/sources.list" || echo "deb http://deb.debian.org/debian-security bookworm-security main" >> "$R/etc/apt/sources.list"
# A host behind a TLS-inspecting proxy trusts extra CAs: the chroot trusts the same ones (not part of the recipe).
mkdir -p "$R/usr/local/share/ca-certificates" && cp /usr/local/share/ca-certificates/*.crt "$R/usr/local/share/ca-certificates/" 2>/dev/null || true
cp /etc/resolv.conf "$R/etc/resolv.conf"
rm -rf "$R/opt/aml-course/repo"; mkdir -p "$R/opt/aml-course/repo"
git -C "$REPO" archive HEAD | tar -x -C "$R/opt/aml-course/repo"
printf 'ada\nbob\ncarol\n' > "$R/root/roster.txt"
mount -t proc proc "$R/proc"
mount --bind /dev "$R/dev"
T1=$(date +%s)
[ -x "$R/usr/sbin/update-ca-certificates" ] && chroot "$R" update-ca-certificates >/dev/null 2>&1 || true
chroot "$R" /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
  PIP_CERT=/etc/ssl/certs/ca-certificates.crt NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt \
  sh /opt/aml-course/repo/workshop/hub/setup.sh /root/roster.txt alice 127.0.0.1 local-ca || echo "[bare] setup.sh FAILED rc=$?"
echo "[bare] setup.sh took $(( $(date +%s) - T1 )) s"
chroot "$R" /opt/aml-course/hub-env/bin/python -c "import jupyterhub, nativeauthenticator, systemdspawner, jupyterhub_idle_culler, course, secml; print('[bare] imports ok')" || true
chroot "$R" sh -c 'command -v bwrap configurable-http-proxy; ls /etc/ssl/aml-hub /srv/aml-hub; wc -l /root/room-codes.csv' || true
umount "$R/dev" "$R/proc"
echo "[bare] total $(( $(date +%s) - T0 )) s"
