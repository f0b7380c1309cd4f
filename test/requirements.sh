#!/usr/bin/env bash
# npm test's first step (the "pretest" script): the tools the tests drive are
# real ones from Debian: php-cli + php-soap (legacy SOAP clients), chromium
# (the pages, through playwright-core), mono-devel (the C# sample), python3-zeep
# (the Python sample), curl (the curl sample), nginx and openssl (the shipped
# nginx.conf), php-fpm (a small PHP receiver behind nginx), prometheus and
# systemd (ops/: alerts against a real Prometheus, units verified), galera-4, rsync, mariadb-backup and socat (a Galera cluster of three local nodes).
# Missing packages are installed when this runs as root on a machine with apt;
# otherwise it stops with the exact command to run.
set -euo pipefail

missing=()
php -m 2>/dev/null | grep -qx soap || missing+=(php-cli php-soap php-xml)
[ -x "${CHROMIUM_PATH:-/usr/bin/chromium}" ] || missing+=(chromium fonts-dejavu-core)
{ command -v mcs && command -v wsdl; } >/dev/null 2>&1 || missing+=(mono-devel)
/usr/bin/python3 -c 'import zeep' 2>/dev/null || missing+=(python3-zeep)
command -v curl >/dev/null || missing+=(curl)
command -v nginx >/dev/null || missing+=(nginx)
# A real small PHP receiver behind nginx for test/pace.test.ts.
ls /usr/sbin/php-fpm* >/dev/null 2>&1 || missing+=(php-fpm)
command -v openssl >/dev/null || missing+=(openssl)
# Prometheus and promtool (the shipped alerts), systemd-analyze (the shipped units).
command -v promtool >/dev/null || missing+=(prometheus)
command -v systemd-analyze >/dev/null || missing+=(systemd)
# A three-node MariaDB Galera cluster for test/galera.test.ts (state transfers by rsync and by mariabackup).
[ -f /usr/lib/galera/libgalera_smm.so ] || missing+=(galera-4)
command -v rsync >/dev/null || missing+=(rsync)
command -v mariadb-backup >/dev/null || missing+=(mariadb-backup)
command -v socat >/dev/null || missing+=(socat)

if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "npm test: installing ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "npm test needs Debian packages that are missing; install them with:" >&2
    echo "  sudo apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
fi

# The tests make their own databases on the server TEST_DATABASE_SERVER names
# (default: root without a password at 127.0.0.1:3306).
if [ -z "${TEST_DATABASE_SERVER:-}" ] && ! (exec 3<>/dev/tcp/127.0.0.1/3306) 2>/dev/null; then
  echo "npm test needs MariaDB (10.6+) or MySQL (8) at 127.0.0.1:3306, user root without a password; it does not answer." >&2
  echo "  start it, for example: start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd" >&2
  exit 1
fi
