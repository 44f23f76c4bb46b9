#!/usr/bin/env bash
# A release-shaped build, made as README "Releases" makes a release, and checked: every library module with its
# jar, -sources and -javadoc jars, and poms that name the release version with no ${revision} left. At a tag vX.Y.Z
# the version is X.Y.Z and CHANGELOG.md must have its section; elsewhere it is the root pom's revision without
# -SNAPSHOT. The artifacts go to target/release-repo (a file repository), not into the local Maven repository; the
# modules' target/ folders and the image are left at the release version (mvn package builds them again).
#   bash .ci/release-shape.sh      (about 30 s; CI runs it last)
set -euo pipefail
cd "$(dirname "$0")/.."
fail() { echo "release-shape: FAILED: $*" >&2; exit 1; }
revision=$(sed -n 's:.*<revision>\(.*\)</revision>.*:\1:p' pom.xml)
release=${revision%-SNAPSHOT}
tag=$(git describe --exact-match --tags HEAD 2>/dev/null || true)
if [[ "$tag" =~ ^v[0-9] ]]; then
  release=${tag#v}
  grep -q "^## \[$release\]" CHANGELOG.md || fail "tag $tag, but CHANGELOG.md has no section '## [$release]'"
fi
repo=$PWD/target/release-repo
rm -rf "$repo"
mvn -B -q deploy -DskipTests -Drevision="$release" -Dmaven.install.skip=true \
    -DaltDeploymentRepository="release::default::file://$repo"
checked=0
for module in api transport recovery host; do
  dir="$repo/io/twinline/twinline-$module/$release"
  for file in "twinline-$module-$release.jar" "twinline-$module-$release-sources.jar" \
              "twinline-$module-$release-javadoc.jar" "twinline-$module-$release.pom"; do
    [ -s "$dir/$file" ] || fail "no $dir/$file"
  done
  checked=$((checked + 1))
done
for pom in "$repo"/io/twinline/*/"$release"/*.pom; do
  grep -q "\${revision}" "$pom" && fail "$pom still says \${revision}"
  grep -q "<version>$release</version>" "$pom" || fail "$pom does not name version $release"
done
echo "release-shape: twinline $release: $checked library modules with jar, sources and javadoc; every pom names $release"
