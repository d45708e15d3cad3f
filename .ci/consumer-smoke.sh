#!/usr/bin/env bash
# Consumer smoke test: use the packages as a new user would. Packs both packages (Release, with symbols) into a
# temporary feed, makes fresh apps in a temporary folder whose nuget.config adds that feed to this machine's usual
# NuGet source, compiles every ```csharp block of README.md and the two PACKAGE.md files (each as the Program.cs of
# its own app, so the docs cannot drift from the API), then runs the quick start marked <!-- snippet: run --> on the
# bundled data copied into its folder and requires ten recommendation lines. Exits non-zero on the first failure,
# after a line starting "consumer-smoke: FAILED". Conventions: .ci/readme-snippets.py.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

started=$(date +%s)
work=$(mktemp -d "${TMPDIR:-/tmp}/lifelongprefs-consumer.XXXXXX")
# CONSUMER_SMOKE_KEEP=1 keeps the folder (packages, apps, output) for a look afterwards.
if [ "${CONSUMER_SMOKE_KEEP:-0}" = 1 ]; then echo "consumer-smoke: keeping $work"; else trap 'rm -rf "$work"' EXIT; fi
log="$work/log.txt"

say() { echo "consumer-smoke: $* ($(( $(date +%s) - started )) s)"; }
fail() { # message [show-log]
  echo "consumer-smoke: FAILED: $1" >&2
  if [ "${2:-yes}" = yes ] && [ -s "$log" ]; then tail -n 40 "$log" >&2; fi
  exit 1
}
quiet() { "$@" >"$log" 2>&1; }

# 1. Pack. The DI package's pack builds the library first (project reference), so it goes second.
feed="$work/feed"
for project in src/LifelongPrefs src/LifelongPrefs.Extensions.DependencyInjection; do
  quiet dotnet pack "$project" -c Release -o "$feed" || fail "dotnet pack $project"
done
for id in LifelongPrefs LifelongPrefs.Extensions.DependencyInjection; do
  ls "$feed/$id".[0-9]*.nupkg >/dev/null 2>&1 || fail "no $id .nupkg in the feed"
  ls "$feed/$id".[0-9]*.snupkg >/dev/null 2>&1 || fail "no $id .snupkg (symbols) in the feed"
