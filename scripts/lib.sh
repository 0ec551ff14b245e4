# Shared by scripts/demo and scripts/test: system tools from apt, and the project's .venv.

# ensure_tools CMD:PKG… — apt-get install PKG for each CMD not on PATH (sudo unless root).
ensure_tools() {
  local need=() pair
  for pair in "$@"; do
    command -v "${pair%%:*}" >/dev/null || need+=(${pair#*:})
  done
  ((${#need[@]})) || return 0
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}"
}

# ensure_venv SPEC — .venv with the project installed as SPEC (e.g. '.' or '.[test]').
ensure_venv() {
  [ -x .venv/bin/python ] || python3 -m venv .venv
  .venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip
  .venv/bin/python -m pip install -q --disable-pip-version-check -e "$1"
}
