#!/usr/bin/env bash
# Benchmark 5: a 2 GiB frozen input copied by one step. The replay verifies the frozen blob
# (read and hash 2 GiB) while the step already runs on it: the blob is copied into the step's
# staged /in (host mounts), the step copies it to /out, and the replay moves the output into
# place and hashes it. Baselines: `openssl dgst -sha256` of the file (the
# floor: the bytes must be read and hashed at least once) and `docker cp` of it into a
# container. Peak RSS of the replay-runner process from /usr/bin/time -v.
source "$(dirname "$0")/lib.sh"
bench_setup
work="$out_root/05"
rm -rf "$work" && mkdir -p "$work"
mib=${PAYLOAD_MIB:-2048}
big="$work/big.bin"
log "writing $mib MiB of random bytes"
# (head closes the pipe early: openssl's SIGPIPE is expected, hence the process substitution.)
head -c $((mib * 1024 * 1024)) < <(openssl enc -aes-128-ctr -pass pass:bench -nosalt -pbkdf2 </dev/zero 2>/dev/null) >"$big"

log "recording the copy step (PostgreSQL)"
pg_url=$(fresh_database bench_05)
export REPLAY_HOME="$work/home" DATABASE_URL="$pg_url"
src=$(cli add "$big" --id big)
copied=$(cli run transform --input "$src" --code "$bench_dir/pipeline/copy.py" --id big-copy)

container=bench-05-docker-cp
docker rm -f -v "$container" >/dev/null 2>&1 || true
measure 05-payload \
  --warmup 1 \
  --prepare "docker rm -f -v $container >/dev/null 2>&1; docker create --name $container -v /in $image true >/dev/null; rm -rf $REPLAY_HOME/replays" \
  -n "openssl dgst -sha256" "openssl dgst -sha256 $big" \
  -n "docker cp" "docker cp $big $container:/in/big.bin" \
  -n "rerun (copy step)" "node $cli_js rerun $copied"
docker rm -f -v "$container" >/dev/null 2>&1 || true

log "peak RSS of rerun (3 runs)"
: >"$work/rss.txt"
for _ in 1 2 3; do
  rm -rf "$REPLAY_HOME/replays"
  /usr/bin/time -v node "$cli_js" rerun "$copied" 2>&1 >/dev/null | awk -F': ' '/Maximum resident set size/{print $2}' >>"$work/rss.txt"
done

{
  node "$bench_dir/summarise.mjs" "$out_root/05-payload.json"
  node -e '
    const fs = require("fs");
    const r = JSON.parse(fs.readFileSync(process.argv[1], "utf8")).results;
    const med = (xs) => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };
    const gib = Number(process.argv[2]) / 1024;
    console.log("");
    for (const x of r) console.log(`${x.command}: ${(gib / med(x.times)).toFixed(2)} GiB/s`);
    const floor = med(r[0].times), replay = med(r[2].times);
    console.log(`replay throughput / hashing floor: ${(floor / replay).toFixed(2)}x (goal >= 0.33x)`);
    const rss = fs.readFileSync(process.argv[3], "utf8").trim().split("\n").map(Number);
    console.log(`peak RSS of rerun: ${rss.map((k) => (k / 1024).toFixed(0)).join(", ")} MiB (goal < 200 MB)`);
  ' "$out_root/05-payload.json" "$mib" "$work/rss.txt"
} | tee "$out_root/05-payload.md"
# 2 GiB of blob and replayed outputs per run stay otherwise.
rm -rf "$big" "$REPLAY_HOME"