done
nupkg=$(ls "$feed"/LifelongPrefs.[0-9]*.nupkg)
version=${nupkg##*/LifelongPrefs.}
version=${version%.nupkg}
say "packed LifelongPrefs $version and its DI package, with symbols"

# 2. A consumer's folder. Sources: the feed plus whatever the machine's user-level NuGet.Config names (NuGet merges
# the two files). Packages land in a private folder, so a rebuilt package of the same version is never read from a
# stale cache; what the machine already holds is reused through the fallback folders.
apps="$work/apps"
mkdir -p "$apps"
user_packages=$(dotnet nuget locals global-packages --list | sed -n 's/^global-packages: *//p')
{
  echo '<?xml version="1.0" encoding="utf-8"?>'
  echo '<configuration>'
  echo "  <config><add key=\"globalPackagesFolder\" value=\"$work/packages\" /></config>"
  echo "  <packageSources><add key=\"lifelongprefs-smoke\" value=\"$feed\" /></packageSources>"
  echo '  <fallbackPackageFolders>'
  for folder in "$user_packages" /opt/nuget/packages; do
    if [ -n "$folder" ] && [ -d "$folder" ]; then echo "    <add key=\"$folder\" value=\"$folder\" />"; fi
  done
  echo '  </fallbackPackageFolders>'
  echo '</configuration>'
} >"$apps/nuget.config"

# 3. The snippets.
python3 .ci/readme-snippets.py "$work/snippets" README.md src/LifelongPrefs/PACKAGE.md \
  src/LifelongPrefs.Extensions.DependencyInjection/PACKAGE.md >"$work/snippets.txt" || fail "extracting the csharp blocks" no
mapfile -t snippets <"$work/snippets.txt"
[ "${#snippets[@]}" -gt 0 ] || fail "no csharp blocks found"

# One template app per kind (console, web) with both packages added, copied once per snippet.
make_template() { # kind template
  local kind=$1 template=$2
  quiet dotnet new "$template" -o "$apps/template-$kind" -n Snippet --no-restore || fail "dotnet new $template"
  for id in LifelongPrefs LifelongPrefs.Extensions.DependencyInjection; do
    quiet dotnet add "$apps/template-$kind/Snippet.csproj" package "$id" --version "$version" \
      || fail "dotnet add package $id $version ($template app)"
  done
}
make_template console console
if printf '%s\n' "${snippets[@]}" | grep -q ' web '; then make_template web web; fi

source=$(sed -n 's/.*"source": *"\([^"]*\)".*/\1/p' "$work/packages/lifelongprefs/$version/.nupkg.metadata" 2>/dev/null || true)
[ "$source" = "$feed" ] || fail "LifelongPrefs $version was restored from '$source', not from the packed feed"

run_dir=""
projects=()
for entry in "${snippets[@]}"; do
  read -r n kind origin <<<"$entry"
  template=console
  if [ "$kind" = web ]; then template=web; fi
  dir="$apps/snippet-$n"
  cp -r "$apps/template-$template" "$dir"
  cp "$work/snippets/$n.cs" "$dir/Program.cs"
  echo "$origin" >"$dir/origin.txt"
  projects+=("$dir/Snippet.csproj")
  if [ "$kind" = run ]; then run_dir=$dir; fi
done
[ -n "$run_dir" ] || fail "no block marked <!-- snippet: run -->" no
say "${#snippets[@]} csharp blocks extracted, $(printf '%s\n' "${snippets[@]}" | grep -c ' web ' || true) of them web"

# One solution builds them all (in parallel, one restore); on failure name the block of each error.
quiet dotnet new sln -o "$apps" -n Snippets --format sln || fail "dotnet new sln"
quiet dotnet sln "$apps/Snippets.sln" add "${projects[@]}" || fail "dotnet sln add"
if ! dotnet build "$apps/Snippets.sln" -c Release >"$log" 2>&1; then
  for entry in "${snippets[@]}"; do
    read -r n kind origin <<<"$entry"
    if grep -q "snippet-$n/.*error" "$log"; then
      echo "consumer-smoke: the csharp block at $origin does not compile:" >&2
      grep "snippet-$n/.*error" "$log" | sed 's/ \[.*\]$//' | sort -u | sed "s|$apps/snippet-$n/||" >&2
    fi
  done
  fail "a README/PACKAGE.md csharp block does not compile (errors above; paths are lines of the block)" no
fi
say "every csharp block compiles against the packages"

# 4. Run the quick start on the bundled data, copied in as a consumer would (OnlineRetail.LocateSample finds it in the
# working directory).
cp samples/data/uci-online-retail/online_retail.csv.gz "$run_dir/"
output="$work/run.txt"
# The time limit only stops a hung run; a quiet 2-core machine needs well under a minute.
if ! (cd "$run_dir" && env -u LIFELONGPREFS_ONLINE_RETAIL timeout 300 dotnet bin/Release/net10.0/Snippet.dll >"$output" 2>&1); then
  cat "$output" >&2
  fail "the quick start ($(cat "$run_dir/origin.txt")) did not run" no
fi
# A recommendation line: item id, score with three decimals, reason.
lines=$(grep -cE '^[^ ]+ -?[0-9]+\.[0-9]{3} [A-Za-z]+$' "$output" || true)
if [ "$lines" -ne 10 ]; then
  cat "$output" >&2
  fail "the quick start printed $lines recommendation lines, not 10" no
fi
say "the quick start ($(cat "$run_dir/origin.txt")) printed 10 recommendations:"
sed 's/^/  | /' "$output"
echo "consumer-smoke: passed in $(( $(date +%s) - started )) s"
