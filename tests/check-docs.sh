#!/bin/bash
# check-docs.sh [BINDIR] - check that the documentation matches the code.
#
#   1. every man page formats without a single warning (groff -ww, man-db);
#   2. every option each binary's --help lists is in its man page's OPTIONS
#      section, and every option there is in --help;
#   3. the heartbeat log wording and the journal fields of src/lib/log.c
#      and src/gossip/hblog.c are in ftnode(8);
#   4. the systemd units, substituted with BINDIR, pass systemd-analyze
#      verify (skipped, saying so, when systemd-analyze is not installed);
#   5. the journal message catalog is well formed and has exactly one entry
#      for every MESSAGE_ID log.c and hblog.c define.
#
# BINDIR holds the built ftnode, ftgw and ftctl.  Default: the current
# directory if it has them (as under "make check"), else the source tree.
# Exits 0 when everything passed, 1 otherwise; ends with "N passed, N failed".
set -u

top=$(cd "$(dirname "$0")/.." && pwd)
if [ $# -ge 1 ]; then
	bindir=$1
elif [ -x "$PWD/ftnode" ]; then
	bindir=$PWD
else
	bindir=$top
fi
bindir=$(cd "$bindir" 2>/dev/null && pwd) || { echo "FAIL: no such directory: $1"; exit 1; }

passed=0
failed=0
tmp=$(mktemp -d "${TMPDIR:-/tmp}/check-docs.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT

ok() { passed=$((passed + 1)); echo "ok:   $*"; }
fail() { failed=$((failed + 1)); echo "FAIL: $*"; }
# Indents captured output under the FAIL line that explains it.
show() { sed 's/^/        /' "$@"; }

man_pages=(man/ftnode.8 man/ftgw.8 man/ftctl.1 man/ftcluster.yaml.5)
units_in=(systemd/ftnode@.service.in systemd/ftgw.service.in)
# The files that word the log lines and define the journal fields and MESSAGE_IDs.
log_c=("$top/src/lib/log.c" "$top/src/gossip/hblog.c")
catalog=$top/systemd/ftcluster.catalog

echo "== check-docs: sources in $top, binaries in $bindir"

need() {
	command -v "$1" >/dev/null 2>&1 && return 0
	fail "$1 is not installed (apt-get install $2)"
	return 1
}

# Plain text of a man page, on long lines so that nothing wraps.
render() { groff -man -Tascii -P-cbou -rLL=250n "$1" 2>/dev/null; }

# ---- 1. man pages format cleanly ----
echo "-- man pages format without warnings"
have_groff=no
if need groff groff; then
	have_groff=yes
	for page in "${man_pages[@]}"; do
		f=$top/$page
		if [ ! -f "$f" ]; then
			fail "$page is missing"
			continue
		fi
		for dev in ps utf8; do
			groff -man -ww -z -T"$dev" "$f" >"$tmp/out" 2>&1
			if [ $? -eq 0 ] && [ ! -s "$tmp/out" ]; then
				ok "groff -man -ww -z -T$dev $page"
			else
				fail "groff -man -ww -z -T$dev $page:"
				show "$tmp/out"
			fi
		done
		if command -v man >/dev/null 2>&1; then
			LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$f" >/dev/null 2>"$tmp/out"
			if [ $? -eq 0 ] && [ ! -s "$tmp/out" ]; then
				ok "man --warnings -l $page"
			else
				fail "man --warnings -l $page:"
				show "$tmp/out"
			fi
		fi
	done
fi

# ---- 2. options: --help and OPTIONS agree ----
echo "-- every option of --help is in the man page, and vice versa"
# Long options in the OPTIONS section of a rendered page.
man_options() {
	render "$1" | sed -n '/^OPTIONS$/,/^[A-Z][A-Z ]*$/p' |
		grep -oE -- '--[a-z][a-z0-9-]*' | sort -u
}
for pair in ftnode:man/ftnode.8 ftgw:man/ftgw.8 ftctl:man/ftctl.1; do
	prog=${pair%%:*}
	page=${pair#*:}
	[ "$have_groff" = yes ] || break
	if [ ! -x "$bindir/$prog" ]; then
		fail "$bindir/$prog is not built"
		continue
	fi
	if ! "$bindir/$prog" --help >"$tmp/help" 2>&1; then
		fail "$prog --help exited non-zero"
		continue
	fi
	grep -oE -- '--[a-z][a-z0-9-]*' "$tmp/help" | sort -u >"$tmp/help.opts"
	man_options "$top/$page" >"$tmp/man.opts"
	render "$top/$page" | sed -n '/^OPTIONS$/,/^[A-Z][A-Z ]*$/p' >"$tmp/man.options"
	if [ ! -s "$tmp/help.opts" ]; then
		fail "$prog --help lists no long option"
		continue
	fi
	missing=$(comm -23 "$tmp/help.opts" "$tmp/man.opts" | tr '\n' ' ')
	extra=$(comm -13 "$tmp/help.opts" "$tmp/man.opts" | tr '\n' ' ')
	if [ -z "$missing" ]; then
		ok "$page documents every option of $prog --help ($(tr '\n' ' ' <"$tmp/help.opts"))"
	else
		fail "$page lacks options that $prog --help lists: $missing"
	fi
	if [ -z "$extra" ]; then
		ok "$page documents no option that $prog --help lacks"
	else
		fail "$page documents options that $prog --help does not list: $extra"
	fi
	# The short forms too: "-c, --config" in --help must read the same in
	# the man page.
	bad=
	while read -r pair_opt; do
		grep -qF -- "$pair_opt" "$tmp/man.options" || bad="$bad '$pair_opt'"
	done < <(grep -oE -- '-[A-Za-z], --[a-z][a-z0-9-]*' "$tmp/help")
	if [ -z "$bad" ]; then
		ok "$page gives the same short options as $prog --help"
	else
		fail "$page lacks the short forms:$bad"
	fi
done

# ---- 3. heartbeat wording and journal fields of log.c are in ftnode(8) ----
echo "-- the heartbeat log lines and journal fields of log.c are in ftnode(8)"
log_c_missing=
for f in "${log_c[@]}"; do
	[ -f "$f" ] || log_c_missing="$log_c_missing $f"
done
if [ "$have_groff" = yes ] && [ -z "$log_c_missing" ]; then
	# The page as one line with single blanks, so wrapping does not matter.
	render "$top/man/ftnode.8" | tr -s ' \n\t' '   ' >"$tmp/ftnode.txt"
	bad=
	n=0
	# Every heartbeat line format is "%d: ...": its fixed words, between the
	# conversions, must all be in the page.
	while IFS= read -r fmt; do
		n=$((n + 1))
		while IFS= read -r frag; do
			frag=$(printf '%s' "$frag" | sed 's/^ *//; s/ *$//')
			[ ${#frag} -ge 3 ] || continue
			grep -qF -- "$frag" "$tmp/ftnode.txt" || bad="$bad
        \"$frag\" (from \"$fmt\")"
		done < <(printf '%s\n' "$fmt" | sed -E 's/%(ll|l|z)?[a-z]/\n/g')
	done < <(grep -hoE '"%d: [^"]*"' "${log_c[@]}" | sed 's/^"//; s/"$//')
	if [ "$n" -eq 0 ]; then
		fail "found no heartbeat line format (\"%d: ...\") in ${log_c[*]}"
	elif [ -z "$bad" ]; then
		ok "ftnode(8) has the wording of all $n heartbeat line formats of log.c"
	else
		fail "ftnode(8) lacks heartbeat log wording:$bad"
	fi
	bad=
	for field in $(grep -hoE '"FT_[A-Z_]+=' "${log_c[@]}" | tr -d '"=' | sort -u); do
		grep -qw -- "$field" "$tmp/ftnode.txt" || bad="$bad $field"
	done
	for event in $(
		{
			grep -hoE '"FT_EVENT=[a-z_]+"' "${log_c[@]}" | sed 's/"FT_EVENT=//; s/"//'
			grep -hoE 'hb_event\(MID_[A-Z_]+, "[a-z_]+"' "${log_c[@]}" | sed 's/.*, "//; s/"//'
		} | sort -u
	); do
		grep -qw -- "$event" "$tmp/ftnode.txt" || bad="$bad FT_EVENT=$event"
	done
	if [ -z "$bad" ]; then
		ok "ftnode(8) documents every FT_ field and FT_EVENT value of log.c"
	else
		fail "ftnode(8) does not document:$bad"
	fi
elif [ -n "$log_c_missing" ]; then
	fail "missing:$log_c_missing"
fi

# ---- 4. systemd units ----
echo "-- systemd units pass systemd-analyze verify"
unitdir=$tmp/units
mkdir -p "$unitdir" "$tmp/man/man1" "$tmp/man/man5" "$tmp/man/man8"
subst_ok=yes
for in in "${units_in[@]}"; do
	out=$unitdir/$(basename "$in" .in)
	if [ ! -f "$top/$in" ]; then
		fail "$in is missing"
		subst_ok=no
		continue
	fi
	# The same substitution as the Makefile's rule, with the built binaries.
	sed -e "s|@bindir[@]|$bindir|g" -e "s|@sysconfdir[@]|/etc|g" "$top/$in" >"$out"
	if grep -n '@[A-Za-z_]*@' "$out" >"$tmp/out"; then
		fail "$in: placeholders left after substitution:"
		show "$tmp/out"
		subst_ok=no
	fi
done
if [ -f "$top/systemd/ftcluster.target" ]; then
	cp "$top/systemd/ftcluster.target" "$unitdir/"
else
	fail "systemd/ftcluster.target is missing"
	subst_ok=no
fi
if ! command -v systemd-analyze >/dev/null 2>&1; then
	echo "SKIP: systemd-analyze is not installed: the units were not verified (apt-get install systemd)"
elif [ "$subst_ok" = yes ]; then
	# Documentation=man:... is checked too: point man at these pages.
	for page in "${man_pages[@]}"; do
		sec=${page##*.}
		cp "$top/$page" "$tmp/man/man$sec/"
	done
	# A template is verified through an instance of it.
	(cd "$unitdir" && MANPATH=$tmp/man systemd-analyze verify \
		"$unitdir/ftnode@1.service" "$unitdir/ftgw.service" "$unitdir/ftcluster.target") \
		>"$tmp/out" 2>&1
	rc=$?
	# Complaints about our units fail the check; anything else the host's
	# own units provoke is shown but does not.
	grep -E 'ftnode|ftgw|ftcluster|check-docs' "$tmp/out" >"$tmp/ours"
	if [ $rc -eq 0 ] && [ ! -s "$tmp/ours" ]; then
		ok "systemd-analyze verify ftnode@1.service ftgw.service ftcluster.target"
		if [ -s "$tmp/out" ]; then
			echo "      (messages about other units:)"
			show "$tmp/out"
		fi
	else
		fail "systemd-analyze verify (exit $rc):"
		show "$tmp/out"
	fi
fi

# ---- 5. message catalog ----
echo "-- the journal message catalog covers every MESSAGE_ID of log.c"
if [ ! -f "$catalog" ]; then
	fail "systemd/ftcluster.catalog is missing"
elif [ -n "$log_c_missing" ]; then
	:
else
	# Format: comments and blank lines, then entries; each entry is a
	# "-- <32 hex digits>" line, "Key: value" header lines (Subject: and
	# Defined-By: required), a blank line, then text.
	awk '
		function endentry() {
			if (id != "" && !subject) { print FILENAME ":" idline ": entry " id " has no Subject:"; bad = 1 }
			if (id != "" && !definedby) { print FILENAME ":" idline ": entry " id " has no Defined-By:"; bad = 1 }
		}
		/^--/ {
			# (no {32}: mawk has no interval expressions)
			if ($0 !~ /^-- [0-9a-f]+$/ || length($0) != 35) { print FILENAME ":" NR ": bad entry header: " $0; bad = 1; next }
			endentry()
			id = $2; idline = NR; inhead = 1; subject = 0; definedby = 0
			if (seen[id]++) { print FILENAME ":" NR ": duplicate entry " id; bad = 1 }
			next
		}
		id == "" {
			if ($0 !~ /^(#.*)?$/) { print FILENAME ":" NR ": text before the first entry"; bad = 1 }
			next
		}
		inhead && /^$/ { inhead = 0; next }
		inhead {
			if ($0 !~ /^[A-Za-z][A-Za-z-]*: ./) { print FILENAME ":" NR ": bad header line: " $0; bad = 1 }
			if ($0 ~ /^Subject: /) subject = 1
			if ($0 ~ /^Defined-By: /) definedby = 1
			next
		}
		END { endentry(); exit bad }
	' "$catalog" >"$tmp/out" 2>&1
	if [ $? -eq 0 ]; then
		ok "ftcluster.catalog is well formed ($(grep -c '^-- ' "$catalog") entries)"
	else
		fail "ftcluster.catalog:"
		show "$tmp/out"
	fi
	grep -hoE '^#define MID_[A-Z_]+ "[^"]*"' "${log_c[@]}" | sed 's/.*"\(.*\)"/\1/' | sort >"$tmp/ids.log"
	grep -oE '^-- [0-9a-f]{32}$' "$catalog" | cut -c4- | sort >"$tmp/ids.cat"
	bad=$(grep -vxE '[0-9a-f]{32}' "$tmp/ids.log" | tr '\n' ' ')
	dups=$(uniq -d "$tmp/ids.log" | tr '\n' ' ')
	missing=$(sort -u "$tmp/ids.log" | comm -23 - <(sort -u "$tmp/ids.cat") | tr '\n' ' ')
	stale=$(sort -u "$tmp/ids.cat" | comm -13 <(sort -u "$tmp/ids.log") - | tr '\n' ' ')
	if [ ! -s "$tmp/ids.log" ]; then
		fail "found no #define MID_... in ${log_c[*]}"
	elif [ -n "$bad$dups" ]; then
		fail "log.c: MESSAGE_IDs must be 32 lower-case hex digits and unique: $bad$dups"
	elif [ -n "$missing" ]; then
		fail "ftcluster.catalog has no entry for: $missing"
	else
		ok "ftcluster.catalog has an entry for each of the $(wc -l <"$tmp/ids.log") MESSAGE_IDs of log.c"
	fi
	if [ -n "$stale" ]; then
		fail "ftcluster.catalog has entries for IDs log.c does not define: $stale"
	fi
	# journald's own parser, on a private root: never the host's database.
	if command -v journalctl >/dev/null 2>&1; then
		root=$tmp/root
		mkdir -p "$root/usr/lib/systemd/catalog"
		cp "$catalog" "$root/usr/lib/systemd/catalog/"
		if journalctl --root="$root" --update-catalog >"$tmp/out" 2>&1 &&
			journalctl --root="$root" --list-catalog >"$tmp/list" 2>>"$tmp/out"; then
			n=$(grep -c . "$tmp/list")
			if [ "$n" -eq "$(grep -c '^-- ' "$catalog")" ] && [ ! -s "$tmp/out" ]; then
				ok "journalctl --root=TMP --update-catalog parses all $n entries"
			else
				fail "journalctl --update-catalog (private root) listed $n entries:"
				show "$tmp/out" "$tmp/list"
			fi
		else
			fail "journalctl --update-catalog (private root) refused the catalog:"
			show "$tmp/out"
		fi
	else
		echo "SKIP: journalctl is not installed: catalog checked by format only"
	fi
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
