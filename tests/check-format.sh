#!/bin/sh
# check-format.sh - every C source and header is formatted by .clang-format.
# Lists the files that are not (with the diff), exits 1 if any; run
# "clang-format -i FILE" to fix one.  Needs clang-format (Debian package
# clang-format; test.sh installs it).
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
command -v clang-format >/dev/null 2>&1 || {
	echo "check-format: clang-format is not installed (apt-get install clang-format)" >&2
	exit 1
}
bad=0
n=0
for f in $(find src tests -name '*.[ch]' ! -path '*/node_modules/*' ! -name dashboard_html.h ! -name openapi_yaml.h | sort); do
	n=$((n + 1))
	if ! clang-format --style=file "$f" | diff -u "$f" - >/tmp/check-format.$$ 2>&1; then
		echo "not formatted: $f"
		head -40 /tmp/check-format.$$
		bad=$((bad + 1))
	fi
done
rm -f /tmp/check-format.$$
echo "check-format: $n files, $bad not formatted ($(clang-format --version))"
[ "$bad" -eq 0 ]
