#!/usr/bin/env bash
# Builds the local NuGet feed of the README's embedding section: the Durar.Actors and Durar.Persistence packages (with
# their .snupkg symbol packages) in artifacts/feed. Then, in your application:
#   dotnet add package Durar.Actors --source <this repository>/artifacts/feed
#   dotnet add package Durar.Persistence --source <this repository>/artifacts/feed
# Usage: bash samples/pack.sh [version]   (default: VersionPrefix in src/Package.props)
set -euo pipefail
cd "$(dirname "$0")/.."

feed=artifacts/feed
mkdir -p "$feed"
args=(-c Release -o "$feed" -p:ContinuousIntegrationBuild=true)
if [ $# -gt 0 ]; then args+=(-p:Version="$1"); fi

for project in src/Durar.Actors src/Durar.Persistence; do
  dotnet pack "$project" "${args[@]}"
done
echo "feed: $(pwd)/$feed"
ls -1 "$feed"
