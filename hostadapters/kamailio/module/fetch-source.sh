#!/bin/sh
# Fetches the source of the installed Kamailio (exactly its Debian version)
# into $1 and runs `make cfg` there, without touching the system's apt
# configuration: a private deb-src list derived from the machine's own
# Debian entries, and private state under $1.
set -eu
out=$1
ver=$(dpkg-query -W -f='${Version}' kamailio)
up=${ver%-*}
mkdir -p "$out/apt/lists/partial" "$out/apt/archives/partial"
src=$out/apt/sources.sources
: >"$src"
for f in /etc/apt/sources.list.d/*.sources; do
	[ -f "$f" ] || continue
	# Keep only Debian deb stanzas; turn them into deb-src.
	awk 'BEGIN{RS="";ORS="\n\n"} /Types:[^\n]*deb/ && /debian/ {gsub(/Types:[^\n]*/,"Types: deb-src"); print}' "$f" >>"$src"
done
for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
	[ -f "$f" ] || continue
	sed -n 's/^deb \(.*debian.*\)/deb-src \1/p' "$f" >>"$src"
done
opts="-o Dir::Etc::SourceList=/dev/null -o Dir::Etc::SourceParts=$out/apt/parts -o Dir::State::Lists=$out/apt/lists -o Dir::Cache::Archives=$out/apt/archives"
mkdir -p "$out/apt/parts"; cp "$src" "$out/apt/parts/sipkeep.sources"
if [ ! -f "$out/kamailio_$up.orig.tar.gz" ] && ! ls "$out"/kamailio_"$up"*.orig.tar.* >/dev/null 2>&1; then
	apt-get $opts -qq update
	(cd "$out" && apt-get $opts -qq source --download-only "kamailio=$ver")
fi
if [ ! -d "$out/src/src/core" ]; then
	rm -rf "$out/src"
	(cd "$out" && dpkg-source --no-check -x kamailio_"$ver".dsc src >/dev/null)
fi
if [ ! -f "$out/src/src/config.mak" ]; then
	make -C "$out/src/src" cfg >/dev/null
fi
echo "$out/src"
