# shellcheck shell=bash
# The browser for the dashboard specs (tests/Durar.Api.Tests/Ui), sourced by .ci/run (not executed on its own).
#
#   durar_browser_install   installs Debian's `chromium` when /usr/bin/chromium is missing and exports DURAR_TEST_CHROMIUM
#                           (browsers cannot be downloaded here: Playwright drives this one, never one of its own)
#   durar_playwright_node   checks that the Playwright driver can run: it runs the Node.js bundled in the Microsoft.Playwright
#                           NuGet package (copied next to the test assembly as .playwright/node/<platform>/node); where that
#                           binary cannot run on this machine, it provides Debian's nodejs and exports PLAYWRIGHT_NODEJS_PATH
#
# Every function returns non-zero on failure after printing why; the caller decides whether to continue (the specs then
# fail with the same instructions: they never skip).

durar_browser_sudo() {
  if [ "$(id -u)" -eq 0 ]; then echo ""; return 0; fi
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then echo "sudo -n"; return 0; fi
  return 1
}

# apt-get install of the given Debian packages, quietly, with the last lines of the output on failure.
durar_browser_apt() {
  local sudo log
  if ! sudo="$(durar_browser_sudo)"; then echo "browser: not root (no passwordless sudo): cannot install $*" >&2; return 1; fi
  if ! command -v apt-get >/dev/null 2>&1; then echo "browser: no apt-get to install $*" >&2; return 1; fi
  log="$(mktemp)"
  if ! { $sudo apt-get update && $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@"; } >"$log" 2>&1; then
    echo "browser: apt-get install $* failed; last lines of its output:" >&2
    tail -n 20 "$log" >&2
    rm -f "$log"
    return 1
  fi
  rm -f "$log"
}

durar_browser_install() {
  if [ -n "${DURAR_TEST_CHROMIUM:-}" ] && [ -x "$DURAR_TEST_CHROMIUM" ]; then
    echo "browser: using DURAR_TEST_CHROMIUM=$DURAR_TEST_CHROMIUM"
    return 0
  fi
  if [ ! -x /usr/bin/chromium ]; then
    local started=$SECONDS
    echo "browser: installing Chromium from Debian packages (apt-get install chromium)..."
    durar_browser_apt chromium || return 1
    [ -x /usr/bin/chromium ] || { echo "browser: apt-get succeeded but there is no /usr/bin/chromium" >&2; return 1; }
    echo "browser: installed in $((SECONDS - started)) s"
  fi
  export DURAR_TEST_CHROMIUM=/usr/bin/chromium
  echo "browser: $("$DURAR_TEST_CHROMIUM" --version 2>/dev/null || echo "$DURAR_TEST_CHROMIUM")"
}

# The Microsoft.Playwright version pinned in Directory.Packages.props.
durar_playwright_version() {
  sed -n 's/.*PackageVersion Include="Microsoft.Playwright" Version="\([^"]*\)".*/\1/p' Directory.Packages.props | head -1
}

durar_playwright_node() {
  if [ -n "${PLAYWRIGHT_NODEJS_PATH:-}" ]; then
    echo "browser: Playwright driver runs PLAYWRIGHT_NODEJS_PATH=$PLAYWRIGHT_NODEJS_PATH"
    return 0
  fi
  local version platform packages bundled
  version="$(durar_playwright_version)"
  case "$(uname -m)" in
    x86_64) platform=linux-x64 ;;
    aarch64|arm64) platform=linux-arm64 ;;
    *) platform="" ;;
  esac
  # The package (with its driver) comes from the NuGet restore that dotnet test does anyway; restore it first to look at it.
  dotnet restore tests/Durar.Api.Tests/Durar.Api.Tests.csproj >/dev/null 2>&1
  packages="$(dotnet nuget locals global-packages --list 2>/dev/null | sed -n 's/^global-packages: *//p')"
  bundled="${packages%/}/microsoft.playwright/$version/.playwright/node/$platform/node"
  if [ -n "$platform" ] && [ -f "$bundled" ] && { [ -x "$bundled" ] || chmod +x "$bundled"; } && "$bundled" --version >/dev/null 2>&1; then
    echo "browser: Playwright $version driver runs its bundled Node.js $("$bundled" --version)"
    return 0
  fi
  echo "browser: the Node.js bundled with Playwright $version cannot run here (${bundled}); using the system's"
  if ! command -v node >/dev/null 2>&1; then
    durar_browser_apt nodejs || return 1
  fi
  local node major
  node="$(command -v node)"
  major="$("$node" --version 2>/dev/null | sed -n 's/^v\([0-9]*\).*/\1/p')"
  if [ -z "$major" ] || [ "$major" -lt 18 ]; then
    echo "browser: $node is $("$node" --version 2>/dev/null); the Playwright driver needs Node.js 18 or later" >&2
    return 1
  fi
  export PLAYWRIGHT_NODEJS_PATH="$node"
  echo "browser: Playwright driver runs $node ($("$node" --version))"
}
