# Shared by the shell demos (source it after setting W and PY): creates $W with an empty $W/results.txt, and
# top1 RUN CONFIG CHECKPOINT tests a checkpoint with tools/test.py and appends "RUN TOP1" there (and prints it).
mkdir -p "$W"
: > "$W/results.txt"

top1() {
  local json value
  json=$($PY tools/test.py "$2" "$3" --work-dir "$W/test/$1" | tail -1)
  value=$($PY -c "import json, sys; print(json.loads(sys.argv[1])['accuracy/top1'])" "$json")
  echo "$1 $value" | tee -a "$W/results.txt"
}
