#!/usr/bin/env bash
# fetch.sh POM DEST [MAVEN_ARGS...]: copy the runtime jars POM depends on into DEST, once.
# DEST/.complete records a hash of the pom and the arguments (e.g. -Dcassandra.version=5.0.7), so a
# fresh clone (new file times) does not fetch again, and a changed pom or version does. The jars are fetched into a temporary directory and moved into place, so
# a test or node that is using DEST never sees it half-written.
set -euo pipefail
pom=$1
dest=$2
shift 2
want=$( (cat "$pom"; printf '%s\n' "$@") | sha256sum | cut -d' ' -f1)
if [ -f "$dest/.complete" ] && [ "$(cat "$dest/.complete")" = "$want" ]; then
  exit 0
fi
parent=$(dirname "$dest")
mkdir -p "$parent"
tmp=$(mktemp -d "$parent/.fetch.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
mvn -q -B org.apache.maven.plugins:maven-dependency-plugin:3.6.1:copy-dependencies \
  -DincludeScope=runtime -f "$pom" -DoutputDirectory="$tmp" "$@"
echo "$want" > "$tmp/.complete"
if [ -d "$dest" ]; then
  old="$parent/.old.$$"
  mv "$dest" "$old"
  mv "$tmp" "$dest"
  rm -rf "$old"
else
  mv "$tmp" "$dest"
fi
trap - EXIT
echo "fetched $(ls "$dest"/*.jar | wc -l) jars into $dest"
